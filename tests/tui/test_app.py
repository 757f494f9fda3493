"""The app driven by a pilot: the board, its actions, live reload, and invalid files."""

from __future__ import annotations

import asyncio

from conftest import write
from tui.conftest import drive, settle, table_ids

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.git.repo import RepoPaths
from leviathan_local.tui.app import LeviathanApp
from leviathan_local.tui.widgets.backlog_table import BacklogTable
from leviathan_local.tui.widgets.problem_bar import ProblemBar


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
        table.move_cursor(row=1)
        await pilot.pause()
        assert table.selected_task_id == "api-logging"
        # A task added in an editor ranks first: the selected task moves a row down, the cursor with it.
        app_repo.backlog.write_text(app_repo.backlog.read_text() + (
            "  - id: urgent\n    title: Added in an editor\n    status: ready\n    impact: 13\n    effort: 1\n"
            "    allowed_paths: [src/]\n    acceptance_criteria: [It is fixed]\n"))
        await settle(app, pilot, lambda: "urgent" in table_ids(app))
        assert table_ids(app)[:3] == ["urgent", "docs-install", "api-logging"]
        assert (table.cursor_row, table.selected_task_id) == (2, "api-logging")  # the selection survived
        await settle(app, pilot, lambda: "Log every API request" in str(app.query_one("#detail-body").render()))
        app_repo.backlog.write_text("tasks:\n  - id: [broken\n")
        await settle(app, pilot, lambda: app.query_one(ProblemBar).has_class("-visible"))
        assert "backlog.yaml" in str(app.query_one(ProblemBar).render())
        assert "urgent" in table_ids(app)  # the last good board stays


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



def test_clearing_the_filter_keeps_the_selected_task_selected_and_in_sight(app_repo: RepoPaths) -> None:
    """Filtered to one task far down a long backlog, then cleared: that task stays selected, and
    the table scrolls to it (it scrolled within the one-row list's range: the top was shown)."""
    write(app_repo.backlog, "tasks:\n" + "".join(
        f"  - id: t{n:02d}\n    title: Task {n}\n    status: ready\n    effort: {1 + n % 5}\n"
        f"    acceptance_criteria: [It works]\n    allowed_paths: [src/]\n" for n in range(60)))
    app = LeviathanApp(app_repo, watch_files=False)

    async def script(pilot) -> None:
        table = app.query_one(BacklogTable)
        await settle(app, pilot, lambda: len(table_ids(app)) == 60)
        await pilot.press("slash", *"Task 37", "enter")
        await settle(app, pilot, lambda: table_ids(app) == ["t37"])
        await pilot.press("escape")
        await settle(app, pilot, lambda: len(table_ids(app)) == 60)
        assert table.selected_task_id == "t37"
        visible = table.scrollable_content_region.height - 1  # below the header line
        assert table.scroll_y <= table.cursor_row < table.scroll_y + visible, (table.cursor_row, table.scroll_y)
        await settle(app, pilot, lambda: "Task 37" in str(app.query_one("#detail-body").render()))

    drive(app, script, size=(80, 24))

FILTERS = {
    "status:ready": ["docs-install", "api-logging"],
    "status:READY,new": ["docs-install", "api-logging", "cache-warmup"],
    "status:ready the": ["docs-install"],  # and a word of the title
    "flaky login": ["flaky-test"],  # every word, anywhere in id, title or status
    "flaky cache": [],
    "flag:escalated": ["cache-warmup"],  # "Warm the cache": the policy's escalation keywords
    "flag:~ status:ready": ["docs-install"],  # estimated inputs (api-logging has all four)
    "blocked_type:clarification": ["flaky-test"],  # any field of the task
    "allowed_paths:readme.md": ["docs-install"],  # a list matches on any element
    "skip:not_ready": ["cache-warmup"],
    "status:rea": [],  # values match whole
    "type:bug": [],  # a field no task has
}


