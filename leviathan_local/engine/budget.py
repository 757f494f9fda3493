"""Cost budgets: `limits.max_cost_usd_per_task` (all of a task's attempts, from the event log)
and `limits.max_cost_usd_per_run` (what the run's attempts spent so far). Reaching one stops the
attempt after the phase that reached it, keeps its work on the branch, and blocks the task with
`blocked_type: budget` until a human raises the limit and unblocks it. Costs are what the agents
reported, or what policy's `agent.prices` made of their tokens; a phase of unknown cost adds 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from leviathan_local.config.policy import Limits
from leviathan_local.events import Event, read_events
from leviathan_local.planning.cost import agent_usd
from leviathan_local.repo_paths import RepoPaths


def known_cost(agent: object) -> float:
    """What a phase's agent ledger says it cost; a phase of unknown cost spent nothing we know of."""
    return agent_usd(agent) or 0.0


def task_spent(events: list[Event]) -> float:
    return sum(known_cost(event.data.get("agent")) for event in events if event.kind == "phase.finished")


@dataclass(frozen=True)
class Budget:
    """What one attempt may still spend: what its task spent before, and the run's remainder."""

    task_limit: float | None = None
    task_spent_before: float = 0.0
    run_left: float | None = None  # None: not in a run, or no run limit

    @classmethod
    def for_attempt(cls, paths: RepoPaths, task_id: str, limits: Limits, run_left: float | None,
                    spent_before: float | None = None) -> Budget:
        """``spent_before``: what the task spent, when the log at ``paths`` does not know it (a
        remote worker's clone: its controller tells it)."""
        if limits.max_cost_usd_per_task is None:
            return cls(run_left=run_left)
        spent = task_spent(read_events(paths, task_id)) if spent_before is None else spent_before
        return cls(limits.max_cost_usd_per_task, spent, run_left)

    def reached(self, spent_in_attempt: float) -> str | None:
        """Why the attempt must stop, having spent ``spent_in_attempt`` so far; None if it may go on."""
        if self.task_limit is not None and self.task_spent_before + spent_in_attempt >= self.task_limit:
            return (f"the task's cost reached ${self.task_spent_before + spent_in_attempt:.4f} of "
                    f"limits.max_cost_usd_per_task ${self.task_limit:g}")
        if self.run_left is not None and spent_in_attempt >= self.run_left:
            return f"the run's cost reached limits.max_cost_usd_per_run (this attempt spent ${spent_in_attempt:.4f})"
        return None
