"""The git locks a write to the main checkout takes (`index.lock`, `refs/heads/<branch>.lock`…),
cleared when the process that took them died (SIGKILL mid-commit).

git never removes a stale lock itself: every later `git commit` of the human's, and the tool's
own next halt commit, would fail on it ("Unable to create '…/index.lock': File exists"). A lock
cannot say whose it is, so the tool says beforehand: a marker in the state dir, flock'ed for the
length of the write, lists the locks the write may take. A marker that holds a list but that
nobody holds was left by a writer that died inside: those of its locks that exist and are not
older than the marker are its own, and go. (The one lock this cannot tell apart: the human's
own git taking the same lock in the instant the next write or recovery clears it.)
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from leviathan_local.repo_paths import RepoPaths

MARKER = "main-write.marker"


@contextmanager
def guarded_main_write(paths: RepoPaths, reference: str) -> Iterator[None]:
    """Hold the marker while the block writes the main checkout's index and ``reference``
    (`refs/heads/main`): a death inside leaves it listing the locks, for the next one to clear."""
    locks = [paths.git_dir / "index.lock", paths.git_dir / "HEAD.lock", paths.git_dir / "logs" / "HEAD.lock",
             paths.common_dir / f"{reference}.lock", paths.common_dir / "logs" / f"{reference}.lock"]
    with guarded_locks(paths, locks):
        yield


@contextmanager
def guarded_locks(paths: RepoPaths, locks: list[Path]) -> Iterator[None]:
    """Hold the marker while the block may take ``locks`` (`.git/config.lock` for a config write):
    a death inside leaves it listing them, for the next guarded write or recovery to clear."""
    with _marker(paths) as descriptor:
        _clear(descriptor)
        _write(descriptor, json.dumps([str(lock) for lock in locks]))
        yield
        _write(descriptor, "")


def clear_dead_writers_locks(paths: RepoPaths) -> list[str]:
    """The locks a dead writer of the main checkout left, removed; their paths."""
    if not (paths.state_dir / MARKER).exists():
        return []
    with _marker(paths) as descriptor:
        return _clear(descriptor)


@contextmanager
def _marker(paths: RepoPaths) -> Iterator[int]:
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(paths.state_dir / MARKER, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # one writer of the main checkout at a time
        yield descriptor
    finally:
        os.close(descriptor)


def _clear(descriptor: int) -> list[str]:
    listed = os.pread(descriptor, 1 << 16, 0)
    if not listed.strip():
        return []  # the last writer finished
    started = os.fstat(descriptor).st_mtime_ns  # when the dead writer listed its locks
    removed = []
    try:
        names = json.loads(listed)
    except ValueError:
        names = []  # cut short while being listed: no lock was taken yet
    for name in names:
        lock = Path(name)
        try:
            if lock.stat().st_mtime_ns >= started:
                lock.unlink()
                removed.append(name)
        except FileNotFoundError:
            continue
    _write(descriptor, "")
    return removed


def _write(descriptor: int, text: str) -> None:
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, text.encode("utf-8"), 0)
