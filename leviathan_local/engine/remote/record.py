"""A remote attempt's names and its record: what the worker pushes and the controller reads.

An attempt `attempt-<task>-<short>` pushes at most two references, both created, never moved:
its work branch `refs/heads/agent/<task>-<short>` and its record
`refs/leviathan/attempts/attempt-<task>-<short>`, a commit without a parent whose tree holds
`attempt.json` (this module's format) and `attempt.log` (every phase's command output).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from leviathan_local.engine.attempt_state import AttemptResult, PhaseRecord
from leviathan_local.errors import LeviathanError
from leviathan_local.events import Event
from leviathan_local.git.refnames import ref_problem

RECORD_FORMAT = 1
RECORD_FILE = "attempt.json"
LOG_FILE = "attempt.log"
RECORD_PREFIX = "refs/leviathan/attempts/"
OUTCOME_EVENTS = ("attempt.succeeded", "attempt.failed", "attempt.escalated")
REPLAYED_EVENTS = ("phase.started", "phase.finished")
_SHORT = re.compile(r"[0-9a-z]{1,40}")


class AttemptIdError(LeviathanError):
    title = "Bad attempt id"


class RecordError(ValueError):
    """A record the controller cannot trust (unreadable, another attempt's, another format)."""


@dataclass(frozen=True)
class AttemptRefs:
    task_id: str
    short: str

    @property
    def attempt_id(self) -> str:
        return f"attempt-{self.task_id}-{self.short}"

    @property
    def branch(self) -> str:
        return f"agent/{self.task_id}-{self.short}"

    @property
    def branch_ref(self) -> str:
        return f"refs/heads/{self.branch}"

    @property
    def record_ref(self) -> str:
        return RECORD_PREFIX + self.attempt_id


def new_refs(task_id: str) -> AttemptRefs:
    return AttemptRefs(task_id, secrets.token_hex(3))


def parse_attempt_id(attempt_id: str, task_id: str | None = None) -> AttemptRefs:
    """The names of ``attempt_id`` (`attempt-<task>-<short>`, of ``task_id`` when given)."""
    hint = "an attempt id reads attempt-<task id>-<short>, the short part lowercase letters and digits"
    head, _, short = attempt_id.removeprefix("attempt-").rpartition("-")
    if not attempt_id.startswith("attempt-") or not head or not _SHORT.fullmatch(short):
        raise AttemptIdError(f"--attempt-id {attempt_id!r} is no attempt id", hint=hint)
    if task_id is not None and head != task_id:
        raise AttemptIdError(f"--attempt-id {attempt_id!r} is not an attempt at task {task_id}",
                             hint=f"use attempt-{task_id}-<short>")
    refs = AttemptRefs(head, short)
    for name in (refs.branch_ref, refs.record_ref):
        if problem := ref_problem(name):
            raise AttemptIdError(f"--attempt-id {attempt_id!r} makes no reference git accepts ({problem})", hint=hint)
    return refs


def build_record(refs: AttemptRefs, base: str, result: AttemptResult, logged: list[Event]) -> dict[str, Any]:
    """The record of a finished attempt, ``logged`` being the worker's events of it."""
    final = next((event for event in reversed(logged) if event.kind in OUTCOME_EVENTS), None)
    return {
        "format": RECORD_FORMAT, "task": refs.task_id, "attempt": refs.attempt_id, "branch": refs.branch,
        "base": base, "outcome": result.outcome, "reason": result.reason, "commit": result.commit,
        "cost_usd": result.spent(), "phases": [asdict(phase) for phase in result.phases],
        "final": {"kind": final.kind, "data": final.data} if final else None,
        "events": [{"kind": event.kind, "ts": event.ts, "data": event.data}
                   for event in logged if event.kind in REPLAYED_EVENTS],
    }


@dataclass
class RemoteRecord:
    outcome: str
    reason: str
    base: str
    commit: str | None
    phases: list[PhaseRecord]
    final: dict[str, Any] = field(default_factory=dict)  # the worker's outcome event's data
    events: list[dict[str, Any]] = field(default_factory=list)  # its phase events, to replay


def parse_record(raw: bytes | None, refs: AttemptRefs) -> RemoteRecord:
    if raw is None:
        raise RecordError(f"the record commit holds no {RECORD_FILE}")
    try:
        data = json.loads(raw.decode("utf-8"))
        if data.get("format") != RECORD_FORMAT:
            raise RecordError(f"record format {data.get('format')!r}, this version reads {RECORD_FORMAT}")
        if (data.get("task"), data.get("attempt")) != (refs.task_id, refs.attempt_id):
            raise RecordError(f"the record is of {data.get('attempt')!r}, not {refs.attempt_id}")
        final = data.get("final") or {}
        return RemoteRecord(str(data["outcome"]), str(data.get("reason") or ""), str(data["base"]), data.get("commit"),
                            [PhaseRecord(**phase) for phase in data.get("phases") or []],
                            dict(final.get("data") or {}), list(data.get("events") or []))
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError, KeyError, TypeError) as error:
        raise RecordError(f"unreadable {RECORD_FILE}: {type(error).__name__}: {error}") from None
