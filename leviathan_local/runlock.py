"""One run per repository: an flock'ed lock file with the holder's pid.

The kernel drops an flock when its process dies, so a lock file whose content names a pid
but that nobody holds was left by a crashed run: the next run takes it over and recovers.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager

from leviathan_local.clock import format_timestamp, now
from leviathan_local.errors import LeviathanError
from leviathan_local.events import open_state_file
from leviathan_local.repo_paths import RepoPaths


class RunInProgressError(LeviathanError):
    title = "Another run is in progress"


@contextmanager
def run_lock(paths: RepoPaths) -> Iterator[dict | None]:
    """Hold the repository's run lock; yields the stale holder's record when one crashed."""
    lock_file = paths.state_dir / "run.lock"
    with open_state_file(paths, "run.lock", "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(handle)
            raise RunInProgressError(
                f"another leviathan run (pid {holder.get('pid', '?')}, since {holder.get('started', '?')}) "
                f"holds {lock_file}",
                hint="wait for it to halt, or stop it (Ctrl-C / kill -TERM <pid>) and run again",
            ) from None
        stale = _read(handle) or None
        _write(handle, {"pid": os.getpid(), "started": format_timestamp(now())})
        try:
            yield stale
        finally:
            _write(handle, None)  # a clean release leaves nothing to recover
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _read(handle) -> dict:
    handle.seek(0)
    try:
        return json.loads(handle.read() or "{}")
    except json.JSONDecodeError:
        return {}


def _write(handle, record: dict | None) -> None:
    handle.seek(0)
    handle.truncate()
    if record is not None:
        handle.write(json.dumps(record))
    handle.flush()
    os.fsync(handle.fileno())
