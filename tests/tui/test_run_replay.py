"""The Run tab replaying the event log: a torn line in it, the strip's setup cell, a run from
another process followed until it halts (then no more reading), and a later one picked up when
the tab is shown."""

from __future__ import annotations

from tui.conftest import drive, rendered, settle, still_app
from tui.test_run_from_app import log_text

from leviathan_local import events
from leviathan_local.git.repo import RepoPaths
from leviathan_local.tui.widgets.run_view import RunView

ATTEMPT = "attempt-docs-install-5e6f7a"


def run_state(app) -> str:
    return rendered(app.query_one("#run-state"))


def test_a_torn_line_in_the_event_log_is_skipped(app_repo: RepoPaths) -> None:
    events.append_event(app_repo, "run.started", None, max_tasks=1, targets=[])
    with open(events.log_path(app_repo), "ab") as log:  # a run killed mid-write
        log.write(b'{"seq":2,"ts":"2026-11-22T12:00:00Z","kind":"attempt.sta')
    events.append_event(app_repo, "run.halted", None, reason="CapReached", commit=None)
    assert events.log_path(app_repo).read_bytes().count(b"\n") == 3  # the torn line kept on its own
    app = still_app(app_repo)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: app.board is not None)
        await pilot.press("3")
        await settle(app, pilot, lambda: "Last run halted: CapReached" in run_state(app))
        assert "══ halted: CapReached" in log_text(app)
        assert app.is_running and not app.query_one(RunView).polling

    drive(app, script)


def test_a_run_from_another_process_is_followed_until_it_halts(app_repo: RepoPaths) -> None:
    attempt_log = app_repo.state_dir / "attempts" / f"{ATTEMPT}.log"
    # A CLI run in its first attempt when the tab opens.
    events.append_event(app_repo, "run.started", None, max_tasks=1, targets=[])
    events.append_event(app_repo, "attempt.started", "docs-install", attempt=ATTEMPT, branch="agent/docs-install")
    attempt_log.parent.mkdir(parents=True, exist_ok=True)
    attempt_log.write_text("$ python -m pytest -q\n")
    app = still_app(app_repo)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: app.board is not None)
        await pilot.press("3")
        await settle(app, pilot, lambda: "has not halted yet" in run_state(app) and "$ python" in log_text(app))
        view = app.query_one(RunView)
        assert view.polling

        # The CLI run goes on and halts: the view follows it on its own.
        with open(attempt_log, "a") as log:
            log.write("1 failed in 0.04s\n")
        events.append_event(app_repo, "attempt.failed", "docs-install", attempt=ATTEMPT, reason="tests fail")
        events.append_event(app_repo, "run.halted", None, reason="AllDoneOrBlocked", commit=None)
        await settle(app, pilot, lambda: "Last run halted: AllDoneOrBlocked" in run_state(app))
        assert log_text(app).endswith("1 failed in 0.04s\n── docs-install: failed tests fail\n"
                                      "══ halted: AllDoneOrBlocked")
        assert not view.polling
        reads = []
        view._catch_up = lambda: reads.append(1)  # what every poll would do
        view.follow()  # as the 0.2 s timer does
        assert reads == []
        del view._catch_up

        # A later CLI run, with no attempt yet: shown with the tab, then followed to its halt.
        events.append_event(app_repo, "run.started", None, max_tasks=1, targets=[])
        await pilot.press("1", "3")
        await settle(app, pilot, lambda: "has not halted yet" in run_state(app))
        assert log_text(app).count("══ run started") == 2 and view.polling
        events.append_event(app_repo, "run.halted", None, reason="NothingReady", commit=None)
        await settle(app, pilot, lambda: "Last run halted: NothingReady" in run_state(app))
        assert not view.polling
        await pilot.press("1", "3")  # shown again, nothing new: nothing replayed twice
        await settle(app, pilot)
        assert log_text(app).count("══ run started") == 2

    drive(app, script)


def test_a_run_with_no_attempt_yet_is_followed_too(app_repo: RepoPaths) -> None:
    events.append_event(app_repo, "run.started", None, max_tasks=1, targets=[])  # opened before any attempt
    app = still_app(app_repo)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: app.board is not None)
        await pilot.press("3")
        await settle(app, pilot, lambda: "has not halted yet" in run_state(app))
        events.append_event(app_repo, "run.halted", None, reason="NothingReady", commit=None)
        await settle(app, pilot, lambda: "Last run halted: NothingReady" in run_state(app), timeout=5)
        assert not app.query_one(RunView).polling

    drive(app, script)


def strip(app) -> str:
    return rendered(app.query_one("#strip")).strip()


def test_the_strip_leads_with_setup_once_the_attempt_runs_one(app_repo: RepoPaths) -> None:
    events.append_event(app_repo, "run.started", None, max_tasks=1, targets=[])
    events.append_event(app_repo, "attempt.started", "docs-install", attempt=ATTEMPT, branch="agent/docs-install")
    events.append_event(app_repo, "phase.started", "docs-install", attempt=ATTEMPT, phase="setup")
    app = still_app(app_repo)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: app.board is not None)
        await pilot.press("3")
        await settle(app, pilot, lambda: strip(app).startswith("setup"))
        assert strip(app) == "setup … → red → green → refactor → gates → commit"
        events.append_event(app_repo, "phase.finished", "docs-install", attempt=ATTEMPT, phase="setup",
                            verdict="passed", seconds=3.14)
        events.append_event(app_repo, "phase.started", "docs-install", attempt=ATTEMPT, phase="red")
        await settle(app, pilot, lambda: "red …" in strip(app), timeout=5)
        assert strip(app) == "setup ✓ 3.1s → red … → green → refactor → gates → commit"
        # The next attempt has no setup yet (policy may have none): no setup cell.
        events.append_event(app_repo, "attempt.started", "docs-install", attempt=ATTEMPT + "-2",
                            branch="agent/docs-install")
        await settle(app, pilot, lambda: not strip(app).startswith("setup"), timeout=5)
        assert strip(app) == "red → green → refactor → gates → commit"

    drive(app, script)
