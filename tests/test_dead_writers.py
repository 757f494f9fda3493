"""What a writer SIGKILLed in the middle of a write leaves, cleared by the next write (found by
tests/test_kill_anywhere.py): an atomic write's temp file, the main checkout's git locks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from conftest import git, write
from engine_fixtures import wait_until

from leviathan_local.atomic import write_atomic
from leviathan_local.git.main_locks import MARKER, clear_dead_writers_locks, guarded_main_write
from leviathan_local.git.repo import RepoPaths, commit_file

HOLD_AND_WAIT = """\
import fcntl, os, sys, time
descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(descriptor, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(600)
"""


def killed_writer(temp: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    """A process that made ``temp`` and holds it (as a live writer does) until killed."""
    ready = tmp_path / "ready"
    writer = subprocess.Popen([sys.executable, "-c", HOLD_AND_WAIT, str(temp), str(ready)])
    wait_until(ready.exists, "the writer to hold its temp file")
    return writer


def test_a_write_removes_the_temp_file_a_killed_writer_left_and_spares_a_live_ones(tmp_path: Path) -> None:
    target = write(tmp_path / "dir" / "backlog.yaml", "old\n")
    dead, live = target.parent / ".backlog.yaml.deadbeef.tmp", target.parent / ".backlog.yaml.alive123.tmp"
    writer = killed_writer(dead, tmp_path)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    alive = killed_writer(live, tmp_path / "dir")
    try:
        write_atomic(target, b"new\n")
        assert target.read_bytes() == b"new\n"
        assert not dead.exists(), "a killed writer's temp file stays for good"
        assert live.exists(), "a live writer's temp file was taken away"
    finally:
        alive.kill()
        alive.wait()


def test_a_commit_clears_the_locks_a_writer_killed_inside_a_commit_left(repo_paths: RepoPaths) -> None:
    paths = repo_paths
    with guarded_main_write(paths, "refs/heads/main"):
        marker = (paths.state_dir / MARKER).read_bytes()
    (paths.state_dir / MARKER).write_bytes(marker)  # as a writer that died inside leaves it: listed, unheld
    (paths.git_dir / "index.lock").write_text("")  # the locks it took, as libgit2 makes them mid-commit
    (paths.common_dir / "refs" / "heads" / "main.lock").write_text("")
    write(paths.root / "notes.txt", "a note\n")

    assert commit_file(paths, "notes.txt", "add a note")

    assert not (paths.git_dir / "index.lock").exists() and not (paths.common_dir / "refs/heads/main.lock").exists()
    assert git(paths.root, "log", "-1", "--format=%s").strip() == "add a note"
    assert clear_dead_writers_locks(paths) == []  # the list was cleared with them


def test_a_lock_older_than_the_dead_writer_is_not_its_own(repo_paths: RepoPaths) -> None:
    paths = repo_paths
    older = paths.git_dir / "index.lock"
    older.write_text("")  # the human's own git died holding it, before the tool's write began
    os.utime(older, ns=(1, 1))
    with guarded_main_write(paths, "refs/heads/main"):
        marker = (paths.state_dir / MARKER).read_bytes()
    (paths.state_dir / MARKER).write_bytes(marker)
    assert clear_dead_writers_locks(paths) == [] and older.exists()
