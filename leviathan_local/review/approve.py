"""Approve a reviewed task: merge its branch into the default branch in the main checkout.

Everything is checked before anything moves: the backlog merges task by task, no other file
conflicts, the human's uncommitted changes are not in the way, the event log can be appended to,
and, when the default branch moved since the attempt's base, the tests and invariants pass on the
merged result (a local merge queue). Only then does the branch move, with a merge commit that
names the task. A branch the default branch already contains (merged by hand) gets no commit;
nor does a task such a hand merge already made done (through the backlog merge driver, the
branch's done writeback wins): its branch, still there, is let go and deleted.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from leviathan_local import events
from leviathan_local.atomic import write_atomic_if_unchanged
from leviathan_local.backlog.merge import merge_backlogs, task_values
from leviathan_local.backlog.merge3 import Labels
from leviathan_local.backlog.model import Status, Task, parse_status, status_fields
from leviathan_local.backlog.store import edit_task_text, load_backlog, writer_lock
from leviathan_local.clock import format_timestamp, now
from leviathan_local.config.contract import load_contract
from leviathan_local.config.policy_load import load_policy
from leviathan_local.engine.process import run_shell
from leviathan_local.engine.worktree_pool import attempt_worktree
from leviathan_local.errors import BacklogError, LeviathanError, WorkFailedError
from leviathan_local.git.merge import (
    advance_checkout, contains, create_merge_commit, file_at, identity, local_changes, merge_base, merge_candidate,
    release_branch, stage_file_if_unstaged,
)
from leviathan_local.git.repo import RepoPaths, branch_head, current_branch, delete_branch
from leviathan_local.review.pending import review_branch_exists, review_task

BACKLOG = ".leviathan/backlog.yaml"
TOOL_REPORTS = "DOCS/status/"


class MergeRefused(WorkFailedError):
    title = "Merge refused"


class LocalChangesInTheWay(LeviathanError):
    title = "Local changes in the way"


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
    writeback = _writeback(task, branch)
    backlog = _merged_backlog(paths, task, head, tip, Labels(default, branch), writeback)
    # Seed 000, edge case 3: a task only the uncommitted backlog holds is finished there.
    uncommitted = None if task.id in task_values(backlog) else _Finish(task.id, writeback)
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
        checks = _verify_merged(paths, task, commit, stop) if base_moved and untested else []
        advance_checkout(paths, default, head, commit, others)
        _update_working_backlog(paths, committed, backlog, uncommitted)
        stage_file_if_unstaged(paths, BACKLOG, head, commit)
        release_branch(paths, branch, delete=True)
        approval = Approval(task_id, branch, commit, approver, base_moved, checks, uncommitted is not None)
        _log_approval(log, task, approval)
    return approval


def retry_offer(task_id: str, default: str) -> str:
    """How to rebase and retry: the conflict is not the agent's failure, so it costs no attempt."""
    return (f"`leviathan retry {task_id}` runs it again from the new {default} (rebase and retry), "
            "not counting the attempt")


def merge_conflicts(paths: RepoPaths, task: Task) -> list[str]:
    """The files in which a review task's branch conflicts with the default branch as it is now
    (empty: it merges); the same merge an approval would make, with nothing written."""
    default = load_contract(paths).default_branch
    branch = str(task.get("branch_name"))
    head, tip = branch_head(paths, default), branch_head(paths, branch)
    if contains(paths, head, tip):
        return []
    try:
        backlog = _merged_backlog(paths, task, head, tip, Labels(default, branch), _writeback(task, branch))
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
    finish = None if already_done else _Finish(task.id, _writeback(task, branch))
    if finish is not None:
        _refuse_local_changes(paths, [], committed, committed, finish)
    with events.open_log(paths) as log:
        if finish is not None:
            _update_working_backlog(paths, committed, committed, finish)
        release_branch(paths, branch, delete=True)
        approval = Approval(task.id, branch, head, identity(paths), base_moved=False,
                            done_uncommitted=finish is not None and _status_in(committed, task.id) is not Status.DONE,
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
                          uncommitted: _Finish | None) -> None:
    """Before anything moves: the merge may overwrite none of the human's uncommitted work."""
    in_the_way = local_changes(paths, others) + _backlog_in_the_way(paths, committed, backlog, uncommitted)
    if in_the_way:
        raise LocalChangesInTheWay("your uncommitted changes would be overwritten by the merge: "
                                   + ", ".join(in_the_way),
                                   hint="commit or stash them (`git stash`), then approve again; nothing was changed")


@dataclass(frozen=True)
class _Finish:
    """A task to mark done in the working backlog because no commit holds it."""

    task_id: str
    fields: dict[str, Any]


