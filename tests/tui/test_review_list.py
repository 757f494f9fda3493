"""The Review tab: every useful column of the list fitted to the width, the code before the
backlog bookkeeping in the diff, and approving only once the human says yes."""

from __future__ import annotations

import pytest
from conftest import git
from tui.conftest import drive, rendered, settle

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.git.merge import patch_text
from leviathan_local.git.repo import RepoPaths
from leviathan_local.review.diff import review_patch
from leviathan_local.review.pending import list_reviews
from leviathan_local.tui.app import TABS, LeviathanApp
from leviathan_local.tui.widgets.fitted_table import FittedTable


def test_the_diff_shows_the_code_first_and_the_backlog_bookkeeping_last(after_run_repo: RepoPaths) -> None:
    [item] = list_reviews(after_run_repo)
    assert item.base and item.head
    raw = patch_text(after_run_repo, item.base, item.head)
    assert raw.index("a/.leviathan/backlog.yaml") < raw.index("a/src/api/server.py")  # git's order: by path
    shown = review_patch(after_run_repo, item.base, item.head)
    assert sorted(shown.splitlines()) == sorted(raw.splitlines())  # every line, only reordered
    assert shown.index("a/src/api/server.py") < shown.index("b/tests/test_server.py") < \
        shown.index("a/.leviathan/backlog.yaml")


async def review_tab(app: LeviathanApp, pilot) -> FittedTable:
    await settle(app, pilot, lambda: app.board is not None)
    await pilot.press(str(TABS.index("review") + 1))
    reviews = app.query_one("#reviews", FittedTable)
    await settle(app, pilot, lambda: reviews.row_count == 1 and "def serve" in rendered(app.query_one("#diff")))
    return reviews


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_the_review_list_fits_every_column_into_the_width(after_run_repo: RepoPaths, size: tuple[int, int]) -> None:
    app = LeviathanApp(after_run_repo, watch_files=False)

    async def script(pilot) -> None:
        reviews = await review_tab(app, pilot)
        assert [str(column.label) for column in reviews.columns.values()] == [
            "task", "title", "tries", "cost", "files", "+/-", "branch"]
        line_width = sum(column.get_render_width(reviews) for column in reviews.columns.values())
        assert line_width <= reviews.scrollable_content_region.width
        cells = [str(cell) for cell in reviews.get_row_at(0)]
        full = ["api-logging", "Log every API request", "1", "$0.0533", "3", "+20 -3", "agent/api-logging-0a1b2c"]
        if size[0] >= 100:
            assert cells == full
        else:  # the branch, then the title give up characters; the numbers never do
            assert cells[0] == full[0] and cells[2:6] == full[2:6]
            for cell, text in ((cells[1], full[1]), (cells[6], full[6])):
                assert cell.endswith("…") and text.startswith(cell[:-1]) and len(cell) >= 12, cell

    drive(app, script, size=size)


@pytest.mark.parametrize("answer, merged", [("n", False), ("escape", False), ("y", True), ("enter", True)])
def test_approving_asks_first(after_run_repo: RepoPaths, answer: str, merged: bool) -> None:
    app = LeviathanApp(after_run_repo, watch_files=False)
    main_before = git(after_run_repo.root, "rev-parse", "main").strip()

    async def script(pilot) -> None:
        await review_tab(app, pilot)
        await pilot.press("a")
        await settle(app, pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen")
        assert git(after_run_repo.root, "rev-parse", "main").strip() == main_before  # nothing yet
        await pilot.press(answer)
        await settle(app, pilot, lambda: app.screen is app.screen_stack[0])
        await settle(app, pilot, lambda: load_backlog(after_run_repo).task("api-logging").status is (
            Status.DONE if merged else Status.REVIEW))

    drive(app, script)
    assert (git(after_run_repo.root, "rev-parse", "main").strip() != main_before) is merged
