"""What must be on screen at 80x24 and 120x40: the problem bar, every column, the main keys."""

from __future__ import annotations

import pytest
from conftest import git, write
from textual.widgets import Footer
from textual.widgets._footer import FooterKey
from tui.conftest import drive, settle, table_ids

from leviathan_local.git.repo import RepoPaths, find_repo
from leviathan_local.tui.app import TABS, LeviathanApp
from leviathan_local.tui.widgets.backlog_table import COLUMNS, BacklogTable
from leviathan_local.tui.widgets.problem_bar import ProblemBar

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])

LONG_TITLES = """\
tasks:
  - id: observability-request-logs
    title: Log every API request with its method and path
    status: ready
    impact: 8
    effort: 3
    allowed_paths: [src/api/]
    acceptance_criteria: [Every endpoint logs method and path]
    created_at: 2025-08-01T00:00:00Z
  - id: installation-documentation
    title: Document the install on Linux, macOS and Windows
    status: blocked
    blocked_reason: which versions?
    attempts: 12
    effort: 1
    created_at: 2024-02-03T00:00:00Z
  - id: cache-warmup
    title: Warm the cache at start so the first request is fast
    status: new
"""


def line_text(table: BacklogTable, y: int) -> str:
    return "".join(segment.text for segment in table.render_line(y))


@SIZES
def test_an_invalid_files_problems_show_inside_the_screen_above_the_footer(app_repo: RepoPaths, size) -> None:
    app = LeviathanApp(app_repo, watch_files=False)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: len(table_ids(app)) == 4)
        app_repo.backlog.write_text("tasks:\n  - id: [broken\n")
        await pilot.press("ctrl+r")
        bar = app.query_one(ProblemBar)
        await settle(app, pilot, lambda: bar.has_class("-visible"))
        assert "backlog.yaml:3:1" in str(bar.render())
        assert bar.region.height >= 2  # the error and its hint
        assert app.screen.region.contains_region(bar.region)
        assert bar.region.bottom <= app.query_one(Footer).region.y
        assert table_ids(app) == ["docs-install", "api-logging", "flaky-test", "cache-warmup"]  # the last good board

    drive(app, script, size)


@SIZES
def test_every_column_fits_and_long_titles_are_cut(git_repo, size) -> None:
    write(git_repo / ".leviathan" / "backlog.yaml", LONG_TITLES)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "backlog")
    app = LeviathanApp(find_repo(git_repo), watch_files=False)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: len(table_ids(app)) == 3)
        table = app.query_one(BacklogTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width  # no sideways scrolling
        assert line_text(table, 0).split() == list(COLUMNS)
        assert table.region.right <= app.screen.region.right
        rows = {line_text(table, y).split()[0]: line_text(table, y) for y in (1, 2, 3)}
        documentation = next(text for first, text in rows.items() if first.startswith("installation"))
        # The age (1023 days) and the tries (12) are whole; the title is cut with an ellipsis (to its
        # floor at 120x40, since the cost column took its five cells).
        assert documentation.rstrip().endswith("1023d ~     12")
        assert "Document th" in documentation and "Windows" not in documentation and "…" in documentation

    drive(app, script, size)


@pytest.mark.parametrize("tab", TABS)
def test_every_key_in_the_footer_is_visible_at_80_columns(app_repo: RepoPaths, tab: str) -> None:
    app = LeviathanApp(app_repo, watch_files=False)

    def keys() -> dict[str, FooterKey]:
        return {key.action: key for key in app.query_one(Footer).query(FooterKey)}

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: len(table_ids(app)) == 4)
        await pilot.press(str(TABS.index(tab) + 1))
        await settle(app, pilot, lambda: app.active_tab == tab and "help" in keys()
                     and ("ready" in keys()) == (tab == "backlog"))
        shown = keys()
        palette = shown.pop("app.command_palette", None) or shown.pop("command_palette")
        for action in ("help", "quit", "filter"):
            assert action in shown
        for key in shown.values():
            assert key.region.width > 0 and key.region.right <= palette.region.x, key.action

    drive(app, script, (80, 24))
