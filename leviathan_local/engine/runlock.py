"""One run per repository: an flock'ed lock file with the holder's pid. One record per running attempt.

The kernel drops an flock when its process dies, so a lock file whose content names a pid
but that nobody holds was left by a crashed run: the next run takes it over and recovers.
Each attempt, in a run or on its own (`leviathan attempt`), holds a record the same way in
`<state dir>/running/`: what it works on and the process group of its current command, so
whoever finds the record unheld can stop what the dead attempt left running and clean up.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from leviathan_local.clock import format_timestamp, now
from leviathan_local.errors import LeviathanError
from leviathan_local.events import ensure_state_dir, open_state_file
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


RECORD_BYTES = 2048  # records are rewritten in place at this size: a reader never sees half of one


class AttemptRecord:
    """A running attempt's record, held (flock'ed) for as long as the attempt's process lives."""

    def __init__(self, handle: IO[str], data: dict[str, Any]) -> None:
        self.handle, self.data = handle, data
        self.size = RECORD_BYTES

    def update(self, **fields: Any) -> None:
        self.data.update(fields)
        # One write of a fixed size, padded with spaces (valid JSON): the content is never torn
        # or shortened in place. No fsync: what it describes (processes) ends with a power loss.
        text = json.dumps(self.data).ljust(self.size)
        self.size = len(text)
        os.pwrite(self.handle.fileno(), text.encode("utf-8"), 0)

    def set_group(self, group: int) -> None:
        """The process group of the command the attempt is running now."""
        self.update(pgid=group)


@contextmanager
def attempt_record(paths: RepoPaths, **data: Any) -> Iterator[AttemptRecord]:
    """Hold a record of this attempt (``data`` must name its ``attempt``) until the block ends."""
    directory = ensure_state_dir(paths) / "running"
    directory.mkdir(exist_ok=True)
    final = directory / f"{data['attempt']}.json"
    temporary = directory / f".{data['attempt']}.tmp"
    with open(temporary, "w") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        record = AttemptRecord(handle, {"pid": os.getpid(), "started": format_timestamp(now()), **data})
        record.update()
        os.replace(temporary, final)  # it appears already held: no reader takes it for a dead attempt's
        yield record  # an exception leaves the record behind: the next run recovers the attempt
        final.unlink(missing_ok=True)


@dataclass
class DeadAttempt:
    """The record of an attempt whose process died, held by whoever recovers it."""

    data: dict[str, Any]
    path: Path
    handle: IO[str]

    def forget(self) -> None:
        """Recovered: the record goes."""
        self.path.unlink(missing_ok=True)
        self.handle.close()

    def release(self) -> None:
        """Not recovered (recovery failed or never got to it): the record stays for the next run."""
        if not self.handle.closed:
            self.handle.close()


def attempt_records(paths: RepoPaths) -> tuple[list[dict[str, Any]], list[DeadAttempt]]:
    """(the records of attempts still running, the records of dead ones, now held by the caller)."""
    live, dead = [], []
    for path in sorted((paths.state_dir / "running").glob("*.json")):
        try:
            handle = open(path, "r+")
        except FileNotFoundError:
            continue  # the attempt finished meanwhile
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            live.append(_read(handle))
            handle.close()
            continue
        if os.fstat(handle.fileno()).st_nlink == 0:
            handle.close()  # finished between the listing and the lock: its record is gone
            continue
        dead.append(DeadAttempt(_read(handle), path, handle))
    return live, dead
