"""`leviathan ready ID`, `leviathan unblock ID` and `leviathan block ID --reason TEXT`."""

from __future__ import annotations

import sys
from typing import TextIO

from leviathan_local.backlog.transitions import Transition, block, mark_ready, unblock
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


def run_block(paths: RepoPaths, task_id: str, reason: str, out: TextIO | None = None) -> int:
    """The app's `b`: any status but done → blocked, with the reason (a human's decision)."""
    out = out or sys.stdout
    transition = block(paths, task_id, reason)
    _report(transition, out)
    out.write(f"  reason: {transition.note}; `leviathan unblock {task_id}` returns it to {transition.before.value}\n")
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
