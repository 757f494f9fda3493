"""The Status tab's trend plots runs (the reports written at a run's halt), one narrow bar each;
reports written on demand are not runs and stay out of it."""

from __future__ import annotations

from tui.conftest import drive, rendered, settle

from leviathan_local import events
from leviathan_local.git.repo import RepoPaths
from leviathan_local.reports.files import make_report, run_history, write_report
from leviathan_local.tui.app import TABS, LeviathanApp


def on_demand_and_a_second_run(paths: RepoPaths) -> None:
    """After the fixture's run (1 completed): three reports on demand, then a run that completed nothing."""
    for _ in range(3):
        write_report(paths, make_report(paths))
    events.append_event(paths, "run.started", None, max_tasks=1, targets=[])
    write_report(paths, make_report(paths, "AllDoneOrBlocked", run_window=True))
    events.append_event(paths, "run.halted", None, reason="AllDoneOrBlocked", commit=None)
    write_report(paths, make_report(paths))  # the newest report is on demand again


def test_run_history_keeps_the_runs_reports_oldest_first(after_run_repo: RepoPaths) -> None:
    on_demand_and_a_second_run(after_run_repo)
    runs = run_history(after_run_repo)
    assert [(r["halt_reason"], r["items_completed"]) for r in runs] == [("CapReached", 1), ("AllDoneOrBlocked", 0)]


async def status_tab(app: LeviathanApp, pilot) -> None:
    await settle(app, pilot, lambda: app.board is not None)
    await pilot.press(str(TABS.index("status") + 1))
    await settle(app, pilot, lambda: "per run" in rendered(app.query_one("#trend")))


def chart_lines(app: LeviathanApp) -> list[str]:
    return [line.rstrip() for line in rendered(app.query_one("#completions")).splitlines()]


def test_the_trend_shows_one_bar_a_run(after_run_repo: RepoPaths) -> None:
    on_demand_and_a_second_run(after_run_repo)
    app = LeviathanApp(after_run_repo, watch_files=False)

    async def script(pilot) -> None:
        await status_tab(app, pilot)
        assert rendered(app.query_one("#trend")).strip() == "Tasks completed per run (last 2 runs): 1, 0"
        # A bar for the run that completed one, a dot for the run that completed none.
        assert chart_lines(app) == ["███", "███", "███  ·"]

    drive(app, script)


def test_one_run_is_one_bar_not_a_band(after_run_repo: RepoPaths) -> None:
    app = LeviathanApp(after_run_repo, watch_files=False)

    async def script(pilot) -> None:
        await status_tab(app, pilot)
        assert chart_lines(app) == ["███"] * 3

    drive(app, script)
