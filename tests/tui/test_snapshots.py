"""What the app looks like, at 80x24 and 120x40 (fixed data, fixed clock, no file watcher)."""

from __future__ import annotations

import pytest

from leviathan_local.gitrepo import RepoPaths
from leviathan_local.tui.app import LeviathanApp


async def board_shown(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def filtered(pilot) -> None:
    await board_shown(pilot)
    await pilot.press("slash", *"ready", "enter")
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_backlog_view(snap_compare, app_repo: RepoPaths, size: tuple[int, int]) -> None:
    assert snap_compare(LeviathanApp(app_repo, watch_files=False), terminal_size=size, run_before=board_shown)


def test_backlog_view_filtered(snap_compare, app_repo: RepoPaths) -> None:
    assert snap_compare(LeviathanApp(app_repo, watch_files=False), terminal_size=(120, 40), run_before=filtered)
