from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from leviathan_local.process import run_shell


def test_output_exit_code_and_environment(tmp_path: Path) -> None:
    result = run_shell('echo "out $LEVIATHAN_PHASE"; echo err >&2; exit 3', tmp_path, env={"LEVIATHAN_PHASE": "red"})
    assert result.exit_code == 3 and not result.passed and not result.timed_out
    assert result.output == "out red\nerr\n"


def test_timeout_kills_a_stubborn_grandchild(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    # The grandchild ignores SIGTERM and keeps running in the background.
    command = f"bash -c 'trap \"\" TERM; echo $$ > {pid_file}; while true; do sleep 0.05; done' & wait"
    result = run_shell(command, tmp_path, timeout=0.5)
    assert result.timed_out and result.exit_code is None
    grandchild = int(pid_file.read_text())
    for _ in range(100):  # the kernel reaps asynchronously
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    else:
        os.kill(grandchild, signal.SIGKILL)
        raise AssertionError("the grandchild survived the timeout")


def test_log_records_command_and_verdict(tmp_path: Path) -> None:
    log_file = tmp_path / "attempt.log"
    with open(log_file, "w") as log:
        run_shell("echo hello", tmp_path, log=log)
    assert log_file.read_text().startswith("$ echo hello\nhello\n[exit 0 after ")


def test_a_stop_request_ends_the_command(tmp_path: Path) -> None:
    import threading

    stop = threading.Event()
    stop.set()
    result = run_shell("sleep 30", tmp_path, stop=stop)
    assert result.timed_out and result.stopped and result.duration < 10
