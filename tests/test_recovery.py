"""Recovery from a real death: a `leviathan run` (or a lone `leviathan attempt`) SIGKILLed while
its agent works, the agent's processes left running, then a second run that takes over."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git
from engine_fixtures import RED, make_project, marked, process_gone, task_yaml, wait_until
from test_run import policy_with

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.commands.run import run_headless
from leviathan_local.git.repo import find_repo


def blocking_red(pid_file: Path) -> str:
    """Red writes its test, says it is running (its pid), then waits for a file that never comes;
    an attempt that finds the pid file already there (the next one) just does red."""
    block = f"echo $$ > {pid_file}.tmp && mv {pid_file}.tmp {pid_file} && while true; do sleep 0.05; done"
    return f"{RED} && if [ ! -f {pid_file} ]; then {block}; fi"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="finding left-over processes needs /proc")
@pytest.mark.parametrize(("command", "limit", "status"), [
    (["run"], 2, Status.REVIEW),
    (["run"], 1, Status.BLOCKED),
    (["attempt", "a"], 2, Status.REVIEW),
], ids=["run-died-back-to-ready", "run-died-blocked-at-the-limit", "lone-attempt-died"])
def test_a_second_run_recovers_what_a_killed_one_left(git_repo: Path, command, limit: int, status: Status) -> None:
    pid_file = git_repo.parent / "agent.pid"
    root = make_project(git_repo, task_yaml("a", red=blocking_red(pid_file)), policy_with(max_attempts_per_task=limit))
    paths = find_repo(root)
    dead = subprocess.Popen([sys.executable, "-m", "leviathan_local", "--repo", str(root), *command],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lock = paths.state_dir / "run.lock"
    try:
        wait_until(lambda: pid_file.exists() or dead.poll() is not None, "the agent to start")
        assert dead.poll() is None, "the first process ended before its agent blocked"
        attempt_id = load_backlog(paths).task("a").get("last_attempt_id")
        held = lock.exists() and f'"pid": {dead.pid}' in lock.read_text()
        assert held == (command == ["run"])  # a lone attempt takes no run lock
        assert (paths.state_dir / "tmp" / attempt_id).is_dir()  # the attempt's temp dir, left by the kill
    finally:
        dead.kill()
        dead.wait()
    agent = int(pid_file.read_text())
    try:
        assert not process_gone(agent) and agent in marked(attempt_id)  # the agent outlived its run
        check_recovery(paths, dead.pid, command == ["run"], attempt_id, agent, status)
    finally:
        for pid in marked(attempt_id):  # never leave an agent behind, whatever failed
            os.kill(pid, signal.SIGKILL)


def check_recovery(paths, dead_pid: int, run_died: bool, attempt_id: str, agent: int, status: Status) -> None:
    root = paths.root
    out = io.StringIO()
    code = run_headless(paths, out=out)
    text = out.getvalue()

    assert code == 0, text
    assert (f"recovered from a run that died (pid {dead_pid}" in text) == run_died
    assert f"a: attempt {attempt_id} died (pid {dead_pid})" in text
    assert re.search(rf"killed \d+ process(es)? {attempt_id} left running", text), text
    wait_until(lambda: process_gone(agent) and not marked(attempt_id), "the left-over agent to die", seconds=30)
    dead_branch = "agent/" + attempt_id.removeprefix("attempt-")
    kept = git(root, "rev-list", f"main..{dead_branch}").split()
    assert len(kept) == 1 and git(root, "show", "--name-only", "--format=", kept[0]).split() == ["tests/test_add.py"]
    assert "Interrupted attempt" in git(root, "log", "-1", "--format=%s", dead_branch)
    slot = root / "worktrees" / "slot-0"
    assert git(slot, "status", "--porcelain", "--ignored") == "" and git(slot, "branch", "--show-current") == ""
    task = load_backlog(paths).task("a")
    assert (task.status, task.attempts) == (status, 1)  # the dead attempt counted; at limit 1 it blocks
    if status is Status.BLOCKED:
        assert task.get("blocked_type") == "attempts_exhausted" and text.endswith("Halted: AllDoneOrBlocked\n")
    assert list((paths.state_dir / "running").iterdir()) == []
    assert not (paths.state_dir / "tmp" / attempt_id).exists()
    assert (paths.state_dir / "run.lock").read_text() == ""


def test_an_internal_error_after_the_commit_leaves_the_attempt_for_the_next_run(git_repo: Path, monkeypatch) -> None:
    """The tool's own failure outside the cycle (here: writing the outcome down) keeps the attempt's
    record, so the next run recovers the task instead of leaving it `doing` for good."""
    from leviathan_local.engine import attempt as attempt_module
    from leviathan_local.engine.recovery import recover

    root = make_project(git_repo, task_yaml("a"))
    paths = find_repo(root)

    def bookkeeping_fails(*_arguments) -> None:
        raise OSError("disk full")  # injected: the one step no real fixture can make fail on demand

    monkeypatch.setattr(attempt_module, "record_success", bookkeeping_fails)
    with pytest.raises(OSError, match="disk full"):
        attempt_module.run_attempt(paths, "a")
    assert load_backlog(paths).task("a").status is Status.DOING
    assert list((paths.state_dir / "running").glob("*.json")), "the record stays for the next run"
    notes = recover(paths, None)
    task = load_backlog(paths).task("a")
    assert task.status is Status.READY and task.attempts == 1, notes
    assert not list((paths.state_dir / "running").glob("*.json"))
