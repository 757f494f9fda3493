"""What every view looks like, at 80x24 and 120x40 (fixed data, fixed clock, no file watcher):
empty, and after a run (`after_run_repo`: a branch waiting with its diff, the run's strip, output
and halt, its report); an invalid file's problems, the modal screens, the light theme."""

from __future__ import annotations

import pytest
from textual.widgets import TabbedContent
from tui.conftest import rendered, still_app

from leviathan_local.git.repo import RepoPaths
from leviathan_local.tui.app import TABS

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


async def until(pilot, condition) -> None:
    """Let the app work until ``condition`` holds (a bounded number of event-loop turns)."""
    for _ in range(500):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if condition():
            return
    raise AssertionError("the app never got there")


async def steady_cursors(pilot) -> None:
    """A blinking text cursor is caught lit or not: keep it lit."""
    for field in pilot.app.screen.query("Input, TextArea"):
        field.cursor_blink = False
    await until(pilot, lambda: True)


def showing(tab: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: app.board is not None)
        await pilot.press(str(TABS.index(tab) + 1))
        await until(pilot, lambda: app.query_one(TabbedContent).active == f"{tab}-tab")
        await until(pilot, lambda: True)
        if tab == "discover":  # a DataTable sizes its columns when idle, after the rows arrive
            table = app.query_one("#discover")
            await until(pilot, lambda: max(c.content_width for c in table.columns.values()) > 3
                        and not table._require_update_dimensions and not table._updated_cells)
            table.refresh()  # the header line may have been painted before the last sizing
            await until(pilot, lambda: True)
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


def _rendered(app, selector: str) -> str:
    return rendered(app.query_one(selector))


def _log_at_its_end(app) -> bool:
    """The run's output written, wrapped to the log's width, and scrolled to its last line (a
    RichLog holds writes back until it knows its size, then scrolls)."""
    output = app.query_one("#output")
    return bool(output.lines) and not output._deferred_renders and output.scroll_y == output.max_scroll_y


AFTER_A_RUN = {  # what each tab shows once the run's data is there
    "backlog": lambda app: "Last test output" in _rendered(app, "#detail-body"),
    "run": lambda app: "Last run halted: CapReached" in _rendered(app, "#run-state") and _log_at_its_end(app),
    "review": lambda app: "def serve" in _rendered(app, "#diff"),
    "status": lambda app: "CapReached" in app.query_one("#report").source and app.query_one("#report").children,
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("tab", AFTER_A_RUN)
def test_after_a_run(snap_compare, after_run_repo: RepoPaths, tab: str, size: str) -> None:
    """The failed and the passed attempt: their history and last test output (backlog), the strip
    with times, the output and the halt (run), the branch's diff (review), the report (status)."""
    async def run_before(pilot) -> None:
        await showing(tab)(pilot)
        await until(pilot, lambda: AFTER_A_RUN[tab](pilot.app))

    assert snap_compare(still_app(after_run_repo), terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_an_invalid_file_shows_its_problems(snap_compare, app_repo: RepoPaths, size: str) -> None:
    async def broken(pilot) -> None:
        await until(pilot, lambda: pilot.app.board is not None)
        app_repo.backlog.write_text("tasks:\n  - id: [broken\n")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: pilot.app.query_one("#problems").has_class("-visible"))

    assert snap_compare(still_app(app_repo), terminal_size=SIZES[size], run_before=broken)


@pytest.mark.parametrize("key, screen", [("b", "ReasonScreen"), ("w", "WsjfScreen")])
def test_modal_screens(snap_compare, app_repo: RepoPaths, key: str, screen: str) -> None:
    async def asked(pilot) -> None:
        await until(pilot, lambda: pilot.app.board is not None)
        await pilot.press(key)
        await until(pilot, lambda: pilot.app.screen.__class__.__name__ == screen)
        if screen == "ReasonScreen":
            await pilot.press(*"waits for the log format")
        await steady_cursors(pilot)

    assert snap_compare(still_app(app_repo), terminal_size=(80, 24), run_before=asked)


def test_light_theme(snap_compare, after_run_repo: RepoPaths) -> None:
    async def light(pilot) -> None:
        await until(pilot, lambda: pilot.app.board is not None)
        await pilot.press("t")
        await until(pilot, lambda: pilot.app.theme == "textual-light")

    assert snap_compare(still_app(after_run_repo), terminal_size=(120, 40), run_before=light)


LONG_TODO = ("def settle(batch):\n"
             "    # TODO: retry the settlement export when the bank answers 503, with backoff and a cap on tries\n"
             "    return batch\n")


@pytest.mark.parametrize("size", SIZES)
def test_discover_fits_long_findings(snap_compare, app_repo: RepoPaths, size: str) -> None:
    """A long path and a long comment give up characters; the backlog column stays in sight."""
    from conftest import git, write

    write(app_repo.root / "src" / "payments" / "settlement" / "reconciliation.py", LONG_TODO)
    git(app_repo.root, "add", "-A")
    git(app_repo.root, "commit", "-qm", "settlement")
    assert snap_compare(still_app(app_repo), terminal_size=SIZES[size], run_before=showing("discover"))


def asking(keys: tuple[str, ...], screen: str, then: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        await until(pilot, lambda: pilot.app.board is not None)
        await pilot.press(*keys)
        await until(pilot, lambda: pilot.app.screen.__class__.__name__ == screen)
        await pilot.press(*then)
        await steady_cursors(pilot)
    return run_before


DIALOGS = {  # each dialog as it first asks, and the WSJF one with a value out of range
    "approve": ("after_run_repo", asking(("4", "a"), "ConfirmScreen")),
    "promote": ("app_repo", asking(("5", "p"), "PromoteScreen")),
    "wsjf": ("app_repo", asking(("w",), "WsjfScreen")),
    "wsjf-invalid": ("app_repo", asking(("w",), "WsjfScreen", ("4", "0", "enter", "enter", "enter", "enter"))),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dialog", DIALOGS)
def test_dialogs(snap_compare, request, dialog: str, size: str) -> None:
    fixture, run_before = DIALOGS[dialog]
    app = still_app(request.getfixturevalue(fixture))
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)
