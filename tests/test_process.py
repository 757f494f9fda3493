from __future__ import annotations

import threading
import time
from pathlib import Path

from engine_fixtures import assert_dies, stop_once_the_grandchild_is_ready, stubborn_grandchild

from leviathan_local.engine.process import run_shell


def test_output_exit_code_and_environment(tmp_path: Path) -> None:
    result = run_shell('echo "out $LEVIATHAN_PHASE"; echo err >&2; exit 3', tmp_path, env={"LEVIATHAN_PHASE": "red"})
    assert result.exit_code == 3 and not result.passed and not result.timed_out
    assert result.output == "out red\nerr\n"


def test_a_timeout_ends_the_command(tmp_path: Path) -> None:
    result = run_shell("sleep 30", tmp_path, timeout=0.3)
    assert result.timed_out and result.exit_code is None and not result.stopped and result.duration < 10


def test_timeout_kills_a_stubborn_grandchild(tmp_path: Path) -> None:
    """The kill reaches a grandchild that ignores SIGTERM (SIGKILL after the grace period).

    It once failed under load: the 0.5 s timeout could strike before the grandchild had set its
    trap or written its pid (it then died of TERM, or left no pid file), and `kill(pid, 0)`
    succeeds on a zombie that init has not reaped yet. Now the kill comes only once the
    grandchild says it is ready, and a zombie counts as dead. The kill is the one a timeout
    makes (`run_shell` takes the same path for both); `test_a_timeout_ends_the_command` shows
    the timeout starting it.
    """
    pid_file = tmp_path / "grandchild.pid"
    result, grandchild = stop_once_the_grandchild_is_ready(
        lambda stop: run_shell(stubborn_grandchild(pid_file), tmp_path, timeout=120, stop=stop), pid_file)
    assert_dies(grandchild)
    assert result.timed_out and result.exit_code is None


def test_log_records_command_and_verdict(tmp_path: Path) -> None:
    log_file = tmp_path / "attempt.log"
    with open(log_file, "w") as log:
        run_shell("echo hello", tmp_path, log=log)
    assert log_file.read_text().startswith("$ echo hello\nhello\n[exit 0 after ")


def test_a_stop_request_ends_the_command(tmp_path: Path) -> None:
    stop = threading.Event()
    stop.set()
    result = run_shell("sleep 30", tmp_path, stop=stop)
    assert result.timed_out and result.stopped and result.duration < 10


def test_output_reaches_the_log_while_the_command_runs(tmp_path: Path) -> None:
    """The command cannot finish before the test sees its first line: only a streamed log shows it."""
    log_file, go = tmp_path / "attempt.log", tmp_path / "go"
    command = f"echo first; until [ -f {go} ]; do sleep 0.01; done; echo second"
    results = []
    with open(log_file, "w") as log:
        worker = threading.Thread(target=lambda: results.append(run_shell(command, tmp_path, timeout=30, log=log)))
        worker.start()
        for _ in range(3000):
            if "first\n" in log_file.read_text():
                break
            time.sleep(0.01)
        seen_while_running = "first\n" in log_file.read_text() and worker.is_alive()
        go.touch()
        worker.join(30)
    assert seen_while_running
    assert results[0].output == "first\nsecond\n" and results[0].passed


def test_a_background_child_keeps_the_command_until_its_output_ends(tmp_path: Path) -> None:
    result = run_shell("(sleep 0.2; echo late) & echo early", tmp_path, timeout=30)
    assert result.output == "early\nlate\n" and result.passed
