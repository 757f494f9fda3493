"""Atomic file replacement: readers see the old bytes or the new ones, never a mix.

The temp file sits in the target's directory so the final ``os.replace`` is a rename on one
file system; fsync of the file and then of the directory makes the new bytes survive a crash.
(Written by the lead for the backlog store; `init` uses ``write_atomic`` too.)
"""

from __future__ import annotations

import fcntl
import glob
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Replace ``path`` with ``data``; ``durable=False`` skips fsync (for disposable caches)."""
    _replace(path, data, durable, expected=None)


def write_atomic_if_unchanged(path: Path, data: bytes, expected: bytes) -> bool:
    """Replace ``path`` only if it still holds ``expected``; False when someone changed it.

    The comparison happens after the new bytes are safely on disk and right before the
    rename, which narrows the window for a lost update to the rename itself.
    """
    return _replace(path, data, True, expected)


def _replace(path: Path, data: bytes, durable: bool, expected: bytes | None) -> bool:
    descriptor, temp_name = _held_temp(path)
    try:  # the descriptor, and so the temp file's flock, stays open until the rename is done
        with os.fdopen(descriptor, "wb", closefd=False) as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        _keep_mode(path, temp_name)
        if expected is not None and _current_bytes(path) != expected:
            os.unlink(temp_name)
            return False
        os.replace(temp_name, path)
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise
    finally:
        os.close(descriptor)
    if durable:
        _fsync_directory(path.parent)
    return True


def _held_temp(path: Path) -> tuple[int, str]:
    """A new temp file beside ``path``, flock'ed for as long as this process writes it: a temp
    file nobody holds was left by a writer that died (SIGKILL between create and rename), and
    is removed here, so one more write of the same file leaves none behind."""
    while True:
        descriptor, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        if os.fstat(descriptor).st_nlink:
            break
        os.close(descriptor)  # another writer's sweep took it for a dead one's before the flock: again
    for left in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        if str(left) != temp_name:
            _remove_if_dead(left)
    return descriptor, temp_name


def _remove_if_dead(temp: Path) -> None:
    try:
        handle = os.open(temp, os.O_RDONLY)
    except OSError:
        return  # gone meanwhile (renamed into place by its live writer), or not ours to read
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        temp.unlink(missing_ok=True)
    except OSError:
        pass  # held: its writer lives
    finally:
        os.close(handle)


def _current_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def _keep_mode(path: Path, temp_name: str) -> None:
    # mkstemp creates 0600; a replaced file keeps the permissions the human gave it.
    try:
        os.chmod(temp_name, path.stat().st_mode & 0o7777)
    except FileNotFoundError:
        os.chmod(temp_name, 0o644 & ~_umask())


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
