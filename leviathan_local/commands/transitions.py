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
    if transition.changed:
        out.write(f"{transition.task_id}: {transition.before.value} -> {transition.after.value}\n")
    else:
        out.write(f"{transition.task_id}: {transition.note or 'unchanged'}\n")
