"""Reject a reviewed task: count the attempt, send the task back with the reviewer's reason.

The event log is opened first: with a log that cannot be appended to, nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from leviathan_local import events
from leviathan_local.backlog.model import Status, status_fields
from leviathan_local.backlog.store import update_task
from leviathan_local.config.policy_load import load_policy
from leviathan_local.errors import BacklogError
from leviathan_local.git.merge import identity, release_branch
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.review.pending import review_branch_exists, review_task


@dataclass(frozen=True)
class Rejection:
    task_id: str
    branch: str
    after: Status
    attempts: int
    branch_deleted: bool
    reviewer: str
    branch_missing: bool = False  # the branch was already gone (deleted by hand)


def reject(paths: RepoPaths, task_id: str, reason: str, delete_branch: bool = False) -> Rejection:
    if not reason.strip():
        raise BacklogError("a rejection needs a reason", hint="say what to change: --reason \"...\"")
    task = review_task(paths, task_id, need_branch=False)
    branch, present = str(task.get("branch_name") or ""), review_branch_exists(paths, task)
    attempts = task.attempts + 1
    limit = load_policy(paths).limits.max_attempts_per_task
    # The reason goes to the next attempt's prompt, so the agent learns what the reviewer wanted.
    changes = {"attempts": attempts, "review_feedback": reason.strip()}
    if attempts >= limit:
        after = Status.BLOCKED
        changes |= {**status_fields(task, Status.BLOCKED), "blocked_type": "attempts_exhausted",
                    "blocked_reason": f"{attempts} attempts used; last rejected in review: {reason.strip()}",
                    "blocked_from": Status.READY.value}
    else:
        after = Status.READY
        changes |= status_fields(task, Status.READY)
    # Opened before anything changes: a log that cannot record the rejection refuses it.
    with events.open_log(paths, verified=True) as log:
        update_task(paths, task_id, changes)
        release_branch(paths, branch, delete=delete_branch)  # a branch already gone needs nothing
        reviewer = identity(paths)
        log.append("review.rejected", task_id, attempt=task.get("last_attempt_id"), branch=branch,
                   reason=reason.strip(), reviewer=reviewer, attempts=attempts, after=after.value,
                   branch_deleted=delete_branch and present, branch_missing=not present)
    return Rejection(task_id, branch, after, attempts, delete_branch and present, reviewer, branch_missing=not present)
