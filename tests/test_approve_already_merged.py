"""Approving a branch a human already merged by hand: nothing is left to merge, so no commit is
added; the task is marked done in the working backlog, the branch is let go and deleted as a
normal approval does, and the event log says the branch was already merged (and where)."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from conftest import git, write
from test_review import branches, checked_out, head, held_by_a_pool_slot, reviewed  # noqa: F401 (fixture)

from leviathan_local import events
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.commands.review import run_merge
from leviathan_local.git.merge import contains
from leviathan_local.git.repo import RepoPaths
from leviathan_local.review.approve import approve


def merge_by_hand(paths: RepoPaths, branch: str) -> str:
    """What a human does instead of `leviathan merge`: commit the backlog (as a run's halt does),
    `git merge` the branch, keep the default branch's backlog (the task still in review) and commit.
    Returns the merge commit."""
    git(paths.root, "commit", "-qm", "[leviathan] Save backlog state on halt", "--", ".leviathan/backlog.yaml")
    # Exits 1 when the backlog conflicts (no merge driver registered here); resolved just below.
    subprocess.run(["git", "merge", "-q", "--no-ff", "--no-commit", branch], cwd=paths.root, capture_output=True)
    git(paths.root, "checkout", "HEAD", "--", ".leviathan/backlog.yaml")
    git(paths.root, "commit", "-q", "--no-edit")
    assert git(paths.root, "status", "--porcelain") == ""
    return head(paths)


def commit_count(paths: RepoPaths) -> int:
    return int(git(paths.root, "rev-list", "--count", "--all").strip())


@pytest.mark.parametrize("moved_on", [False, True], ids=["just merged", "more work on main since"])
def test_approving_a_branch_merged_by_hand_adds_no_commit_and_marks_the_task_done(reviewed, moved_on: bool) -> None:
    paths, branch = reviewed
    tip = head(paths, branch)
    merged = merge_by_hand(paths, branch)
    if moved_on:
        write(paths.root / "docs" / "notes.md", "later work\n")
        git(paths.root, "add", "docs")
        git(paths.root, "commit", "-qm", "later work")
    before, count = head(paths), commit_count(paths)
    out = io.StringIO()
    assert run_merge(paths, "add", out=out) == 0
    assert head(paths) == before and commit_count(paths) == count  # no commit, and none lost
    assert git(paths.root, "merge-base", "--is-ancestor", tip, "HEAD") == ""
    task = load_backlog(paths).task("add")
    assert task.status is Status.DONE and task.get("branch_name") == branch
    assert task.get("completed_at") == "2026-11-22T12:00:00Z" and task.get("last_attempt_id").startswith("attempt-add-")
    assert branch not in branches(paths)
    # the done status waits in the working backlog for the human's next commit, like any uncommitted edit
    assert git(paths.root, "status", "--porcelain") == " M .leviathan/backlog.yaml\n"
    assert "-    status: review\n+    status: done\n" in git(paths.root, "diff")
    [event] = [e for e in events.read_events(paths, task_id="add") if e.kind == "review.approved"]
    assert event.data["already_merged"] is True and event.data["commit"] == before
    assert event.data["done_uncommitted"] is True and event.data["checks"] == []
    assert events.verify_chain(paths).ok
    text = out.getvalue()
    assert f"add: {branch} was already merged into the default branch (it is in {before[:12]})" in text
    assert "no commit added" in text and "marked done in your uncommitted .leviathan/backlog.yaml" in text
    assert merged in git(paths.root, "log", "--format=%H")


def test_an_already_merged_branch_held_by_a_pool_slot_is_let_go(reviewed) -> None:
    paths, branch = reviewed
    slot = held_by_a_pool_slot(paths, branch)
    merge_by_hand(paths, branch)
    approval = approve(paths, "add")
    assert approval.already_merged and approval.commit == head(paths)
    assert branch not in branches(paths) and branch not in checked_out(paths)
    assert git(slot, "status", "--porcelain", "--branch").startswith("## HEAD (no branch)")


def test_the_humans_uncommitted_work_stays_as_it_was(reviewed) -> None:
    paths, branch = reviewed
    merge_by_hand(paths, branch)
    paths.backlog.write_text(paths.backlog.read_text() + "  - id: idea  # added after the merge\n    title: Idea\n")
    write(paths.root / "README.md", "# demo\nstaged, not committed\n")
    git(paths.root, "add", "README.md")
    before = head(paths)
    approve(paths, "add")
    assert head(paths) == before
    assert "- id: idea  # added after the merge" in paths.backlog.read_text()
    assert load_backlog(paths).task("add").status is Status.DONE
    assert sorted(git(paths.root, "status", "--porcelain").splitlines()) == [" M .leviathan/backlog.yaml", "M  README.md"]


def test_contains_tells_a_merged_branch_from_one_still_to_merge(reviewed) -> None:
    paths, branch = reviewed
    tip = head(paths, branch)
    assert not contains(paths, head(paths), tip)
    assert contains(paths, tip, tip)  # a fast-forward leaves the default branch at the tip itself
    merge_by_hand(paths, branch)
    assert contains(paths, head(paths), tip) and not contains(paths, tip, head(paths))
