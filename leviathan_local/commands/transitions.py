"""`leviathan ready ID` and `leviathan unblock ID`."""

from __future__ import annotations

import sys
from typing import TextIO

from leviathan_local.backlog.transitions import Transition, mark_ready, unblock
from leviathan_local.errors import EXIT_OK
from leviathan_local.repo_paths import RepoPaths


def run_ready(paths: RepoPaths, task_id: str, approve_escalation: bool = False, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    _report(mark_ready(paths, task_id, approve_escalation=approve_escalation), out)
    return EXIT_OK


def run_unblock(paths: RepoPaths, task_id: str, note: str | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    _report(unblock(paths, task_id, note=note), out)
    return EXIT_OK


def _report(transition: Transition, out: TextIO) -> None:
    out.write(f"{transition.task_id}: {describe(transition)}\n")


def describe(transition: Transition) -> str:
    """What the change did: the status moved, the escalation approved, or why nothing changed
    (never `ready -> ready`)."""
    approved = "escalation approved" if transition.escalation_approved else ""
    if transition.before is not transition.after:
        moved = f"{transition.before.value} -> {transition.after.value}"
        return f"{moved}; {approved}" if approved else moved
    if approved:
        return f"{approved}; status stays {transition.after.value}"
    return transition.note or "unchanged"
