"""What a controller knows of a task that a remote worker's clone cannot: the task's last
counted failure (its reason and test output, from the main checkout's event log and attempt
logs), what its attempts have spent (for `limits.max_cost_usd_per_task`), and a reviewer's
feedback not yet committed. A Job's worker gets it in one environment variable, so that its
attempt is prompted and budgeted as a local attempt would be.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from leviathan_local.backlog.model import Task
from leviathan_local.config.policy import Policy
from leviathan_local.engine.budget import task_spent
from leviathan_local.engine.prompt import PreviousFailure, previous_failure
from leviathan_local.errors import LeviathanError
from leviathan_local.events import read_events
from leviathan_local.repo_paths import RepoPaths

ENV = "LEVIATHAN_CONTROLLER_CONTEXT"
MAX_OUTPUT_CHARS = 16_000  # a Job's whole spec must stay far below the API server's 1.5 MB


class ControllerContextError(LeviathanError):
    title = "Bad controller context"


@dataclass(frozen=True)
class ControllerContext:
    previous_failure: PreviousFailure | None = None
    task_spent_usd: float = 0.0
    review_feedback: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ControllerContext:
        try:
            data = json.loads(text)
            previous = data.get("previous_failure")
            return cls(PreviousFailure(**previous) if previous else None, float(data.get("task_spent_usd") or 0.0),
                       data.get("review_feedback"))
        except (ValueError, TypeError, AttributeError) as error:
            raise ControllerContextError(f"${ENV} is not the controller's context: {error}",
                                         hint="it is set by the Kubernetes runner; unset it to run the attempt "
                                              "with only what the clone knows") from None


def controller_context(paths: RepoPaths, policy: Policy, task: Task) -> ControllerContext:
    """The context of ``task`` as the main checkout at ``paths`` knows it."""
    previous = previous_failure(paths, task.id, policy.tdd.test_command, policy.tdd.red_command)
    if previous is not None and previous.test_output and len(previous.test_output) > MAX_OUTPUT_CHARS:
        previous = PreviousFailure(previous.attempt_id, previous.phase, previous.reason,
                                   "…" + previous.test_output[-MAX_OUTPUT_CHARS:])
    feedback = task.get("review_feedback")
    return ControllerContext(previous, task_spent(read_events(paths, task.id)),
                             str(feedback) if feedback is not None else None)
