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
    if transition.changed:
        out.write(f"{transition.task_id}: {transition.before.value} -> {transition.after.value}\n")
    else:
        out.write(f"{transition.task_id}: {transition.note or 'unchanged'}\n")