def test_field_filters_and_words(app_repo: RepoPaths) -> None:
    from leviathan_local.clock import now
    from leviathan_local.planning.board import load_board
    from leviathan_local.tui.backlog_filter import parse_filter

    rows = load_board(app_repo, now()).rows
    for text, expected in FILTERS.items():
        query = parse_filter(text)
        assert [row.task.id for row in rows if query.matches(row)] == expected, text


def test_a_field_filter_in_the_filter_box(app_repo: RepoPaths) -> None:
    app = LeviathanApp(app_repo, watch_files=False)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: len(table_ids(app)) == 4)
        await pilot.press("slash", *"status:ready,new doc", "enter")
        await settle(app, pilot, lambda: table_ids(app) == ["docs-install"])
        await pilot.press("escape")
        await settle(app, pilot, lambda: len(table_ids(app)) == 4)

    drive(app, script)


def test_each_status_is_a_coloured_badge(app_repo: RepoPaths) -> None:
    app = LeviathanApp(app_repo, watch_files=False)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: len(table_ids(app)) == 4)
        table = app.query_one(BacklogTable)
        backgrounds = {}
        for y, status in enumerate(("ready", "ready", "blocked", "new"), 1):
            badge = next(segment for segment in table.render_line(y) if segment.text == f" {status} ")
            backgrounds[status] = badge.style.bgcolor
        plain = table.rich_style.bgcolor
        assert len(set(backgrounds.values())) == 3 and plain not in backgrounds.values()

    drive(app, script)


def test_a_prefetched_board_is_shown_then_replaced_by_the_real_one(app_repo: RepoPaths) -> None:
    from leviathan_local.clock import now
    from leviathan_local.planning.board import load_board
    from leviathan_local.planning.prefetch import start_prefetch

    prefetch = start_prefetch(app_repo, now())
    assert prefetch is not None
    shown: list[tuple[str, list[str]]] = []

    class Recording(LeviathanApp):
        def on_board_prefetched(self) -> None:
            table = self.query_one(BacklogTable)
            self.call_later(lambda: shown.append((type(table.shown_board).__name__, table_ids(self))))

    app = Recording(app_repo, watch_files=False, prefetch=prefetch)

    expected = [row.task.id for row in load_board(app_repo, now()).rows]

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: app.board is not None and bool(shown))
        assert type(app.query_one(BacklogTable).shown_board).__name__ == "Board"
        assert table_ids(app) == expected

    drive(app, script)
    assert shown == [("PrefetchedBoard", expected)]  # the forked child ranked exactly what the app ranks


def test_a_prefetch_that_fails_falls_back_to_the_usual_load(app_repo: RepoPaths) -> None:
    from leviathan_local.clock import now
    from leviathan_local.planning.prefetch import start_prefetch

    app_repo.backlog.write_text("tasks:\n  - id: [broken\n")
    prefetch = start_prefetch(app_repo, now())
    assert prefetch is not None and prefetch.board() is None
    app = LeviathanApp(app_repo, watch_files=False, prefetch=start_prefetch(app_repo, now()))

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: app.query_one(ProblemBar).has_class("-visible"))
        assert "backlog.yaml" in str(app.query_one(ProblemBar).render())

    drive(app, script)


def test_prepare_app_finds_the_repository_and_forks_the_prefetch_for_a_large_backlog(app_repo: RepoPaths, tmp_path) -> None:
    import pytest

    from leviathan_local.cli.app_start import prepare_app
    from leviathan_local.errors import LeviathanError

    assert prepare_app(app_repo.root / "src") == (app_repo, None)  # small: the app loads it faster itself
    paths, prefetch = prepare_app(app_repo.root / "src", prefetch_from_bytes=0)
    assert paths == app_repo and prefetch is not None
    board = prefetch.board()
    assert board is not None and [row.task.id for row in board.rows][:2] == ["docs-install", "api-logging"]
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    with pytest.raises(LeviathanError, match="not inside a git repository"):
        prepare_app(outside)
