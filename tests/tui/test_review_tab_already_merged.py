"""The Review tab's message after approving a branch a human had merged by hand: it says the
branch was already merged and no commit was added, not "merged". Before, the tab shows the
branch's test evidence, read from its commit."""

from __future__ import annotations

from pathlib import Path

from conftest import git
from engine_fixtures import make_project, task_yaml
from test_approve_already_merged import merge_by_hand
from textual.widgets import DataTable
from tui.conftest import drive, notifications, rendered, settle

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.git.repo import find_repo
from leviathan_local.tui.app import LeviathanApp


def test_approving_a_branch_merged_by_hand_says_so(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("add"))
    paths = find_repo(root)
    result = run_attempt(paths, "add")
    assert result.outcome == "succeeded", result.reason
    merged = merge_by_hand(paths, result.branch)  # the task still waits for review
    app = LeviathanApp(paths, watch_files=False)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: app.board is not None)
        await pilot.press("4")
        reviews = app.query_one("#reviews", DataTable)
        await settle(app, pilot, lambda: reviews.row_count == 1 and "def add" in rendered(app.query_one("#diff")))
        shown = rendered(app.query_one("#diff"))
        assert "evidence red       exit=1 passed=1 failed=0 errors=1" in shown
        assert "evidence refactor  exit=0 passed=2" in shown and "reused=green" in shown
        await pilot.press("a")
        await settle(app, pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen")
        await pilot.press("enter")
        await settle(app, pilot, lambda: any(m.startswith("add: ") for m in notifications(app)))
        [message] = [m for m in notifications(app) if m.startswith("add: ")]
        assert message == (f"add: {result.branch} was already merged (in {merged[:12]}): no commit added;"
                           " the branch is deleted")
        await settle(app, pilot, lambda: reviews.row_count == 0)

    drive(app, script)
    assert load_backlog(paths).task("add").status is Status.DONE
    assert git(root, "rev-parse", "HEAD").strip() == merged
    assert result.branch not in git(root, "branch", "--format=%(refname:short)").split()
