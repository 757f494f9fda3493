"""Approve a reviewed task: merge its branch into the default branch in the main checkout.

Everything is checked before anything moves: the backlog merges task by task, no other file
conflicts, the human's uncommitted changes are not in the way, the event log can be appended to,
and, when the default branch moved since the attempt's base, the tests and invariants pass on the
merged result (a local merge queue). Only then does the branch move, with a merge commit that
names the task. A branch the default branch already contains (merged by hand) gets no commit;
nor does a task such a hand merge already made done (through the backlog merge driver, the
branch's done writeback wins): its branch, still there, is let go and deleted.

The backlog the merge holds is made in merged_backlog.py, the merged result's checks run in
merge_check.py, and the refusals are in refusals.py; all are importable from here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from leviathan_local import events
from leviathan_local.backlog.merge import task_values
from leviathan_local.backlog.merge3 import Labels
from leviathan_local.backlog.model import Status, Task
from leviathan_local.backlog.store import load_backlog
from leviathan_local.config.contract import load_contract
from leviathan_local.errors import BacklogError, LeviathanError
from leviathan_local.git.merge import (
    advance_checkout, contains, create_merge_commit, file_at, identity, local_changes, merge_candidate, release_branch,
    stage_file_if_unstaged,
)
from leviathan_local.git.repo import RepoPaths, branch_head, current_branch
from leviathan_local.review.merge_check import verify_merged
from leviathan_local.review.merged_backlog import (
    BACKLOG, Finish, backlog_in_the_way, done_writeback, merged_backlog, status_in, update_working_backlog,
)
from leviathan_local.review.pending import review_branch_exists, review_task
from leviathan_local.review.refusals import LocalChangesInTheWay, MergeRefused, retry_offer

__all__ = ["Approval", "LocalChangesInTheWay", "MergeRefused", "approve", "merge_conflicts", "retry_offer"]

TOOL_REPORTS = "DOCS/status/"


@dataclass
class Approval:
    task_id: str
    branch: str
    commit: str
    approver: str
    base_moved: bool
    checks: list[str] = field(default_factory=list)
    done_uncommitted: bool = False  # no commit held the task: it is done in the working backlog only
    already_merged: bool = False  # a human had merged the branch: no commit made, ``commit`` holds it
    already_done: bool = False  # that merge had made the task done too: the backlog was left as it was


def approve(paths: RepoPaths, task_id: str, stop: threading.Event | None = None) -> Approval:
    events.check_chain(paths)  # a broken log refuses before the merge is even made or checked
    default = load_contract(paths).default_branch
    done = _done_task_with_branch(paths, task_id)
    if done is not None:
        return _approve_done(paths, done, default)
    task = review_task(paths, task_id)
    branch = str(task.get("branch_name"))
    _require_checkout_on(paths, default)
    head, tip = branch_head(paths, default), branch_head(paths, branch)
    if contains(paths, head, tip):
        return _approve_merged_by_hand(paths, task, branch, head)
    writeback = done_writeback(task, branch)
    backlog = merged_backlog(paths, task, head, tip, Labels(default, branch), writeback)
    # Seed 000, edge case 3: a task only the uncommitted backlog holds is finished there.
    uncommitted = None if task.id in task_values(backlog) else Finish(task.id, writeback)
    candidate = merge_candidate(paths, head, tip, {BACKLOG: backlog})
    if candidate.conflicts:
        raise MergeRefused(f"{branch} conflicts with {default} in: {', '.join(candidate.conflicts)}",
                           hint=f"{retry_offer(task_id, default)}; or reject it (`leviathan reject {task_id} "
                                f"--reason ...`), or merge it by hand with `git merge {branch}`")
    others = [p for p in candidate.changed if p != BACKLOG]
    committed = file_at(paths, head, BACKLOG) or ""
    _refuse_local_changes(paths, others, committed, backlog, uncommitted)
    # Opened before anything moves: a log that cannot record the approval refuses it.
    with events.open_log(paths) as log:
        approver = identity(paths)
        commit = create_merge_commit(paths, candidate.tree or "", [head, tip], _message(task, branch, approver))
        base_moved = candidate.base != head
        # Files differ from what the attempt verified only if the default branch changed them
        # meanwhile; the tool's own files (a halt commit's backlog and status report) do not count.
        untested = [p for p in candidate.beyond_tip if p != BACKLOG and not p.startswith(TOOL_REPORTS)]
        checks = verify_merged(paths, task, commit, stop) if base_moved and untested else []
        advance_checkout(paths, default, head, commit, others)
        update_working_backlog(paths, committed, backlog, uncommitted)
        stage_file_if_unstaged(paths, BACKLOG, head, commit)
        release_branch(paths, branch, delete=True)
        approval = Approval(task_id, branch, commit, approver, base_moved, checks, uncommitted is not None)
        _log_approval(log, task, approval)
    return approval


def merge_conflicts(paths: RepoPaths, task: Task) -> list[str]:
    """The files in which a review task's branch conflicts with the default branch as it is now
    (empty: it merges); the same merge an approval would make, with nothing written."""
    default = load_contract(paths).default_branch
    branch = str(task.get("branch_name"))
    head, tip = branch_head(paths, default), branch_head(paths, branch)
    if contains(paths, head, tip):
        return []
    try:
        backlog = merged_backlog(paths, task, head, tip, Labels(default, branch), done_writeback(task, branch))
    except MergeRefused:
        return [BACKLOG]
    return merge_candidate(paths, head, tip, {BACKLOG: backlog}).conflicts


def _done_task_with_branch(paths: RepoPaths, task_id: str) -> Task | None:
    """The task if it is done and its branch still exists (a hand merge through the backlog merge
    driver leaves it so); None for any other task, which must be waiting for review."""
    task = load_backlog(paths).task(task_id)
    return task if task.status is Status.DONE and review_branch_exists(paths, task) else None


def _approve_done(paths: RepoPaths, task: Task, default: str) -> Approval:
    """A done task's branch is approved only if the default branch contains it already (merged
    by hand): then it is let go and deleted. Anything else is refused, with nothing changed."""
    branch = str(task.get("branch_name"))
    head, tip = branch_head(paths, default), branch_head(paths, branch)
    if not contains(paths, head, tip):
        raise BacklogError(f"task {task.id!r} is done, not waiting for review, and its branch {branch} "
                           f"is not merged into {default}",
                           hint=f"nothing was changed; merge it by hand (`git merge {branch}`) and run "
                                f"`leviathan merge {task.id}` again to delete the branch, or delete it "
                                f"(`git branch -D {branch}`)")
    _require_checkout_on(paths, default)
    return _approve_merged_by_hand(paths, task, branch, head)


def _approve_merged_by_hand(paths: RepoPaths, task: Task, branch: str, head: str) -> Approval:
    """Every commit of the branch is in the default branch already (a human merged it by hand):
    a merge commit would change nothing but the backlog, so none is made. As when no commit holds
    the task, it is marked done in the working backlog, for the human's next commit (or a run's
    halt commit) to carry, unless it is done there already (the hand merge went through the
    backlog merge driver): then the backlog is left exactly as it is. Either way the branch is
    let go and deleted as after any approval."""
    committed = file_at(paths, head, BACKLOG) or ""
    already_done = task.status is Status.DONE
    finish = None if already_done else Finish(task.id, done_writeback(task, branch))
    if finish is not None:
        _refuse_local_changes(paths, [], committed, committed, finish)
    with events.open_log(paths) as log:
        if finish is not None:
            update_working_backlog(paths, committed, committed, finish)
        release_branch(paths, branch, delete=True)
        approval = Approval(task.id, branch, head, identity(paths), base_moved=False,
                            done_uncommitted=finish is not None and status_in(committed, task.id) is not Status.DONE,
                            already_merged=True, already_done=already_done)
        _log_approval(log, task, approval)
    return approval


def _log_approval(log: events.EventLog, task: Task, approval: Approval) -> None:
    log.append("review.approved", task.id, attempt=task.get("last_attempt_id"), branch=approval.branch,
               commit=approval.commit, approver=approval.approver, base_moved=approval.base_moved,
               checks=approval.checks, done_uncommitted=approval.done_uncommitted,
               already_merged=approval.already_merged, already_done=approval.already_done)


def _require_checkout_on(paths: RepoPaths, default: str) -> None:
    checked_out = current_branch(paths)
    if checked_out != default:
        raise LeviathanError(f"the main checkout is on {checked_out or 'a detached HEAD'}, not {default}: "
                             "approvals merge into the default branch there",
                             hint=f"`git switch {default}`, then approve again")


def _refuse_local_changes(paths: RepoPaths, others: list[str], committed: str, backlog: str,
                          uncommitted: Finish | None) -> None:
    """Before anything moves: the merge may overwrite none of the human's uncommitted work."""
    in_the_way = local_changes(paths, others) + backlog_in_the_way(paths, committed, backlog, uncommitted)
    if in_the_way:
        raise LocalChangesInTheWay("your uncommitted changes would be overwritten by the merge: "
                                   + ", ".join(in_the_way),
                                   hint="commit or stash them (`git stash`), then approve again; nothing was changed")


def _message(task: Task, branch: str, approver: str) -> str:
    attempt = task.get("last_attempt_id") or "unknown"
    return (f"Merge {branch}: {task.title or task.id}\n\n"
            f"Approves task {task.id} (attempt {attempt}); approved by {approver}.\n\n"
            f"Leviathan-Task: {task.id}\nLeviathan-Attempt: {attempt}\n")
