"""The Run tab shows what the console shows of a run: a ReviewLimitReached halt with what
stopped it, an attempt's warnings, and the end of a failing test run (from the events)."""

from __future__ import annotations

from tui.conftest import drive, settle, still_app
from tui.test_run_from_app import log_text
from tui.test_run_replay import run_state

from leviathan_local import events
from leviathan_local.git.repo import RepoPaths

DETAIL = "1 branch waits for review and max_open_reviews is 1, so 2 ready tasks did not start; raise it"


def test_the_run_tab_shows_warnings_the_failing_output_and_the_review_limit(app_repo: RepoPaths) -> None:
    events.append_event(app_repo, "run.started", None, max_tasks=None, targets=[])
    events.append_event(app_repo, "attempt.started", "docs-install", attempt="attempt-docs-install-1", branch="b1")
    events.append_event(app_repo, "attempt.failed", "docs-install", attempt="attempt-docs-install-1",
                        reason="the test command failed (exit 1)", failed_output="E   assert 1 == 2\n1 failed in 0.1s")
    events.append_event(app_repo, "attempt.started", "docs-install", attempt="attempt-docs-install-2", branch="b2")
    events.append_event(app_repo, "attempt.succeeded", "docs-install", attempt="attempt-docs-install-2",
                        warnings=["task docs-install not found in the base commit's backlog"])
    events.append_event(app_repo, "run.halted", None, reason="ReviewLimitReached", commit=None, detail=DETAIL)
    app = still_app(app_repo)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: app.board is not None)
        await pilot.press("3")
        await settle(app, pilot, lambda: "ReviewLimitReached" in run_state(app))
        assert f"Last run halted: ReviewLimitReached: {DETAIL}" in " ".join(run_state(app).split())
        text = log_text(app)
        assert "the test run's last lines:\n   | E   assert 1 == 2\n   | 1 failed in 0.1s\n" in text
        assert "   warning: task docs-install not found in the base commit's backlog\n" in text
        assert f"══ halted: ReviewLimitReached: {DETAIL}" in " ".join(text.split())  # wrapped to the width

    drive(app, script)
