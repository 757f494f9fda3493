from __future__ import annotations

import io
from pathlib import Path

from conftest import git

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.commands.demo import run_demo
from leviathan_local.events import verify_chain
from leviathan_local.git.repo import find_repo
from leviathan_local.review.approve import approve


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


def test_the_demos_branches_can_be_approved_or_merged_with_plain_git(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    run_demo(root, out=io.StringIO())
    paths = find_repo(root)
    assert approve(paths, "subtract").checks == []  # only the halt commit moved main
    docs_branch = load_backlog(paths).task("usage-docs").get("branch_name")
    git(root, "merge", "-q", "--no-edit", docs_branch)  # the merge driver keeps the backlog mergeable
    statuses = {task.id: task.status for task in load_backlog(paths).tasks}
    assert statuses["subtract"] is Status.DONE and statuses["usage-docs"] is Status.DONE
    assert git(root, "status", "--porcelain") == ""
