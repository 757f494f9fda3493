"""A full run driven from the app with a scripted agent, then review from the app; and quitting
while a run is going on stops it cleanly (ShutdownRequested, halt commit)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from conftest import git
from engine_fixtures import POLICY, make_project, task_yaml, unittest_file
from textual.widgets import DataTable, RichLog, Static
from tui.conftest import drive, rendered, settle

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.events import read_events
from leviathan_local.git.repo import find_repo
from leviathan_local.tui.app import LeviathanApp
from leviathan_local.tui.widgets.run_view import RunView

MUL_RED = unittest_file("mul", "self.assertEqual(mul(2, 3), 6)", "from mul import mul")
MUL_GREEN = "printf 'def mul(a, b):\\n    return a * b\\n' > mul.py"


def log_text(app: LeviathanApp) -> str:
    return "\n".join(line.text for line in app.query_one(RichLog).lines)


async def run_to_halt(app: LeviathanApp, pilot) -> None:
    """Start a run from the Run tab and let it go until it halts."""
    await settle(app, pilot, lambda: app.board is not None)
    await pilot.press("3", "s")
    await settle(app, pilot, lambda: not app.query_one(RunView).running)


def test_a_run_from_the_app_then_approve_and_reject(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("add") + task_yaml("mul", MUL_RED, MUL_GREEN, allowed="[mul.py, tests/]"),
                        POLICY.replace("attempt_timeout_seconds: 30", "attempt_timeout_seconds: 30, max_open_reviews: 5"))
    paths = find_repo(root)
    app = LeviathanApp(paths, watch_files=False)

    async def script(pilot) -> None:
        await run_to_halt(app, pilot)
        await settle(app, pilot, lambda: "Halted: AllDoneOrBlocked" in rendered(app.query_one("#run-state", Static)))
        strip = rendered(app.query_one("#strip", Static))
        # The last attempt (mul): every phase passed, each with its time.
        assert re.fullmatch(r"red ✓ \d+\.\ds → green ✓ \d+\.\ds → refactor ✓ \d+\.\ds → gates ✓ \d+\.\ds → "
                            r"commit ✓ \d+\.\ds", strip.strip()), strip
        output = log_text(app)
        assert "── add: " in output and "── mul: " in output and "succeeded" in output
        assert "Ran 2 tests" in output  # the test command's own output, streamed from the attempt log

        await pilot.press("4")
        reviews = app.query_one("#reviews", DataTable)
        await settle(app, pilot, lambda: reviews.row_count == 2)
        reviews.move_cursor(row=[key.value for key in reviews.rows].index("add"))
        await settle(app, pilot, lambda: "def add" in rendered(app.query_one("#diff", Static)))
        await pilot.press("a")  # approving asks first
        await settle(app, pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen")
        await pilot.press("y")
        await settle(app, pilot, lambda: reviews.row_count == 1)
        await pilot.press("x")
        await settle(app, pilot, lambda: app.screen.__class__.__name__ == "ReasonScreen")
        await pilot.press(*"name it times", "enter")
        await settle(app, pilot, lambda: reviews.row_count == 0)

    drive(app, script)
    backlog = load_backlog(paths)
    assert backlog.task("add").status is Status.DONE
    assert backlog.task("mul").status is Status.READY and backlog.task("mul").get("review_feedback") == "name it times"
    assert (root / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"  # merged into main
    assert not (root / "mul.py").exists()
    kinds = [event.kind for event in read_events(paths)]
    assert kinds.count("attempt.succeeded") == 2 and "run.halted" in kinds


def test_the_task_detail_shows_attempts_and_the_last_test_output(git_repo: Path) -> None:
    failing_green = "printf 'def add(a, b):\\n    return a - b\\n' > calc.py"
    root = make_project(git_repo, task_yaml("add", green=failing_green))
    paths = find_repo(root)
    app = LeviathanApp(paths, watch_files=False)

    async def script(pilot) -> None:
        await run_to_halt(app, pilot)
        await settle(app, pilot, lambda: "Halted: " in rendered(app.query_one("#run-state", Static)))
        # The strip shows the last attempt: red passed, green failed, the rest never started.
        strip = rendered(app.query_one("#strip", Static)).strip()
        assert re.fullmatch(r"red ✓ \d+\.\ds → green ✗ \d+\.\ds → refactor → gates → commit", strip), strip
        await pilot.press("1")
        await settle(app, pilot, lambda: "Attempts" in rendered(app.query_one("#detail-body", Static)))
        detail = rendered(app.query_one("#detail-body", Static))
        assert detail.count(" failed (green") == 2  # both attempts, newest first
        assert "red ✓" in detail and "green ✗" in detail
        assert "Last test output" in detail and "AssertionError: -1 != 5" in detail and "[exit 1 after" in detail

    drive(app, script)
    assert load_backlog(paths).task("add").status is Status.BLOCKED


def test_quitting_during_a_run_stops_it_cleanly(git_repo: Path) -> None:
    # The agent says it started, then works far longer than the test will wait.
    root = make_project(git_repo, task_yaml("add", red="echo agent started; sleep 60"))
    paths = find_repo(root)
    app = LeviathanApp(paths, watch_files=False)

    async def script(pilot) -> None:
        await start_a_long_attempt(app, pilot)
        await pilot.press("q")

    drive(app, script)
    assert app.return_code in (0, None)
    assert_stopped_cleanly(root)


def test_s_stops_a_run_cleanly_and_the_app_stays(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("add", red="echo agent started; sleep 60"))
    app = LeviathanApp(find_repo(root), watch_files=False)

    async def script(pilot) -> None:
        await start_a_long_attempt(app, pilot)
        await pilot.press("s")
        await settle(app, pilot, lambda: not app.query_one(RunView).running)
        assert "Halted: ShutdownRequested" in rendered(app.query_one("#run-state", Static))
        assert "add: failed shutdown requested" in log_text(app)
        assert app.is_running

    drive(app, script)
    assert_stopped_cleanly(root)


async def start_a_long_attempt(app: LeviathanApp, pilot) -> None:
    """Start a run whose agent says it started, then works far longer than any test waits."""
    await settle(app, pilot, lambda: app.board is not None)
    await pilot.press("3", "s")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    # Polled, not settled: settling waits for the workers, and the run's worker is busy for a minute.
    while "agent started" not in log_text(app):  # streamed while the agent is still running
        assert loop.time() < deadline, "the agent's output never showed up"
        await asyncio.sleep(0.05)
        await pilot.pause()
    assert app.query_one(RunView).running


def assert_stopped_cleanly(root: Path) -> None:
    """ShutdownRequested, the halt commit, the interrupted attempt not counted."""
    paths = find_repo(root)
    halted = [event for event in read_events(paths) if event.kind == "run.halted"]
    assert len(halted) == 1 and json.dumps(halted[0].data).count("ShutdownRequested") == 1
    assert git(root, "log", "-1", "--format=%s").strip() == "[leviathan] Save backlog state on halt (ShutdownRequested)"
    task = load_backlog(paths).task("add")
    assert task.status is Status.READY and task.attempts == 0  # an interrupted attempt does not count
    assert git(root, "worktree", "list", "--porcelain").count("worktree ") == 1 or not any(
        (root / "worktrees").glob("*/calc.py"))


def test_the_run_tab_shows_the_last_run_even_one_from_the_cli(git_repo: Path) -> None:
    from leviathan_local.engine.runner import RunOptions, run
    from leviathan_local.reports.files import write_halt_report

    root = make_project(git_repo, task_yaml("add"))
    paths = find_repo(root)
    run(paths, RunOptions(halt_report=write_halt_report))  # what `leviathan run` does
    app = LeviathanApp(paths, watch_files=False)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: app.board is not None)
        await pilot.press("3")
        await settle(app, pilot, lambda: "Last run halted: AllDoneOrBlocked" in rendered(
            app.query_one("#run-state", Static)))
        strip = rendered(app.query_one("#strip", Static)).strip()
        assert re.fullmatch(r"red ✓ \d+\.\ds → green ✓ \d+\.\ds → refactor ✓ \d+\.\ds → gates ✓ \d+\.\ds → "
                            r"commit ✓ \d+\.\ds", strip), strip
        output = log_text(app)
        assert output.startswith("══ run started 2026-11-22T12:00:00Z")
        assert "── add: succeeded" in output and "Ran 2 tests" in output and "══ halted: AllDoneOrBlocked" in output

    drive(app, script)


def test_the_latest_run_is_found_from_the_end_of_the_event_log(tmp_path: Path) -> None:
    from leviathan_local.tui.widgets.run_view import last_run_offset

    lines = [{"kind": "run.started", "data": {}}, {"kind": "run.halted", "data": {}},
             {"kind": "run.started", "data": {}}, {"kind": "attempt.started", "data": {}},
             {"kind": "task.blocked", "data": {"reason": "waits for run.started"}}]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    log = tmp_path / "events.ndjson"
    log.write_text(text)
    second = text.index('{"kind": "run.started"', 1)
    for block in (1, 7, 64, 1 << 16):  # lines cut across blocks, and all of it at once
        assert last_run_offset(log, block) == second
    log.write_text(text.split("\n", 1)[0] + "\n")
    assert last_run_offset(log, 5) == 0
    log.write_text(json.dumps(lines[-1]) + "\n")
    assert last_run_offset(log) is None
    assert last_run_offset(tmp_path / "missing.ndjson") is None


def test_output_faster_than_a_screen_is_summarised(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("add"))
    paths = find_repo(root)
    log = paths.state_dir / "attempts" / "attempt-add-000000.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("".join(f"line {n}\n" for n in range(20_000)))  # ~190 KB at once
    app = LeviathanApp(paths, watch_files=False)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: app.board is not None)
        await pilot.press("3")
        await settle(app, pilot, lambda: app.query(RunView))
        view = app.query_one(RunView)
        view.attempt = "attempt-add-000000"
        view._catch_up()  # no run in the log: read by hand
        await settle(app, pilot, lambda: "line 19999" in log_text(app))
        text = log_text(app)
        assert "KB not shown (all of it is in" in text and "line 0\n" not in text
        with open(log, "a") as more:
            more.write("line 20000\n")
        view._catch_up()
        await settle(app, pilot, lambda: log_text(app).endswith("line 19999\nline 20000"))

    drive(app, script)
