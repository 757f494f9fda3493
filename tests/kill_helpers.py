"""Killing a real `leviathan run` with SIGKILL (its whole process group), and checking that one
more run leaves nothing behind: no task `doing`, no slot on a branch or half checked out, no
temp file or git lock, the three files loading, the human's edits kept, the log's chain intact."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from conftest import git, write
from engine_fixtures import make_project, marked, task_yaml, wait_until

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.commands.run import run_headless
from leviathan_local.config.contract import load_contract
from leviathan_local.config.policy_load import load_policy
from leviathan_local.events import verify_chain
from leviathan_local.git.repo import RepoPaths, find_repo

BULK_FILES = 3000  # a checkout of this many files takes long enough to be killed in its middle


def bulk_project(root: Path, tasks: str, policy: str | None = None) -> RepoPaths:
    """``make_project`` with BULK_FILES small files under `bulk/`, which a slot checks out in
    path order (so `bulk/f1000.txt` appearing means the checkout is a third done)."""
    for number in range(BULK_FILES):
        write(root / "bulk" / f"f{number:04d}.txt", f"file {number}\n")
    write(root / ".leviathan" / "contract.yaml", "target_id: demo\nname: Demo\ndefault_branch: main\n")
    return find_repo(make_project(root, tasks, *([policy] if policy else [])))


def start_run(paths: RepoPaths, environment: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`leviathan run` in a session of its own: its process group is its pid, which its
    commands find in KILL_RUN_GROUP (the shell's pid, which exec makes the run's)."""
    command = [sys.executable, "-m", "leviathan_local", "--repo", str(paths.root), "run"]
    return subprocess.Popen(["sh", "-c", 'export KILL_RUN_GROUP=$$; exec "$@"', "sh", *command],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, **(environment or {})})


def kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it halted on its own before the milestone: the check after it holds all the same
    process.wait()


def kill_when(process: subprocess.Popen[bytes], milestone: Callable[[], bool], what: str) -> bool:
    """Poll ``milestone`` as fast as the machine allows and SIGKILL the run's group the moment it
    holds; False when the run ended first (it passed the milestone without stopping)."""
    deadline = time.monotonic() + 120
    while not milestone():
        if process.poll() is not None:
            return False
        if time.monotonic() > deadline:
            kill_group(process)
            raise AssertionError(f"timed out waiting for the milestone: {what}")
        time.sleep(0)  # yield the core: the run needs it to reach the milestone
    kill_group(process)
    return True


def rerun(paths: RepoPaths) -> tuple[int, str]:
    out = io.StringIO()
    code = run_headless(paths, out=out)
    return code, out.getvalue()


def leftovers(paths: RepoPaths) -> list[str]:
    """Everything a killed run may not leave behind once one more run is over (empty: nothing)."""
    root, found = paths.root, []
    for task in load_backlog(paths).tasks:
        if task.status is Status.DOING:
            found.append(f"task {task.id} is still doing")
    load_policy(paths), load_contract(paths)  # the three files parse
    slots = root / "worktrees"
    for slot in sorted(slots.glob("slot-*")) if slots.is_dir() else []:
        if branch := git(slot, "branch", "--show-current").strip():
            found.append(f"{slot.name} is on {branch}")
        if status := git(slot, "status", "--porcelain", "--ignored").strip():
            found.append(f"{slot.name} is not a clean checkout: {status.splitlines()[:3]}")
    listed = git(root, "worktree", "list", "--porcelain")
    found += [f"git knows a worktree on {line.split()[1]}" for line in listed.splitlines()
              if line.startswith("branch refs/heads/agent/")]
    found += [f"prunable worktree: {line}" for line in listed.splitlines() if line.startswith("prunable")]
    for top in (paths.common_dir, root / ".leviathan", slots):
        if top.is_dir():
            found += [f"left behind: {path}" for path in top.rglob("*")
                      if (path.name.endswith((".lock", ".tmp")) or path.name.startswith("tmp_obj")) and not _held_for_good(paths, path)]
    found += [f"temp file: {path}" for path in (paths.state_dir / "running").glob("*")]
    chain = verify_chain(paths)
    if not chain.ok:
        found.append(f"event log broken at line {chain.broken_line}: {chain.reason}")
    for pid in marked(str(root), "KILL_TEST_REPO"):
        os.kill(pid, signal.SIGKILL)
        found.append(f"process {pid} of the killed run still runs")
    return found


def _held_for_good(paths: RepoPaths, path: Path) -> bool:
    """The state dir's flock files, which stay (an flock, not the file, is what is held)."""
    return path.parent == paths.state_dir / "slots" or path in {paths.state_dir / name for name in FLOCK_FILES}


FLOCK_FILES = ("run.lock", "events.lock", "backlog.lock")


def agent_branches(paths: RepoPaths) -> list[str]:
    return git(paths.root, "branch", "--list", "agent/*", "--format=%(refname:short)").split()


__all__ = ["bulk_project", "kill_when", "leftovers", "rerun", "start_run", "task_yaml", "wait_until"]
