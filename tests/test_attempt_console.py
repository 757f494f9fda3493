"""What an attempt tells on the console besides its phases: its warnings and, when a phase's
tests failed, the end of their output (both carried in the result and the attempt's event)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from engine_fixtures import RECIPE_POLICY, make_project, task_yaml

from leviathan_local import events
from leviathan_local.commands.attempt import run_attempt_command
from leviathan_local.commands.run import run_headless
from leviathan_local.engine.attempt_state import FAILED_OUTPUT_LINES
from leviathan_local.git.repo import find_repo

WRITEBACK = "task t not found in the base commit's backlog; committing without the status writeback"


def last_event(root: Path, kind: str) -> events.Event:
    return [event for event in events.read_events(find_repo(root)) if event.kind == kind][-1]


def test_an_attempt_warning_is_printed_and_carried_in_its_result_and_event(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("other"), RECIPE_POLICY)
    paths = find_repo(root)
    paths.backlog.write_text(paths.backlog.read_text() + task_yaml("t"))  # not committed: no writeback
    out = io.StringIO()
    assert run_attempt_command(paths, "t", as_json=True, out=out) == 0
    assert json.loads(out.getvalue())["warnings"] == [WRITEBACK]  # what `run` reads from a parallel attempt
    assert last_event(root, "attempt.succeeded").data["warnings"] == [WRITEBACK]  # the Run tab's
    paths.backlog.write_text(paths.backlog.read_text().replace("status: review", "status: ready"))
    out = io.StringIO()
    run_attempt_command(paths, "t", out=out)
    assert f"\n  warning: {WRITEBACK}\n" in out.getvalue()


def test_a_failed_phase_shows_the_last_lines_of_the_failing_test_run(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("bad", green="true"))  # calc.py never written: an import error
    out = io.StringIO()
    assert run_headless(find_repo(root), max_tasks=1, out=out) == 0
    text = out.getvalue()
    assert "bad: attempt attempt-bad-" in text and "failed (green: the test command failed (exit 1))" in text
    assert "  the test run's last lines (all of it in the log):\n    | " in text
    lines = [line for line in text.splitlines() if line.startswith("    | ")]
    shown = "\n".join(lines)
    assert len(lines) == FAILED_OUTPUT_LINES
    assert lines[-1] == "    | FAILED (errors=1)" and "ModuleNotFoundError" in shown
    log = (find_repo(root).state_dir / "attempts" / f"{last_event(root, 'attempt.failed').data['attempt']}.log")
    assert len(log.read_text().split("$ python -m unittest")[-1].splitlines()) > FAILED_OUTPUT_LINES  # cut
    failed = last_event(root, "attempt.failed").data["failed_output"]
    assert failed.splitlines() == [line.removeprefix("    | ") for line in lines]
