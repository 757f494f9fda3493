"""The append-only event log: NDJSON in `<git common dir>/leviathan/events.ndjson`.

Each event carries the hash of the previous one (`prev`) and its own `hash`, the SHA-256 of
its canonical JSON without `hash`; editing, deleting or reordering any line breaks the chain
at that line, which `verify_chain` reports. Appends from several processes are serialized by
an flock on a lock file beside the log.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from leviathan_local.clock import format_timestamp, now
from leviathan_local.errors import FileAccessError, file_error
from leviathan_local.repo_paths import RepoPaths

if TYPE_CHECKING:
    from pathlib import Path

GENESIS = "0" * 64


@dataclass(frozen=True)
class Event:
    seq: int
    ts: str
    kind: str
    task: str | None
    data: dict[str, Any]
    prev: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "kind": self.kind, "task": self.task, "data": self.data,
                "prev": self.prev, "hash": self.hash}


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    count: int
    broken_line: int | None = None
    broken_seq: int | None = None
    reason: str | None = None


STATE_DIR_HINT = ("that directory holds leviathan-local's runtime state (event log, locks, caches): move or "
                  "rename the file in its place, then run the command again")


def log_path(paths: RepoPaths):
    return paths.state_dir / "events.ndjson"


def ensure_state_dir(paths: RepoPaths) -> Path:
    """`<git common dir>/leviathan`, created when missing; a FileAccessError (exit 2) naming the
    path when a file sits where it or one of its parents should be."""
    try:
        paths.state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise file_error(error, paths.state_dir, paths.root, hint=STATE_DIR_HINT) from None
    return paths.state_dir


def open_state_file(paths: RepoPaths, name: str, mode: str) -> IO[str]:
    """A file of the state dir (a lock file, say) opened in ``mode``; errors name it (exit 2)."""
    path = ensure_state_dir(paths) / name
    try:
        return open(path, mode)
    except OSError as error:
        raise file_error(error, path, paths.root) from None


def _log_error(paths: RepoPaths, error: OSError, path: str | os.PathLike[str] | None = None) -> FileAccessError:
    """An OSError on the log (or its lock) as the user-facing error naming that file."""
    return file_error(error, path or log_path(paths), paths.root)


def event_hash(fields: dict[str, Any]) -> str:
    body = {key: value for key, value in fields.items() if key != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append_event(paths: RepoPaths, kind: str, task_id: str | None = None, **data: Any) -> Event:
    with open_log(paths) as log:
        return log.append(kind, task_id, **data)


@contextmanager
def open_log(paths: RepoPaths) -> Iterator[EventLog]:
    """The log opened for appending, for a change to make before its event is written: a log
    that cannot take the event (a directory in its place, no permission) fails here, before the
    change, instead of after it with the change unrecorded. Holds no lock while open."""
    with open_state_file(paths, "events.lock", "a") as lock:
        try:
            # Read and write: appending reads the last event to chain on, so both must work.
            descriptor = os.open(log_path(paths), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as error:
            raise _log_error(paths, error) from None
        try:
            yield EventLog(paths, lock, descriptor)
        finally:
            os.close(descriptor)


def check_appendable(paths: RepoPaths) -> None:
    """Raise now what an append would (exit 2, the file named), for a job that changes things
    long before its events and should refuse whole instead: an attempt, before its worktree."""
    with open_log(paths):
        pass


class EventLog:
    """The event log, open: `append` chains one event on under the cross-process lock."""

    def __init__(self, paths: RepoPaths, lock: IO[str], descriptor: int) -> None:
        self._paths, self._lock, self._descriptor = paths, lock, descriptor

    def append(self, kind: str, task_id: str | None = None, **data: Any) -> Event:
        try:
            return self._append_locked(kind, task_id, data)
        except OSError as error:
            raise _log_error(self._paths, error, error.filename) from None

    def _append_locked(self, kind: str, task_id: str | None, data: dict[str, Any]) -> Event:
        fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX)
        try:
            # Read under the lock: another process may have appended since the log was opened.
            last, ends_cleanly = _last_event(self._descriptor)
            fields = {"seq": (last["seq"] + 1) if last else 1, "ts": format_timestamp(now()), "kind": kind,
                      "task": task_id, "data": data, "prev": last["hash"] if last else GENESIS}
            fields["hash"] = event_hash(fields)
            line = json.dumps(fields, ensure_ascii=False, separators=(",", ":")) + "\n"
            if not ends_cleanly:
                line = "\n" + line  # keep a torn last line on its own, for `events verify` to name
            os.write(self._descriptor, line.encode("utf-8"))
            os.fsync(self._descriptor)
        finally:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
        return Event(**fields)


def _last_event(descriptor: int) -> tuple[dict[str, Any] | None, bool]:
    """The last line's event (read from the end, so appends stay fast on a long log), and
    whether the file ends with a newline."""
    position = os.fstat(descriptor).st_size
    block = b""
    while position > 0 and block.count(b"\n") < 2:
        step = min(4096, position)
        position -= step
        block = os.pread(descriptor, step, position) + block
    ends_cleanly = block.endswith(b"\n") or not block
    lines = [line for line in block.split(b"\n") if line.strip()]
    if not lines:
        return None, ends_cleanly
    try:
        return json.loads(lines[-1]), ends_cleanly
    except json.JSONDecodeError:
        # A torn last line: chain on after it anyway; `events verify` reports the damage.
        return {"seq": 0, "hash": hashlib.sha256(lines[-1]).hexdigest()}, ends_cleanly


def read_events(paths: RepoPaths, task_id: str | None = None) -> list[Event]:
    events = []
    try:
        with open(log_path(paths), encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    event = Event(**json.loads(line))
                except (json.JSONDecodeError, TypeError):
                    continue  # damaged lines are `events verify`'s business
                if task_id is None or event.task == task_id:
                    events.append(event)
    except FileNotFoundError:
        return []
    except OSError as error:
        raise _log_error(paths, error) from None
    return events


def verify_chain(paths: RepoPaths) -> ChainReport:
    previous, count = GENESIS, 0
    try:
        handle = open(log_path(paths), encoding="utf-8")
    except FileNotFoundError:
        return ChainReport(True, 0)
    except OSError as error:
        raise _log_error(paths, error) from None
    with handle:
        for number, line in enumerate(handle, start=1):
            problem, seq = _check_line(line, previous, count + 1)
            if problem:
                return ChainReport(False, count, number, seq, problem)
            previous, count = json.loads(line)["hash"], count + 1
    return ChainReport(True, count)


def _check_line(line: str, previous: str, expected_seq: int) -> tuple[str | None, int | None]:
    if not line.endswith("\n"):
        return "incomplete last line (torn write)", None
    try:
        fields = json.loads(line)
    except json.JSONDecodeError:
        return "not valid JSON", None
    if not isinstance(fields, dict) or "hash" not in fields:
        return "not an event", None
    seq = fields.get("seq")
    if fields.get("prev") != previous:
        return "prev does not match the previous event's hash (a line was removed, added or reordered)", seq
    if fields["hash"] != event_hash(fields):
        return "hash does not match the content (the event was edited)", seq
    if seq != expected_seq:
        return f"seq is {seq}, expected {expected_seq}", seq
    return None, seq
