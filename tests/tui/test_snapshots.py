"""What every view looks like, at 80x24 and 120x40 (fixed data, fixed clock, no file watcher)."""

from __future__ import annotations

import pytest
from textual.widgets import TabbedContent

from leviathan_local.git.repo import RepoPaths
from leviathan_local.tui.app import TABS
from tui.conftest import still_app

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


async def until(pilot, condition) -> None:
    """Let the app work until ``condition`` holds (a bounded number of event-loop turns)."""
    for _ in range(500):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if condition():
            return
    raise AssertionError("the app never got there")


def showing(tab: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: app.board is not None)
        await pilot.press(str(TABS.index(tab) + 1))
        await until(pilot, lambda: app.query_one(TabbedContent).active == f"{tab}-tab")
        await until(pilot, lambda: True)
        if tab == "discover":  # a DataTable sizes its columns when idle, after the rows arrive
            await until(pilot, lambda: max(c.content_width for c in app.query_one("#discover").columns.values()) > 3)
    return run_before


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("tab", TABS)
def test_every_view(snap_compare, app_repo: RepoPaths, tab: str, size: str) -> None:
    app = still_app(app_repo)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=showing(tab))


def test_backlog_view_filtered(snap_compare, app_repo: RepoPaths) -> None:
    async def filtered(pilot) -> None:
        await until(pilot, lambda: pilot.app.board is not None)
        await pilot.press("slash", *"ready", "enter")
        await pilot.pause()

    assert snap_compare(still_app(app_repo), terminal_size=(120, 40), run_before=filtered)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare, app_repo: RepoPaths, size: str) -> None:
    async def help_shown(pilot) -> None:
        await until(pilot, lambda: pilot.app.board is not None)
        await pilot.press("question_mark")
        await until(pilot, lambda: pilot.app.screen.__class__.__name__ == "HelpScreen")

    assert snap_compare(still_app(app_repo), terminal_size=SIZES[size], run_before=help_shown)
