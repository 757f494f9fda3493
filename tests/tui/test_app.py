"""The app driven by a pilot: the board, its actions, live reload, and invalid files."""

from __future__ import annotations

import asyncio

from leviathan_local.backlog_store import load_backlog
from leviathan_local.gitrepo import RepoPaths
from leviathan_local.model import Status
from leviathan_local.tui.app import LeviathanApp
from leviathan_local.tui.widgets.backlog_table import BacklogTable
from leviathan_local.tui.widgets.problem_bar import ProblemBar
from tui.conftest import settle, table_ids


def test_the_board_ranks_actionable_tasks_first(app_repo: RepoPaths) -> None:
    asyncio.run(_the_board_ranks_actionable_tasks_first(app_repo))


async def _the_board_ranks_actionable_tasks_first(app_repo: RepoPaths) -> None:
    app = LeviathanApp(app_repo, watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, lambda: len(table_ids(app)) == 4)
        assert table_ids(app) == ["docs-install", "api-logging", "flaky-test", "cache-warmup"]
        detail = str(app.query_one("#detail-body").render())
        assert "docs-install" in detail and "README has an install section" in detail and "score" in detail


def test_mark_ready_and_unblock_write_the_backlog(app_repo: RepoPaths) -> None:
    asyncio.run(_mark_ready_and_unblock_write_the_backlog(app_repo))


async def _mark_ready_and_unblock_write_the_backlog(app_repo: RepoPaths) -> None:
    app = LeviathanApp(app_repo, watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, lambda: len(table_ids(app)) == 4)
        table = app.query_one(BacklogTable)
        table.move_cursor(row=table_ids(app).index("cache-warmup"))
        await pilot.press("r")
        await settle(app, pilot, lambda: load_backlog(app_repo).task("cache-warmup").status is Status.READY)
        table.move_cursor(row=table_ids(app).index("flaky-test"))
        await pilot.press("u")
        await settle(app, pilot, lambda: load_backlog(app_repo).task("flaky-test").status is Status.READY)
    assert app_repo.backlog.read_text().startswith("# The app's test backlog.\n")


def test_an_edit_on_disk_shows_up_and_an_invalid_file_keeps_the_last_board(app_repo: RepoPaths) -> None:
    asyncio.run(_an_edit_on_disk_shows_up_and_an_invalid_file_keeps_the_last_board(app_repo))


async def _an_edit_on_disk_shows_up_and_an_invalid_file_keeps_the_last_board(app_repo: RepoPaths) -> None:
    app = LeviathanApp(app_repo, watch_files=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, lambda: len(table_ids(app)) == 4)
        table = app.query_one(BacklogTable)
        table.move_cursor(row=2)
        await pilot.pause()
        chosen = table.selected_task_id
        app_repo.backlog.write_text(app_repo.backlog.read_text()
                                    + "  - id: late\n    title: Added in an editor\n    status: new\n")
        await settle(app, pilot, lambda: "late" in table_ids(app))
        assert table.selected_task_id == chosen == "flaky-test"  # the selection survived the reload
        app_repo.backlog.write_text("tasks:\n  - id: [broken\n")
        await settle(app, pilot, lambda: app.query_one(ProblemBar).has_class("-visible"))
        assert "backlog.yaml" in str(app.query_one(ProblemBar).render())
        assert "late" in table_ids(app)  # the last good board stays


def test_the_filter_narrows_the_table(app_repo: RepoPaths) -> None:
    asyncio.run(_the_filter_narrows_the_table(app_repo))


async def _the_filter_narrows_the_table(app_repo: RepoPaths) -> None:
    app = LeviathanApp(app_repo, watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot, lambda: len(table_ids(app)) == 4)
        await pilot.press("slash", *"blocked", "enter")
        await settle(app, pilot, lambda: table_ids(app) == ["flaky-test"])
        await pilot.press("escape")
        await settle(app, pilot, lambda: len(table_ids(app)) == 4)
