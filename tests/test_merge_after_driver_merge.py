"""`leviathan merge ID` after a human's own `git merge` through the backlog merge driver: the
driver lets the branch's done writeback win, so the task is `done` already, and its branch (and a
pool slot holding it) are all that is left. Approving lets them go, as approving a branch merged by
hand does; a done task whose branch is not merged is still refused, with nothing changed."""

from __future__ import annotations

import io

import pytest
from conftest import git
from test_review import branches, checked_out, head, held_by_a_pool_slot, reviewed, unchanged  # noqa: F401 (fixture)

from leviathan_local import events
from leviathan_local.backlog.merge_driver import add_attribute, register_driver
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import edit_task_text, load_backlog
from leviathan_local.cli.main import main
from leviathan_local.commands.review import run_merge
from leviathan_local.errors import BacklogError, LeviathanError
from leviathan_local.git.repo import RepoPaths
from leviathan_local.review.approve import Approval, approve
from leviathan_local.tui.widgets.review_view import approved_message

BACKLOG = ".leviathan/backlog.yaml"


def register_the_driver(paths: RepoPaths) -> None:
    """What `leviathan init` does: the driver in .git/config, the attribute committed."""
    register_driver(paths)
    add_attribute(paths.root / ".gitattributes")
    git(paths.root, "add", ".gitattributes")
    git(paths.root, "commit", "-qm", "merge driver", "--", ".gitattributes")


def merge_through_the_driver(paths: RepoPaths, branch: str) -> str:
    """The human's own `git merge` of the agent branch, after the backlog was committed (as a run's
    halt does): the driver merges the backlog task by task, and no conflict stops it."""
    register_the_driver(paths)
    git(paths.root, "commit", "-qm", "[leviathan] Save backlog state on halt", "--", BACKLOG)
    git(paths.root, "merge", "-q", "--no-ff", "--no-edit", branch)
    assert git(paths.root, "status", "--porcelain") == ""
    assert load_backlog(paths).task("add").status is Status.DONE  # the done writeback won
    return head(paths)


def test_merge_after_a_driver_merge_deletes_the_branch_and_frees_the_slot(reviewed) -> None:
    paths, branch = reviewed
    slot = held_by_a_pool_slot(paths, branch)
    merged = merge_through_the_driver(paths, branch)
    backlog, count = paths.backlog.read_bytes(), git(paths.root, "rev-list", "--count", "--all")
    before = load_backlog(paths).task("add")
    out = io.StringIO()
    assert run_merge(paths, "add", out=out) == 0
    assert branch not in branches(paths) and branch not in checked_out(paths)
    assert git(slot, "status", "--porcelain", "--branch").startswith("## HEAD (no branch)")
    # no commit, and the backlog exactly as the merge left it (completed_at not rewritten)
    assert head(paths) == merged and git(paths.root, "rev-list", "--count", "--all") == count
    assert paths.backlog.read_bytes() == backlog and git(paths.root, "status", "--porcelain") == ""
    after = load_backlog(paths).task("add")
    assert after.status is Status.DONE and after.get("completed_at") == before.get("completed_at")
    [event] = [e for e in events.read_events(paths, task_id="add") if e.kind == "review.approved"]
    assert event.data["already_merged"] is True and event.data["already_done"] is True
    assert event.data["commit"] == merged and event.data["branch"] == branch
    assert event.data["done_uncommitted"] is False and event.data["checks"] == []
    assert events.verify_chain(paths).ok
    text = out.getvalue()
    assert f"add: {branch} was already merged into the default branch (it is in {merged[:12]})" in text
    assert "add was already done" in text and "the branch is deleted" in text
    assert "uncommitted" not in text


def test_merge_after_a_driver_merge_from_the_cli_exits_0_and_a_second_time_refuses(reviewed, capsys) -> None:
    paths, branch = reviewed
    merge_through_the_driver(paths, branch)
    with pytest.raises(SystemExit) as exit_:
        main(["--repo", str(paths.root), "merge", "add"])
    assert exit_.value.code == 0 and "already merged" in capsys.readouterr().out
    assert branch not in branches(paths)
    with pytest.raises(SystemExit) as exit_:  # nothing is left to let go: a done task, as before
        main(["--repo", str(paths.root), "merge", "add"])
    assert exit_.value.code != 0 and "not waiting for review" in capsys.readouterr().err


def test_a_done_task_whose_branch_is_not_merged_is_refused_with_nothing_changed(reviewed) -> None:
    paths, branch = reviewed
    register_the_driver(paths)
    # done on the default branch without its branch merged (marked by hand, say)
    paths.backlog.write_text(edit_task_text(paths.backlog.read_text(), BACKLOG, "add", {"status": "done"}))
    git(paths.root, "commit", "-qm", "add is done", "--", BACKLOG)
    slot = held_by_a_pool_slot(paths, branch)
    before = unchanged(paths, branch)
    count = len(events.read_events(paths))
    with pytest.raises(BacklogError) as refused:
        approve(paths, "add")
    assert "is done, not waiting for review" in refused.value.message
    assert f"{branch} is not merged into main" in refused.value.message
    assert f"git merge {branch}" in (refused.value.hint or "")
    assert unchanged(paths, branch) == before and branch in branches(paths) and branch in checked_out(paths)
    assert slot.exists() and len(events.read_events(paths)) == count


def test_a_done_task_whose_branch_is_gone_is_refused_as_before(reviewed) -> None:
    paths, branch = reviewed
    merge_through_the_driver(paths, branch)
    git(paths.root, "branch", "-D", branch)
    with pytest.raises(BacklogError, match="is done, not waiting for review"):
        approve(paths, "add")


def test_a_done_branch_merged_while_another_branch_is_checked_out_needs_the_default_branch(reviewed) -> None:
    paths, branch = reviewed
    merge_through_the_driver(paths, branch)
    paths.contract.write_text("default_branch: main\n")
    git(paths.root, "switch", "-qc", "elsewhere")
    with pytest.raises(LeviathanError, match="on elsewhere, not main"):
        approve(paths, "add")
    assert branch in branches(paths)


def test_the_review_tabs_message_says_when_approval_added_no_commit() -> None:
    merged = Approval("add", "agent/add-1", "a" * 40, "Test User <test@example.com>", base_moved=False)
    assert approved_message(merged) == f"add: merged agent/add-1 as {'a' * 12}"
    by_hand = Approval("add", "agent/add-1", "b" * 40, "Test User <test@example.com>", base_moved=False,
                       already_merged=True)
    message = approved_message(by_hand)
    assert message.startswith("add: agent/add-1 was already merged") and "no commit added" in message
    assert "b" * 12 in message and ": merged" not in message
