"""The worker's side: `leviathan attempt ID --remote URL --base SHA` on any machine with git
and the agent. It checks the attempt's two references are free on the remote, checks the base
out from the cache (engine/remote/cache.py) on a local default branch there, runs the same
cycle as a local attempt (engine/attempt.run_attempt), then pushes its record, and its branch
when the attempt left a commit on it, in one atomic push that only creates.

The backlog in the worker's clone is scratch: the controller's main checkout is the authority,
and applies the record to it (engine/remote/apply.py).
"""

from __future__ import annotations

import json
import os
import threading
from contextlib import nullcontext
from dataclasses import dataclass
from typing import BinaryIO

from leviathan_local import events
from leviathan_local.config.contract import load_contract
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.engine.attempt_state import AttemptResult
from leviathan_local.engine.controller_context import ENV, ControllerContext
from leviathan_local.engine.preflight import check_attempt_inputs
from leviathan_local.engine.remote.cache import attempt_checkout
from leviathan_local.engine.remote.log_echo import echoed
from leviathan_local.engine.remote.record import (
    LOG_FILE, RECORD_FILE, AttemptRefs, build_record, new_refs, parse_attempt_id,
)
from leviathan_local.errors import LeviathanError
from leviathan_local.git.remote import RefExistsError, commit_files, point_branch_at, push_new_refs, remote_refs
from leviathan_local.git.repo import find_repo

_FULL_ID_LENGTHS = (40, 64)  # SHA-1, SHA-256


class BaseCommitError(LeviathanError):
    title = "Bad base commit"


@dataclass
class RemoteResult:
    result: AttemptResult
    pushed: dict[str, str]  # reference -> commit, as created on the remote


def run_remote_attempt(url: str, task_id: str, base: str, attempt_id: str | None = None,
                       stop: threading.Event | None = None, budget_left: float | None = None,
                       stream_log: BinaryIO | None = None) -> RemoteResult:
    """``stream_log``: where the attempt's log is copied as it is written (a Job's stdout)."""
    refs = parse_attempt_id(attempt_id, task_id) if attempt_id else new_refs(task_id)
    # What the controller knows of the task that this clone cannot (a Job's environment has it).
    known = ControllerContext.from_json(os.environ[ENV]) if os.environ.get(ENV) else None
    if len(base) not in _FULL_ID_LENGTHS or any(c not in "0123456789abcdef" for c in base):
        raise BaseCommitError(f"--base {base!r} is no full commit id",
                              hint="pass the base as the controller saw it: `git rev-parse main`")
    # Before any work: an id whose references exist would only be refused after the agent's cost.
    if taken := remote_refs(url, [refs.branch_ref, refs.record_ref]):
        raise RefExistsError(f"the remote {url} already has {', '.join(sorted(taken))}",
                             hint="an attempt id is used once: start the attempt with a new --attempt-id")
    with attempt_checkout(url, refs.attempt_id, base) as checkout:
        paths = find_repo(checkout)
        point_branch_at(checkout, load_contract(paths).default_branch, base)  # the branch attempts start from
        check_attempt_inputs(paths, task_id)  # bad input: exit 2 before the attempt writes anything
        log_file = paths.state_dir / "attempts" / f"{refs.attempt_id}.log"
        with echoed(log_file, stream_log) if stream_log else nullcontext():
            result = run_attempt(paths, task_id, stop, budget_left, short=refs.short, known=known)
        logged = [event for event in events.read_events(paths, task_id) if event.data.get("attempt") == refs.attempt_id]
        files = {RECORD_FILE: (json.dumps(build_record(refs, base, result, logged), indent=2) + "\n").encode()}
        if log_file.is_file():
            files[LOG_FILE] = log_file.read_bytes()
        updates = {refs.record_ref: commit_files(checkout, files, _subject(refs, result))}
        if result.commit:  # the reviewable commit, or a failure's work kept for inspection
            updates[refs.branch_ref] = result.commit
        push_new_refs(checkout, url, updates)
    return RemoteResult(result, updates)


def _subject(refs: AttemptRefs, result: AttemptResult) -> str:
    return (f"[leviathan] Attempt record {refs.attempt_id}: {result.outcome}\n\n"
            f"Leviathan-Task: {refs.task_id}\nLeviathan-Attempt: {refs.attempt_id}\n")
