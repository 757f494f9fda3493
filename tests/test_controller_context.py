"""What a controller tells a remote worker of a task (engine/controller_context.py)."""

from __future__ import annotations

import pytest

from leviathan_local.config.policy import Limits
from leviathan_local.engine.budget import Budget
from leviathan_local.engine.controller_context import ControllerContext, ControllerContextError
from leviathan_local.engine.prompt import PreviousFailure
from leviathan_local.repo_paths import RepoPaths


def test_the_context_survives_its_journey_through_the_environment() -> None:
    context = ControllerContext(PreviousFailure("attempt-add-1a2b3c", "green", "tests still fail", "FAILED (x=1)"),
                                1.25, "keep it short")
    assert ControllerContext.from_json(context.to_json()) == context
    assert ControllerContext.from_json(ControllerContext().to_json()) == ControllerContext()


@pytest.mark.parametrize("text", ["not json", "[]", '{"previous_failure": {"phase": "green"}}',
                                  '{"task_spent_usd": "lots"}'])
def test_a_context_that_is_not_one_is_refused_naming_the_variable(text: str) -> None:
    with pytest.raises(ControllerContextError) as refused:
        ControllerContext.from_json(text)
    assert "$LEVIATHAN_CONTROLLER_CONTEXT" in refused.value.message and refused.value.exit_code == 2


def test_the_spend_the_controller_tells_counts_against_the_task_budget(repo_paths: RepoPaths) -> None:
    # The clone's log knows of no spend; the controller's figure is the one that counts.
    budget = Budget.for_attempt(repo_paths, "add", Limits(max_cost_usd_per_task=2.0), None, spent_before=1.5)
    assert budget.reached(0.4) is None
    assert "reached $2.0000 of limits.max_cost_usd_per_task" in str(budget.reached(0.5))
