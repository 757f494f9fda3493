from __future__ import annotations

from datetime import datetime, timezone

import pytest

from leviathan_local.backlog.model import Status, Task
from leviathan_local.config.policy import EscalationRules, Policy, WsjfSettings
from leviathan_local.planning.selection import select
from leviathan_local.planning.wsjf import explain, score_task

NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)


def task(task_id: str = "t", **data) -> Task:
    return Task(id=task_id, data={"id": task_id, **data}, status=Status.READY)


def test_formula_with_given_inputs_and_aging() -> None:
    score = score_task(task(impact=8, time_criticality=5, risk_reduction=3, effort=2,
                            created_at="2026-11-19T12:00:00Z"), Policy(), NOW)
    assert score.terms["days_old"] == 3.0
    assert score.terms["aging"] == pytest.approx(1.3)
    assert score.value == pytest.approx((8 + 5 + 3) * 1.3 / 2)
    assert score.estimated == ()


def test_aging_is_capped_and_configurable() -> None:
    old = task(impact=1, time_criticality=1, risk_reduction=1, effort=1, created_at="2025-01-01T00:00:00Z")
    assert score_task(old, Policy(), NOW).terms["aging"] == 2.0
    policy = Policy(wsjf=WsjfSettings(aging_per_day=0.5, aging_cap=3.0))
    assert score_task(old, policy, NOW).value == pytest.approx(9.0)


def test_future_created_at_never_ages_negatively() -> None:
    future = task(impact=1, time_criticality=1, risk_reduction=1, effort=1, created_at="2027-01-01T00:00:00Z")
    assert score_task(future, Policy(), NOW).terms["aging"] == 1.0


@pytest.mark.parametrize(("text", "impact"), [
    ("Fix the security hole", 8), ("App crashes on start", 8), ("Error when saving", 5),
    ("Minor cleanup", 3), ("Add a button", 5),
])
def test_impact_estimated_from_keywords(text: str, impact: int) -> None:
    score = score_task(task(title=text), Policy(), NOW)
    assert score.terms["impact"] == impact
    assert "impact" in score.estimated


def test_estimates_from_priority_size_and_type_are_flagged() -> None:
    score = score_task(task(priority="high", estimated_size="small", type="security"), Policy(), NOW)
    assert (score.terms["time_criticality"], score.terms["effort"], score.terms["risk_reduction"]) == (8, 2, 8)
    assert set(score.estimated) == {"impact", "time_criticality", "risk_reduction", "effort", "created_at"}
    assert score.estimate_reasons["effort"] == "estimated_size small"
    lines = explain(score)
    assert "effort 2 (estimated: estimated_size small)" in lines
    assert any(line.startswith("score ") for line in lines)
    assert score.escalations == ("type security",)  # security work waits for a human by default
    assert "escalated: type security" in lines


def test_given_inputs_are_never_estimated() -> None:
    score = score_task(task(impact=2, priority="high", time_criticality=1), Policy(), NOW)
    assert score.terms["impact"] == 2 and score.terms["time_criticality"] == 1
    assert "impact" not in score.estimated and "time_criticality" not in score.estimated


def test_split_suggested_above_the_slice_threshold() -> None:
    assert score_task(task(effort=8), Policy(), NOW).split_suggested
    assert not score_task(task(effort=5), Policy(), NOW).split_suggested


def test_escalation_rules() -> None:
    policy = Policy(escalation=EscalationRules(effort_at_least=8, keywords=("auth", "migration"), paths=("db/",)))
    assert score_task(task(effort=8), policy, NOW).escalations == ("effort 8 >= 8",)
    assert score_task(task(title="New authentication flow"), policy, NOW).escalations == ('keyword "auth" in title',)
    assert score_task(task(tags=["migration"]), policy, NOW).escalations == ('keyword "migration" in tags',)
    assert score_task(task(allowed_paths=["db/schema/"]), policy, NOW).escalations
    approved = score_task(task(effort=13, escalation_approved_at="2026-11-20T00:00:00Z"), policy, NOW)
    assert approved.escalations == () and approved.escalation_approved
    assert any("approved by a human" in line for line in explain(approved))


def test_ties_break_by_older_created_at_then_id() -> None:
    common = dict(impact=3, time_criticality=3, risk_reduction=3, effort=3, allowed_paths=["src/"],
                  acceptance_criteria=["x"])
    tasks = [
        task("b", **common, created_at="2026-11-22T12:00:00Z"),
        task("a", **common, created_at="2026-11-22T12:00:00Z"),
        task("z", **common),
        task("c", **common, created_at="2026-11-22T11:00:00Z"),
    ]
    # "c" is older but its aging still rounds the score up: give every task the same age instead.
    policy = Policy(wsjf=WsjfSettings(aging_per_day=0.0))
    assert [r.task.id for r in select(tasks, policy, NOW).actionable] == ["c", "a", "b", "z"]
