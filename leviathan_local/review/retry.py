"""Rebase and retry: a review task whose branch no longer merges goes back to ready, uncounted.

Approving a sibling first can leave a task's branch conflicting with the moved default branch.
That is not the agent's failure, so unlike a rejection it costs the task no attempt: the task
returns to ready, and its next attempt (the next `leviathan run`, or `leviathan attempt ID`)
starts from the default branch as it is now. Only a branch that does conflict may be retried:
one that merges is approved or rejected. The event log is opened first, as for every writer.
"""

from __future__ import annotations

from dataclasses import dataclass

from leviathan_local import events
from leviathan_local.backlog.model import Status, status_fields
from leviathan_local.backlog.store import update_task
from leviathan_local.config.contract import load_contract
from leviathan_local.errors import BacklogError
from leviathan_local.git.merge import identity, release_branch
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.review.approve import merge_conflicts
from leviathan_local.review.pending import review_task


@dataclass(frozen=True)
class Retry:
    task_id: str
    branch: str
    conflicts: list[str]
    attempts: int  # the task's count, unchanged
    branch_deleted: bool
    reviewer: str


def retry(paths: RepoPaths, task_id: str, delete_branch: bool = False) -> Retry:
    task = review_task(paths, task_id)
    branch, default = str(task.get("branch_name")), load_contract(paths).default_branch
    conflicts = merge_conflicts(paths, task)
    if not conflicts:
        raise BacklogError(f"{branch} merges into {default} without conflicts: a retry is for a branch that no "
                           "longer merges", hint=f"approve it (`leviathan merge {task_id}`) or reject it "
                                                 f"(`leviathan reject {task_id} --reason ...`)")
    with events.open_log(paths, verified=True) as log:
        update_task(paths, task_id, status_fields(task, Status.READY))  # `attempts` stays as it was
        release_branch(paths, branch, delete=delete_branch)
        reviewer = identity(paths)
        log.append("review.retried", task_id, attempt=task.get("last_attempt_id"), branch=branch,
                   conflicts=conflicts, reviewer=reviewer, attempts=task.attempts, branch_deleted=delete_branch)
    return Retry(task_id, branch, conflicts, task.attempts, delete_branch, reviewer)
