"""The Review tab's `e`: rebase and retry a branch that conflicts after a sibling was approved."""

from __future__ import annotations

from pathlib import Path

from test_workflow_cli import conflicting  # noqa: F401 - the fixture
from textual.widgets import DataTable
from tui.conftest import drive, notifications, settle

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.git.repo import RepoPaths
from leviathan_local.tui.app import LeviathanApp


def test_e_rebases_and_retries_a_conflicting_branch_without_counting(conflicting: RepoPaths) -> None:  # noqa: F811
    paths = conflicting
    branch = str(load_backlog(paths).task("b").get("branch_name"))
    app = LeviathanApp(paths, watch_files=False)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: app.board is not None)
        await pilot.press("4")
        reviews = app.query_one("#reviews", DataTable)
        await settle(app, pilot, lambda: reviews.row_count == 1)
        await pilot.press("e")
        await settle(app, pilot, lambda: any(m.startswith("b: ") for m in notifications(app)))
        assert [m for m in notifications(app) if m.startswith("b: ")] == [
            f"b: back to ready for a fresh attempt from the new base (attempt not counted; {branch} conflicted "
            "in calc.py)"]
        await settle(app, pilot, lambda: reviews.row_count == 0)

    drive(app, script)
    task = load_backlog(paths).task("b")
    assert (task.status, task.attempts) == (Status.READY, 0)
