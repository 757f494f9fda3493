from __future__ import annotations

import io
from pathlib import Path

from conftest import git
from leviathan_local.backlog_store import load_backlog
from leviathan_local.commands.demo import run_demo
from leviathan_local.events import verify_chain
from leviathan_local.gitrepo import find_repo
from leviathan_local.model import Status


def test_demo_runs_the_whole_loop(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    out = io.StringIO()
    assert run_demo(root, out=out) == 0
    text = out.getvalue()
    assert "subtract: attempt attempt-subtract-" in text and "Halted: AllDoneOrBlocked" in text
    statuses = {task.id: task.status for task in load_backlog(find_repo(root)).tasks}
    assert statuses == {"subtract": Status.REVIEW, "usage-docs": Status.REVIEW, "multiply": Status.BLOCKED,
                        "divide": Status.NEW}
    assert git(root, "log", "-1", "--format=%s", "main").startswith("[leviathan] Save backlog state on halt")
    assert verify_chain(find_repo(root)).ok
