"""An attempt's end in the backlog and the event log: review on success; back to ready
(counted), blocked at the limit, for a budget or an escape, or escalated to a human. The
``write_*`` halves change only the main checkout's backlog and log: a remote attempt's
controller (engine/remote/apply.py) applies a result through them too."""

from __future__ import annotations

import logging

from leviathan_local import events
from leviathan_local.backlog.model import Status, Task, status_fields
from leviathan_local.backlog.store import load_backlog, update_task
from leviathan_local.config.policy import Limits
from leviathan_local.engine.attempt_state import AttemptResult, AttemptState, PhaseFailed
from leviathan_local.engine.main_checkout_watch import escape_block_fields, report_escape
from leviathan_local.git.attempt_tree import bring_head_back, commit_on_branch, stage_worktree
from leviathan_local.git.repo import delete_branch, detach_worktree
from leviathan_local.repo_paths import RepoPaths

logger = logging.getLogger(__name__)


def write_started(paths: RepoPaths, task: Task, attempt_id: str, branch: str, **logged: object) -> None:
    """The task is `doing` on ``branch``; its event is opened first."""
    with events.open_log(paths) as log:
        update_task(paths, task.id, {**status_fields(task, Status.DOING), "last_attempt_id": attempt_id,
                                     "branch_name": branch})
        log.append("attempt.started", task.id, attempt=attempt_id, branch=branch, **logged)


def record_success(attempt: AttemptState, result: AttemptResult) -> None:
    write_review(attempt.paths, attempt.task, attempt.attempt_id, attempt.branch, commit=result.commit,
                 base=attempt.base, phases=[vars(p) for p in attempt.phases], gates=attempt.gates_passed, **_said(attempt.warnings))


def write_review(paths: RepoPaths, task: Task, attempt_id: str, branch: str, **logged: object) -> None:
    """The task waits for review on ``branch``: its event (``logged`` told in it) opens the log first."""
    with events.open_log(paths) as log:
        update_task(paths, task.id, {**status_fields(task, Status.REVIEW), "last_attempt_id": attempt_id,
                                     "branch_name": branch})
        log.append("attempt.succeeded", task.id, attempt=attempt_id, branch=branch, **logged)


def record_failure(attempt: AttemptState, failure: PhaseFailed) -> AttemptResult:
    paths, task = attempt.paths, attempt.task
    # Keep what the agent did on the branch for inspection, as one commit on the base. Done
    # before the log is opened: the slot is cleaned when the attempt lets go of it whatever
    # happens here, so refusing first would lose the work, not keep anything as it was.
    bring_head_back(attempt.git, attempt.branch, attempt.base, attempt.known_refs)
    kept = commit_on_branch(attempt.git, attempt.branch, attempt.base, stage_worktree(attempt.git),
                            f"[leviathan] Failed attempt {attempt.attempt_id}: {failure.reason}\n\n"
                            f"Leviathan-Task: {task.id}\nLeviathan-Attempt: {attempt.attempt_id}\n")
    # A log that refuses leaves the task `doing` and the record behind: the next run counts it.
    if failure.escaped:
        report_escape(attempt.attempt_id, failure.reason, attempt.log, attempt.record)
    outcome = write_failure(paths, task, attempt.policy.limits, attempt.attempt_id, failure, kept,
                            **_said(attempt.warnings, failure.output))
    return AttemptResult(task.id, attempt.attempt_id, attempt.branch, outcome, f"{failure.phase}: {failure.reason}",
                         kept, attempt.phases, attempt.warnings, failure.output)


def _said(warnings: list[str], failed_output: str = "") -> dict[str, object]:
    """What the Run tab shows of an attempt besides its log: its warnings, a failing test run's end."""
    return {**({"warnings": warnings} if warnings else {}),
            **({"failed_output": failed_output} if failed_output else {})}


def write_failure(paths: RepoPaths, task: Task, limits: Limits, attempt_id: str, failure: PhaseFailed,
                  kept: str | None, **logged: object) -> str:
    """The task back to ready or blocked, its event first; the outcome (failed, interrupted, budget)."""
    with events.open_log(paths) as log:
        attempts = load_backlog(paths).task(task.id).attempts + (1 if failure.counted else 0)
        update_task(paths, task.id, failure_fields(task, limits, failure, attempts))
        outcome = "budget" if failure.budget else "interrupted" if failure.interrupted else "failed"
        log.append("attempt.failed", task.id, attempt=attempt_id, phase=failure.phase,
                   reason=failure.reason, attempts=attempts, branch_commit=kept, outcome=outcome,
                   **({"main_checkout_changed": True} if failure.escaped else {}),
                   **({"counted": False} if failure.environment else {}), **logged)
    return outcome


def failure_fields(task: Task, limits: Limits, failure: PhaseFailed, attempts: int) -> dict[str, object]:
    """Back to ready with the attempt counted (an interruption is not), or blocked at the limit."""
    if failure.escaped:
        return escape_block_fields(task, failure.reason)
    if failure.budget:
        return {**status_fields(task, Status.BLOCKED), "attempts": attempts, "blocked_type": "budget",
                "blocked_reason": f"{failure.reason}; raise the limit in .leviathan/policy.yaml, then "
                                  f"`leviathan unblock {task.id}`", "blocked_from": Status.READY.value}
    if not (failure.interrupted or failure.environment) and attempts >= limits.max_attempts_per_task:
        return {**status_fields(task, Status.BLOCKED), "attempts": attempts, "blocked_type": "attempts_exhausted",
                "blocked_reason": f"{attempts} attempts failed; last: {failure.phase}: {failure.reason}",
                "blocked_from": Status.READY.value}
    return {**status_fields(task, Status.READY), "attempts": attempts}


def record_escalation(attempt: AttemptState, reason: str) -> AttemptResult:
    paths, task = attempt.paths, attempt.task
    # The branch holds nothing (no phase ran), so it goes before the log is opened: a log that
    # refuses would leave it behind, empty. Like a failure's, that refusal leaves the task
    # `doing` and the record behind, for the next run to count.
    detach_worktree(attempt.worktree)
    delete_branch(paths, attempt.branch)
    write_escalation(paths, task, attempt.attempt_id, reason)
    return AttemptResult(task.id, attempt.attempt_id, attempt.branch, "needs_human", reason)


def write_escalation(paths: RepoPaths, task: Task, attempt_id: str, reason: str, **logged: object) -> None:
    with events.open_log(paths) as log:  # before the backlog changes
        update_task(paths, task.id, {**status_fields(task, Status.BLOCKED), "blocked_type": "escalation",
                                     "blocked_reason": f"{reason}: run it from the TUI, where a human does the phase",
                                     "blocked_from": Status.READY.value})
        log.append("attempt.escalated", task.id, attempt=attempt_id, reason=reason, **logged)


def also_failed(first: BaseException, second: BaseException, doing: str) -> None:
    """``second`` failed while cleaning up after ``first``, which stays the error raised: the
    second is logged as a warning and noted on the first, unless it says the same (the one
    broken log refusing twice)."""
    if str(second) == str(first):
        return
    message = f"{doing} failed too: {second}"
    logger.warning("warning: %s", message)
    first.add_note(message)
