"""After a death: a run's (its lock was left behind) or an attempt's (its record was left behind).

Every run starts here, holding the run lock. A dead attempt's record says what it worked on:
the processes it left running are killed (its commands' environment carries its id; the
recorded process group goes with them), what it changed is kept on its branch as one commit on
the base, its slot is cleaned (its `setup:` outputs kept while they are that base's), and its
task, still `doing`, has the attempt counted (back to ready, or blocked at the limit). A `doing`
task without a record, left by a run that died, is counted all the same; an attempt still
running (a parallel run's child outlives its parent) is left to finish. The event log is opened
before any of it: a log that cannot record the recovery refuses it (exit 2), leaving everything
as it was for the next run.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from leviathan_local import events
from leviathan_local.backlog.model import Status, Task, status_fields
from leviathan_local.backlog.store import load_backlog, update_task
from leviathan_local.config.policy_load import load_policy
from leviathan_local.engine.process import sweep_attempt
from leviathan_local.engine.runlock import DeadAttempt, attempt_records
from leviathan_local.engine.runners.kubernetes_recovery import recover_remote_attempt
from leviathan_local.engine.sandbox import attempt_temp_dir
from leviathan_local.engine.setup_cache import clean_slot
from leviathan_local.engine.worktree_pool import every_slot, held_slot, is_slot
from leviathan_local.git.attempt_tree import (
    Worktree, bring_head_back, commit_on_branch, head_commit, head_message, stage_worktree,
)
from leviathan_local.git.main_locks import clear_dead_writers_locks
from leviathan_local.git.repo import (
    RepoPaths, delete_branch_at, list_worktrees, remove_worktree, worktree_branch, worktree_head,
)


def recover(paths: RepoPaths, stale_run: dict | None) -> list[str]:
    """Recover what dead attempts and a dead run (``stale_run``: its lock's record) left; notes."""
    live, dead = attempt_records(paths)
    if not dead and not stale_run:
        return []
    try:
        # Before a process is killed or a branch, slot or task changes.
        with events.open_log(paths) as log:
            return _recover(paths, stale_run, live, dead, log)
    finally:
        for found in dead:
            found.release()


def _recover(paths: RepoPaths, stale_run: dict | None, live: list[dict[str, Any]], dead: list[DeadAttempt],
             log: events.EventLog) -> list[str]:
    notes = [f"recovered from a run that died (pid {stale_run.get('pid', '?')}, started "
             f"{stale_run.get('started', '?')})"] if stale_run else []
    notes += [f"removed {lock}: the dead run's own git lock" for lock in clear_dead_writers_locks(paths)]
    limit = load_policy(paths).limits.max_attempts_per_task
    handled = {str(record.get("task")) for record in live}
    for found in dead:
        notes.extend(_recover_attempt(paths, found.data, limit, log))
        found.forget()  # only once recovered: a recovery that fails is tried again by the next run
        handled.add(str(found.data.get("task")))
    if stale_run:
        for task in load_backlog(paths).tasks:
            if task.status is Status.DOING and task.id not in handled:  # no record: an older run's, say
                notes.extend(_count(paths, task, limit, stale_run.get("pid"), log))
                notes.extend(_release_worktree_of(paths, str(task.get("branch_name") or "")))
    return notes + _reconcile_slots(paths)


def _recover_attempt(paths: RepoPaths, record: dict[str, Any], limit: int, log: events.EventLog) -> list[str]:
    if record.get("remote"):  # a Job's attempt: the cluster ran it, the remote holds what it did
        return recover_remote_attempt(paths, record)
    task_id, attempt_id = str(record.get("task")), str(record.get("attempt"))
    notes = [f"{task_id}: attempt {attempt_id} died (pid {record.get('pid', '?')})"]
    if swept := sweep_attempt(attempt_id, record.get("pgid")):
        notes.append(f"{task_id}: {swept}")
    if record.get("worktree"):
        notes.extend(_keep_and_clean(paths, Path(record["worktree"]), record))
    shutil.rmtree(attempt_temp_dir(paths, attempt_id), ignore_errors=True)
    task = load_backlog(paths).by_id.get(task_id)
    if task is not None and task.status is Status.DOING and task.get("last_attempt_id") == attempt_id:
        notes.extend(_count(paths, task, limit, record.get("pid"), log))
    return notes


def _keep_and_clean(paths: RepoPaths, location: Path, record: dict[str, Any]) -> list[str]:
    """The dead attempt's work goes on its branch as one commit (for inspection, as a failed
    attempt's does); its slot is left clean at the base, ready for the next attempt. A slot whose
    checkout the attempt never finished holds nothing of the agent: it is only cleaned, and the
    branch, which holds nothing either, goes."""
    shown = location.relative_to(paths.root) if location.is_relative_to(paths.root) else location
    branch, base = str(record["branch"]), str(record["base"])
    with held_slot(paths, location) as held:
        if not held:
            return [f"{shown}: another attempt holds it now; left alone"]
        if not record.get("checked_out"):
            _reset_slot(paths, location, base)
            gone = delete_branch_at(paths, branch, base)
            return [f"cleaned {shown}: its checkout was cut short" + (f"; deleted the empty {branch}" if gone else "")]
        if not location.is_dir():
            return []
        kept = _keep_work(location, record)
        clean_slot(paths, location, base)
    if kept is None:
        return [f"cleaned {shown}"]
    return [f"cleaned {shown}; what the attempt changed is on {branch} ({kept[:12]})"]


def _reset_slot(paths: RepoPaths, location: Path, base: str) -> None:
    """A held slot, whatever state a killed checkout left it in, made clean at ``base`` again
    (detached), or removed when it is no usable worktree (the next attempt makes it anew)."""
    head = worktree_head(location) if location.is_dir() else None
    if head is None:
        remove_worktree(paths, location.name, location)
    else:
        clean_slot(paths, location, base)


def _reconcile_slots(paths: RepoPaths) -> list[str]:
    """Every slot nobody holds, left on a branch or half made by a death no record tells of,
    cleaned where it stands (its branch kept), or removed when it is no usable worktree."""
    notes = []
    for name, location in every_slot(paths):
        with held_slot(paths, location) as held:
            head = worktree_head(location) if location.is_dir() else None
            if not held or (head is not None and head[0] is None):
                continue  # another attempt's, or clean (HEAD moves off the branch last)
            shown = location.relative_to(paths.root) if location.is_relative_to(paths.root) else location
            if head is None or head[1] is None:
                remove_worktree(paths, name, location)
                notes.append(f"removed {shown}: no usable worktree (a checkout cut short)")
            else:
                clean_slot(paths, location, head[1])
                notes.append(f"cleaned {shown} (branch {head[0]} kept)")
    return notes


def _keep_work(location: Path, record: dict[str, Any]) -> str | None:
    branch, base, attempt_id = str(record["branch"]), str(record["base"]), str(record["attempt"])
    if worktree_branch(location) != branch:
        return None  # the slot had been cleaned already, or the agent left the branch: nothing to tell apart
    git = Worktree(location)
    if f"Leviathan-Attempt: {attempt_id}" in head_message(git):
        return None  # the executor had committed it already: the branch is as the attempt left it
    bring_head_back(git, branch, base, {})  # the agent's own commits fold into the one kept
    return commit_on_branch(git, branch, base, stage_worktree(git),
                            f"[leviathan] Interrupted attempt {attempt_id}: its process died\n\n"
                            f"Leviathan-Task: {record.get('task')}\nLeviathan-Attempt: {attempt_id}\n")


def _count(paths: RepoPaths, task: Task, limit: int, pid: object, log: events.EventLog) -> list[str]:
    attempts = task.attempts + 1  # the interrupted attempt counts
    if attempts >= limit:
        changes = {**status_fields(task, Status.BLOCKED), "attempts": attempts,
                   "blocked_type": "attempts_exhausted", "blocked_from": Status.READY.value,
                   "blocked_reason": "the run died during its last attempt"}
    else:
        changes = {**status_fields(task, Status.READY), "attempts": attempts}
    update_task(paths, task.id, changes)
    log.append("attempt.recovered", task.id, attempt=task.get("last_attempt_id"), attempts=attempts, stale_pid=pid)
    return [f"{task.id}: doing -> {'blocked' if attempts >= limit else 'ready'} (attempt counted)"]


def _release_worktree_of(paths: RepoPaths, branch: str) -> list[str]:
    """The worktree a dead attempt without a record left on its branch: a pool slot is cleaned
    where it stands (detached, ready for reuse), any other worktree is removed (the branch stays)."""
    for name, location in list_worktrees(paths):
        if not branch or worktree_branch(location) != branch:
            continue
        shown = location.relative_to(paths.root)
        if is_slot(paths, location):
            commit = head_commit(Worktree(location))  # its base is not known: cleaned where it stands
            with held_slot(paths, location) as held:
                if held and commit:
                    clean_slot(paths, location, commit)
            if not (held and commit):
                return [f"left {shown} as it is: another attempt holds it, or it has no commit (branch {branch} kept)"]
            return [f"cleaned {shown} (branch {branch} kept)"]
        remove_worktree(paths, name, location)
        return [f"removed orphan worktree {shown} (branch {branch} kept)"]
    return []
