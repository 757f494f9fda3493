"""The controller's side of a remote attempt, in the main checkout, whose backlog is the
authority: `begin_remote_attempt` marks the task `doing` and logs `attempt.started` (as a local
attempt does) and names the attempt, its branch and its base; once the worker has ended,
`apply_remote_attempt` fetches its branch and record and applies the result exactly as a local
attempt's end is applied (attempt_outcome's writers): review, a counted failure, blocked, or
interrupted. No record on the remote (the worker was killed, or its push failed) is an
interruption, not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from leviathan_local import events
from leviathan_local.atomic import write_atomic
from leviathan_local.backlog.model import Status, Task
from leviathan_local.backlog.store import load_backlog
from leviathan_local.config.contract import load_contract
from leviathan_local.config.policy_load import load_policy
from leviathan_local.engine.attempt_outcome import write_escalation, write_failure, write_review, write_started
from leviathan_local.engine.attempt_state import AttemptResult, PhaseFailed
from leviathan_local.engine.remote.record import (
    LOG_FILE, OUTCOME_EVENTS, RECORD_FILE, REPLAYED_EVENTS, AttemptRefs, RecordError, RemoteRecord, new_refs,
    parse_attempt_id, parse_record,
)
from leviathan_local.errors import BacklogError
from leviathan_local.git.remote import commit_parents, fetch_refs, read_commit_file, remote_refs
from leviathan_local.git.repo import branch_head
from leviathan_local.repo_paths import RepoPaths


@dataclass(frozen=True)
class RemoteStart:
    refs: AttemptRefs
    base: str

    @property
    def attempt_id(self) -> str:
        return self.refs.attempt_id


def begin_remote_attempt(paths: RepoPaths, url: str, task_id: str, refs: AttemptRefs | None = None,
                         **logged: object) -> RemoteStart:
    """The task `doing` under attempt ``refs`` (a new one by default), at the default branch's
    commit (the worker's `--base`); ``logged``: more to tell in its `attempt.started` event."""
    task = load_backlog(paths).task(task_id)
    if task.status is Status.DONE:
        raise BacklogError(f"task {task_id} is done", hint="a done task needs no attempt")
    refs, base = refs or new_refs(task_id), branch_head(paths, load_contract(paths).default_branch)
    events.check_appendable(paths)
    write_started(paths, task, refs.attempt_id, refs.branch, base=base, remote=url, **logged)
    return RemoteStart(refs, base)


def apply_remote_attempt(paths: RepoPaths, url: str, attempt_id: str,
                         seen_failure: PhaseFailed | None = None) -> AttemptResult:
    """The ended remote attempt's result, applied to the main checkout's backlog and logged.
    ``seen_failure``: how the attempt failed as its runner saw it end (engine/runners/job_state.py),
    used when the worker left no record (by default: interrupted, not counted), and when the
    record says interrupted but the runner counts the failure: a Job stopped at its deadline
    pushes an interrupted attempt's record, and its timeout still counts."""
    refs = parse_attempt_id(attempt_id)
    task = load_backlog(paths).task(refs.task_id)
    if applied := _applied(paths, refs):
        return applied
    found = remote_refs(url, [refs.record_ref, refs.branch_ref])
    if refs.record_ref not in found:
        if seen_failure is not None:
            failure = PhaseFailed(seen_failure.phase, f"{seen_failure.reason}, and it left no record",
                                  interrupted=seen_failure.interrupted, environment=seen_failure.environment)
            outcome = write_failure(paths, task, load_policy(paths).limits, refs.attempt_id, failure, None, remote=url)
            return AttemptResult(task.id, refs.attempt_id, refs.branch, outcome, f"remote: {failure.reason}")
        return _interrupted(paths, task, refs, url, "the remote attempt left no record (killed, or its push failed)")
    fetch_refs(paths.root, url, sorted(found))  # created here as on the remote; a local one elsewhere refuses
    raw = read_commit_file(paths.root, found[refs.record_ref], RECORD_FILE)
    try:
        record = parse_record(raw, refs)
    except RecordError as error:
        return _interrupted(paths, task, refs, url, f"its record is unusable: {error}")
    if log := read_commit_file(paths.root, found[refs.record_ref], LOG_FILE):
        _keep_log(paths.state_dir / "attempts" / f"{refs.attempt_id}.log", log)
    for event in record.events:
        if event.get("kind") in REPLAYED_EVENTS:
            events.append_event(paths, event["kind"], task.id, **{**event.get("data", {}), "remote": url})
    if record.outcome == "interrupted" and seen_failure is not None and seen_failure.counted:
        reason = f"{seen_failure.reason}; the worker was stopped ({record.reason})"
        record.outcome, record.reason = "failed", f"{seen_failure.phase}: {reason}"
        record.final = {**record.final, "phase": seen_failure.phase, "reason": reason}
    return _apply(paths, task, refs, url, record, found.get(refs.branch_ref))


def _keep_log(log_path: Path, recorded: bytes) -> None:
    """The record's log where `review` and the Run tab look for an attempt's log. A log streamed
    there from the worker as it ran (a Job's pod log) is kept when it holds the record's whole:
    it says more (the clone, the push). Otherwise the record's log follows it, so a reader that
    has read the stream so far reads on."""
    streamed = log_path.read_bytes() if log_path.is_file() else b""
    if recorded in streamed:
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    joint = b"\n[leviathan] the attempt's log as its record holds it (the stream above is not all of it):\n"
    write_atomic(log_path, streamed + joint + recorded if streamed else recorded)


def _apply(paths: RepoPaths, task: Task, refs: AttemptRefs, url: str, record: RemoteRecord,
           branch_commit: str | None) -> AttemptResult:
    result = AttemptResult(task.id, refs.attempt_id, refs.branch, record.outcome, record.reason, branch_commit,
                           record.phases)
    if record.outcome == "succeeded":
        if branch_commit is None or branch_commit != record.commit \
                or commit_parents(paths.root, branch_commit) != [record.base]:
            return _interrupted(paths, task, refs, url, f"its branch {refs.branch} is not the one commit on "
                                f"{record.base[:12]} its record names ({str(record.commit)[:12]})")
        write_review(paths, task, refs.attempt_id, refs.branch, commit=branch_commit, base=record.base,
                     phases=[vars(phase) for phase in record.phases], gates=record.final.get("gates", []), remote=url)
        return result
    if record.outcome == "needs_human":
        write_escalation(paths, task, refs.attempt_id, record.reason, remote=url)
        return result
    if record.outcome in ("failed", "budget", "interrupted"):
        failure = PhaseFailed(str(record.final.get("phase", "remote")), str(record.final.get("reason", record.reason)),
                              interrupted=record.outcome == "interrupted", budget=record.outcome == "budget",
                              escaped=bool(record.final.get("main_checkout_changed")))
        write_failure(paths, task, load_policy(paths).limits, refs.attempt_id, failure, branch_commit, remote=url)
        return result
    # already_done: the base's backlog has the task done, the main checkout's does not; nothing to review.
    return _interrupted(paths, task, refs, url, f"the worker found the task {record.outcome} "
                        f"in the base's backlog ({record.reason})")


def _interrupted(paths: RepoPaths, task: Task, refs: AttemptRefs, url: str, reason: str) -> AttemptResult:
    write_failure(paths, task, load_policy(paths).limits, refs.attempt_id, PhaseFailed("remote", reason, interrupted=True),
                  None, remote=url)
    return AttemptResult(task.id, refs.attempt_id, refs.branch, "interrupted", f"remote: {reason}")


def _applied(paths: RepoPaths, refs: AttemptRefs) -> AttemptResult | None:
    """Applying twice changes nothing: the result the first time logged."""
    for event in reversed(events.read_events(paths, refs.task_id)):
        if event.kind in OUTCOME_EVENTS and event.data.get("attempt") == refs.attempt_id:
            outcome = {"attempt.succeeded": "succeeded", "attempt.escalated": "needs_human"}.get(
                event.kind, str(event.data.get("outcome", "failed")))
            return AttemptResult(refs.task_id, refs.attempt_id, refs.branch, outcome, "already applied",
                                 event.data.get("commit") or event.data.get("branch_commit"))
    return None
