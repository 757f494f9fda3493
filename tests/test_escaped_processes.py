"""A process the agent detached into a session of its own (`setsid`, a daemon) escapes the
process group a timeout or a stop kills: the attempt's end finds it by the attempt id its
environment carries, however the attempt ends."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from engine_fixtures import (
    GREEN, POLICY, RED, assert_dies, make_project, marked, stop_once_the_grandchild_is_ready, task_yaml,
)

from leviathan_local.engine.attempt import run_attempt
from leviathan_local.engine.attempt_state import AttemptResult
from leviathan_local.git.repo import find_repo

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="finding escaped processes needs /proc")

MARK = "ESCAPED_DAEMON_MARK"  # the test's own mark on its daemon: cleaned up whatever the code under test did


def daemon(pid_file: Path, mark: str) -> str:
    """Shell lines starting a daemon in its own session (output detached, so the agent's command
    can end without it), then waiting until it has written its pid."""
    body = f"echo $$ > {pid_file}.tmp && mv {pid_file}.tmp {pid_file} && exec sleep 300"
    return (f"{MARK}={mark} setsid sh -c '{body}' </dev/null >/dev/null 2>&1 &\n"
            f"    while [ ! -f {pid_file} ]; do sleep 0.01; done\n")


def agent_script(directory: Path, pid_file: Path, mark: str, green: str, block: bool) -> Path:
    """A `command` agent: red writes the test and starts the daemon (then blocks, where the
    attempt is to end by its timeout or a stop); green runs ``green``."""
    script = directory / "agent.sh"
    script.write_text("#!/bin/sh\n"
                      'case "$LEVIATHAN_PHASE" in\n'
                      f"  red)\n    {RED}\n    {daemon(pid_file, mark)}"
                      + ("    while true; do sleep 0.05; done\n" if block else "") + "    ;;\n"
                      f"  green) {green} ;;\n"
                      "esac\n")
    script.chmod(0o755)
    return script


@pytest.fixture
def mark(tmp_path: Path) -> Iterator[str]:
    """A value unique to the test; every process carrying it is killed when the test ends, passed or not."""
    yield str(tmp_path)
    for pid in marked(str(tmp_path), MARK):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def project(git_repo: Path, mark: str, green: str, block: bool, timeout: int = 30) -> tuple[Path, Path]:
    pid_file = git_repo.parent / "daemon.pid"
    script = agent_script(git_repo.parent, pid_file, mark, green, block)
    policy = POLICY.replace("python AGENT_SCRIPT", str(script)).replace(
        "attempt_timeout_seconds: 30", f"attempt_timeout_seconds: {timeout}")
    task = ("  - id: t\n    title: Add\n    status: ready\n    allowed_paths: [calc.py, tests/]\n"
            "    acceptance_criteria: [add works]\n")
    return make_project(git_repo, task, policy), pid_file


def assert_swept(root: Path, result: AttemptResult, pid_file: Path) -> None:
    assert pid_file.exists(), "the agent never started its daemon"
    # Once the attempt has returned, nothing carries its id: the sweep waits until the kill took.
    assert marked(result.attempt_id) == []
    assert_dies(int(pid_file.read_text()))
    log = (find_repo(root).state_dir / "attempts" / f"{result.attempt_id}.log").read_text()
    assert f"killed 1 process {result.attempt_id} left running" in log


@pytest.mark.parametrize(("green", "outcome"), [(GREEN, "succeeded"), ("true", "failed")],
                         ids=["success", "failure"])
def test_an_attempt_that_ends_kills_the_daemon_its_agent_left(git_repo: Path, mark: str, green: str,
                                                               outcome: str) -> None:
    root, pid_file = project(git_repo, mark, green, block=False)
    result = run_attempt(find_repo(root), "t")
    assert result.outcome == outcome, result.reason
    assert_swept(root, result, pid_file)


def test_an_attempt_that_times_out_kills_the_daemon_too(git_repo: Path, mark: str) -> None:
    """The group kill at the timeout misses the daemon (another session); the sweep does not.
    The agent blocks only once its daemon runs, so the few seconds cover the start but a load."""
    root, pid_file = project(git_repo, mark, GREEN, block=True, timeout=3)
    result = run_attempt(find_repo(root), "t")
    assert result.outcome == "failed" and "timed out" in result.reason, result.reason
    assert_swept(root, result, pid_file)


def test_a_stopped_attempt_kills_the_daemon_too(git_repo: Path, mark: str) -> None:
    root, pid_file = project(git_repo, mark, GREEN, block=True)
    result, _ = stop_once_the_grandchild_is_ready(lambda stop: run_attempt(find_repo(root), "t", stop), pid_file)
    assert isinstance(result, AttemptResult)
    assert result.outcome == "interrupted" and "shutdown requested" in result.reason
    assert_swept(root, result, pid_file)
