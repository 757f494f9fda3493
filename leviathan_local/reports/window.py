"""What happened in a report's window of the event log: the attempts and their phases.

A run's report covers the events from its `run.started`; an on-demand report covers the events
after the previous report (each report records the last event it saw, `events_through`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leviathan_local.events import Event
from leviathan_local.planning.cost import phase_cost, total

OUTCOME_BY_KIND = {"attempt.succeeded": "succeeded", "attempt.failed": "failed", "attempt.escalated": "needs_human"}


@dataclass
class AttemptSummary:
    id: str
    task: str
    outcome: str = "running"
    phases: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""

    @property
    def seconds(self) -> float:
        """From the start of its first phase to its commit: the sum of its phase durations."""
        return round(sum(float(phase.get("seconds") or 0) for phase in self.phases), 3)

    @property
    def cost_usd(self) -> float | None:
        """The sum of its phases' known costs; None (unknown) when no phase reported one."""
        return total(phase.get("cost_usd") for phase in self.phases)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "task": self.task, "outcome": self.outcome, "seconds": self.seconds,
                "reason": self.reason, "cost_usd": self.cost_usd, "phases": self.phases}


def cost_by_task(attempts: list[AttemptSummary]) -> dict[str, Any]:
    """The window's cost: its total and each task's (tasks in the order they first ran), each the
    sum of the known costs, None where no phase of it reported one."""
    by_task: dict[str, list[AttemptSummary]] = {}
    for attempt in attempts:
        by_task.setdefault(attempt.task, []).append(attempt)
    tasks = [{"task": task, "attempts": len(tried), "cost_usd": total(a.cost_usd for a in tried),
              "tokens_in": _tokens(tried, "tokens_in"), "tokens_out": _tokens(tried, "tokens_out")}
             for task, tried in by_task.items()]
    return {"total_usd": total(item["cost_usd"] for item in tasks), "by_task": tasks}


def _tokens(attempts: list[AttemptSummary], name: str) -> int | None:
    known = total(phase.get(name) for attempt in attempts for phase in attempt.phases)
    return None if known is None else int(known)


def window(all_events: list[Event], after_seq: int | None = None, from_kind: str | None = None) -> list[Event]:
    """The events after sequence number ``after_seq``, or from the last event of ``from_kind`` on."""
    if from_kind is not None:
        starts = [event.seq for event in all_events if event.kind == from_kind]
        first = starts[-1] if starts else 0
        return [event for event in all_events if event.seq >= first]
    return [event for event in all_events if after_seq is None or event.seq > after_seq]


def attempts_in(events: list[Event]) -> list[AttemptSummary]:
    attempts: dict[str, AttemptSummary] = {}
    for event in events:
        attempt_id = event.data.get("attempt")
        if not attempt_id or not event.kind.startswith(("attempt.", "phase.")):
            continue
        summary = attempts.setdefault(attempt_id, AttemptSummary(attempt_id, event.task or ""))
        if event.kind == "phase.finished":
            spent = phase_cost(event.data)
            summary.phases.append({"name": event.data.get("phase"), "verdict": event.data.get("verdict"),
                                   "seconds": event.data.get("seconds"),
                                   **(spent.as_json() if spent is not None else {})})
        elif event.kind in OUTCOME_BY_KIND and event.data.get("note") is None:
            summary.outcome = event.data.get("outcome") or OUTCOME_BY_KIND[event.kind]
            summary.reason = str(event.data.get("reason") or "")
    return list(attempts.values())
