"""The cost ledger in the app: the board's cost column beside the WSJF effort, the task detail's
cost per attempt and per phase, and the Review tab's cost of the attempt and of the task so far."""

from __future__ import annotations

from textual.widgets import DataTable
from tui.conftest import drive, rendered, settle, table_ids
from tui.test_layout import line_text

from leviathan_local.git.repo import RepoPaths
from leviathan_local.tui.app import TABS, LeviathanApp
from leviathan_local.tui.widgets.backlog_table import COLUMNS, BacklogTable

API_LOGGING_COST = "$0.0533"  # red $0.0120 + green $0.0315 + refactor $0.0098 (tests/tui/conftest.py AGENT_USE)


def test_the_board_shows_each_tasks_cost_beside_its_effort(after_run_repo: RepoPaths) -> None:
    app = LeviathanApp(after_run_repo, watch_files=False)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: len(table_ids(app)) == 4)
        table = app.query_one(BacklogTable)
        assert COLUMNS.index("cost") == COLUMNS.index("i/e") + 1
        header = line_text(table, 0)
        assert header.index("i/e") < header.index("cost") < header.index("age")
        lines = {table_ids(app)[y - 1]: line_text(table, y) for y in range(1, 5)}
        assert f"8/3   {API_LOGGING_COST}" in lines["api-logging"]
        assert "$0.0042" in lines["docs-install"]  # its green phase reported tokens only: the known part
        assert "$" not in lines["cache-warmup"] and "unknown" not in lines["cache-warmup"]  # never tried

    drive(app, script)


def test_the_task_detail_shows_cost_per_attempt_and_per_phase(after_run_repo: RepoPaths) -> None:
    app = LeviathanApp(after_run_repo, watch_files=False)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: len(table_ids(app)) == 4)
        table = app.query_one(BacklogTable)
        table.move_cursor(row=table_ids(app).index("docs-install"))
        await settle(app, pilot, lambda: "Attempts" in rendered(app.query_one("#detail-body")))
        detail = rendered(app.query_one("#detail-body"))
        assert "cost so far: $0.0042 over 1 attempt" in detail
        assert "failed (green: tests fail), cost $0.0042" in detail
        assert "red ✓ 0.4s (1,200 in / 80 out tokens, $0.0042)" in detail
        assert "green ✗ 1.3s (2,100 in / 150 out tokens, unknown)" in detail

    drive(app, script)


def test_the_review_tab_shows_the_attempts_and_the_tasks_cost(after_run_repo: RepoPaths) -> None:
    app = LeviathanApp(after_run_repo, watch_files=False)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: app.board is not None)
        await pilot.press(str(TABS.index("review") + 1))
        reviews = app.query_one("#reviews", DataTable)
        await settle(app, pilot, lambda: reviews.row_count == 1 and "def serve" in rendered(app.query_one("#diff")))
        assert reviews.get_row_at(0)[3] == API_LOGGING_COST  # the task's cost so far
        diff = rendered(app.query_one("#diff"))
        assert "green passed 1.93s  5,200 in / 640 out tokens, $0.0315" in diff
        assert "gates passed 0.06s\n" in diff
        assert f"cost: this attempt {API_LOGGING_COST}, the task so far {API_LOGGING_COST} (1 attempt)" in diff

    drive(app, script)