def _writeback(task: Task, branch: str) -> dict[str, Any]:
    """The fields a successful attempt writes on its branch, for a backlog that lacks them."""
    return {**status_fields(task, Status.DONE), "completed_at": format_timestamp(now()),
            "last_attempt_id": task.get("last_attempt_id"), "branch_name": branch}


def _merged_backlog(paths: RepoPaths, task: Task, head: str, tip: str, labels: Labels,
                    writeback: dict[str, Any]) -> str:
    """The backlog as the merge commit holds it, with the task done as the branch wrote it."""
    texts = [file_at(paths, commit, BACKLOG) or "" for commit in (merge_base(paths, head, tip), head, tip)]
    merged = merge_backlogs(*texts, labels=labels)
    if merged.conflicts:
        raise MergeRefused(f"{BACKLOG} does not merge: {'; '.join(merged.conflicts)}",
                           hint=f"{retry_offer(task.id, labels.ours)}; or merge it by hand with "
                                f"`git merge {labels.theirs}` and resolve the markers")
    if _status_in(merged.text, task.id) in (None, Status.DONE):
        return merged.text
    # The branch carries no writeback (the task was not in its base's backlog): write it here.
    return edit_task_text(merged.text, BACKLOG, task.id, writeback)


def _status_in(text: str, task_id: str) -> Status | None:
    """The task's status in a backlog's text; None when that backlog does not hold the task."""
    found = task_values(text).get(task_id)
    return None if found is None else parse_status(found.get("status"), found.get("ready"))


def _backlog_in_the_way(paths: RepoPaths, committed: str, merged: str, finish: _Finish | None) -> list[str]:
    try:
        _working_version(paths, committed, merged, finish)
    except BacklogError as problem:
        return [f"{BACKLOG} ({problem.message})"]
    return []


def _working_version(paths: RepoPaths, committed: str, merged: str, finish: _Finish | None,
                     current: str | None = None) -> str:
    """The human's working copy with the merge applied: their uncommitted edits stay."""
    current = paths.backlog.read_text() if current is None else current
    if current == committed:
        result = merged
    else:
        both = merge_backlogs(committed, current, merged, Labels("your uncommitted edits", "the merge"))
        if both.conflicts:
            raise BacklogError("; ".join(both.conflicts))
        result = both.text
    if finish is not None and finish.task_id in task_values(result):
        result = edit_task_text(result, BACKLOG, finish.task_id, finish.fields)
    return result


def _update_working_backlog(paths: RepoPaths, committed: str, merged: str, finish: _Finish | None) -> None:
    with writer_lock(paths):
        for _ in range(5):
            raw = paths.backlog.read_bytes()
            new = _working_version(paths, committed, merged, finish, raw.decode("utf-8")).encode("utf-8")
            if raw == new or write_atomic_if_unchanged(paths.backlog, new, expected=raw):
                return
    raise BacklogError(f"{BACKLOG} kept changing while the approval saved it",
                       hint=f"the merge is committed; `git diff {BACKLOG}` shows what differs")


def _verify_merged(paths: RepoPaths, task: Task, commit: str, stop: threading.Event | None) -> list[str]:
    """Run the tests and every invariant on the merged tree in a pool worktree."""
    policy = load_policy(paths)
    short = secrets.token_hex(3)
    checks = [("tests", policy.tdd.test_command),
              *((f"invariant {inv.name}", inv.check) for inv in policy.invariants)]
    log_path = paths.state_dir / "attempts" / f"merge-check-{task.id}-{short}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    branch = f"leviathan/merge-check-{task.id}-{short}"
    failures = []
    try:
        with attempt_worktree(paths, branch, commit) as worktree, open(log_path, "w") as log:
            for name, command in checks:
                result = run_shell(command, worktree, None, policy.limits.attempt_timeout_seconds, log, stop)
                if result.stopped:
                    raise MergeRefused("the merge check was interrupted; nothing was merged")
                if not result.passed:
                    failures.append(f"{name} (`{command}`) " +
                                    ("timed out" if result.timed_out else f"exited {result.exit_code}"))
    finally:
        delete_branch(paths, branch)
    if failures:
        raise MergeRefused(
            f"the default branch moved since {task.id}'s attempt, and the merged result fails: "
            + "; ".join(failures) + f" (log: {log_path})",
            hint=f"nothing was merged; reject it so it runs again on the new base "
                 f"(`leviathan reject {task.id} --reason ...`)")
    return [name for name, _ in checks]


def _message(task: Task, branch: str, approver: str) -> str:
    attempt = task.get("last_attempt_id") or "unknown"
    return (f"Merge {branch}: {task.title or task.id}\n\n"
            f"Approves task {task.id} (attempt {attempt}); approved by {approver}.\n\n"
            f"Leviathan-Task: {task.id}\nLeviathan-Attempt: {attempt}\n")
