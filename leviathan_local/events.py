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

from leviathan_local.atomic import write_atomic
from leviathan_local.clock import format_timestamp, now
from leviathan_local.errors import EXIT_WORK_FAILED, FileAccessError, LeviathanError, file_error
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
def open_log(paths: RepoPaths, verified: bool = False) -> Iterator[EventLog]:
    """The log opened for appending, for a change to make before its event is written: a log
    that cannot take the event (a directory in its place, no permission) fails here, before the
    change, instead of after it with the change unrecorded. Holds no lock while open.
    ``verified``: refuse a log whose chain is broken too (`check_chain`), as a human's command
    does (ready, merge, reject...); a job checks once at its start instead, not at each event."""
    if verified:
        check_chain(paths)
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
    long before its events and should refuse whole instead: an attempt, before its worktree.
    A log whose chain is broken refuses too (exit 1, the first broken line named): an event
    chained onto it would vouch for what someone changed."""
    with open_log(paths):
        pass
    check_chain(paths)


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
    """The whole chain checked, line by line (`events verify`)."""
    data = _log_bytes(paths)
    return ChainReport(True, 0) if data is None else _verify_lines(data, 0, GENESIS, 0)[0]


def check_chain(paths: RepoPaths) -> None:
    """Refuse (BrokenLogError, exit 1) to chain onto a log whose chain is broken. Cheap on a long
    log: the bytes up to the last point verified are only hashed (any edit there changes the
    digest, and then the whole chain is checked to name the first broken line); the events after
    it are checked one by one. The point moves to the end each time the chain holds."""
    with open_state_file(paths, "events.lock", "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_SH)  # no append is half written meanwhile
        data = _log_bytes(paths)
        if data is None:
            return
        start, previous, count, digest = 0, GENESIS, 0, hashlib.sha256()
        point = _verified_point(paths)
        if point is not None and point["offset"] <= len(data):
            digest.update(memoryview(data)[:point["offset"]])
            if digest.hexdigest() == point["digest"]:
                start, previous, count = point["offset"], point["hash"], point["count"]
            else:
                digest = hashlib.sha256()
        report, last_hash = _verify_lines(data, start, previous, count)
        if not report.ok:
            seq = f" (seq {report.broken_seq})" if report.broken_seq is not None else ""
            raise BrokenLogError(f"the event log {log_path(paths)} is broken at line {report.broken_line}{seq}: "
                                 f"{report.reason}; {report.count} events before it are intact",
                                 hint="nothing was written: `leviathan events verify` shows the damage; restore the "
                                      "log from a backup, or move it aside to start a new one")
        digest.update(memoryview(data)[start:])
        record = {"offset": len(data), "count": report.count, "hash": last_hash, "digest": digest.hexdigest()}
        write_atomic(paths.state_dir / VERIFIED_POINT, json.dumps(record).encode(), durable=False)


class BrokenLogError(LeviathanError):
    title = "Event log broken"
    exit_code = EXIT_WORK_FAILED


VERIFIED_POINT = "events.verified"  # where the chain was last found intact: {offset, count, hash, digest}


def _verified_point(paths: RepoPaths) -> dict[str, Any] | None:
    try:
        point = json.loads((paths.state_dir / VERIFIED_POINT).read_bytes())
        return point if {"offset", "count", "hash", "digest"} <= set(point) else None
    except (OSError, ValueError, TypeError):
        return None  # none yet, or unreadable: the whole chain is checked, and the point written anew


def _log_bytes(paths: RepoPaths) -> bytes | None:
    try:
        return log_path(paths).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise _log_error(paths, error) from None


def _verify_lines(data: bytes, start: int, previous: str, count: int) -> tuple[ChainReport, str]:
    """The chain checked from byte ``start``, which follows ``count`` intact events ending with
    hash ``previous`` (one line each); (the report, the last intact event's hash)."""
    lines = data[start:].split(b"\n")
    ends_cleanly = lines[-1] == b""
    for index, raw in enumerate(lines[:-1] if ends_cleanly else lines):
        whole = index < len(lines) - 1
        problem, seq = _check_line(raw.decode("utf-8", errors="replace") + ("\n" if whole else ""), previous,
                                   count + 1)
        if problem:
            return ChainReport(False, count, count + 1, seq, problem), previous
        previous, count = json.loads(raw)["hash"], count + 1
    return ChainReport(True, count), previous


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
