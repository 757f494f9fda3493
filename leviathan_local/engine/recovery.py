"""After a death: a run's (its lock was left behind) or an attempt's (its record was left behind).

Every run starts here, holding the run lock. A dead attempt's record says what it worked on:
the processes it left running are killed (its commands' environment carries its id; the
recorded process group goes with them), what it changed is kept on its branch as one commit on
the base, its slot is cleaned, and its task, still `doing`, has the attempt counted (back to
ready, or blocked at the limit). A `doing` task without a record, left by a run that died, is
counted all the same; an attempt still running (a parallel run's child outlives its parent)
is left to finish. The event log is opened before any of it: a log that cannot record the
recovery refuses it (exit 2), leaving everything as it was for the next run.
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
from leviathan_local.engine.sandbox import attempt_temp_dir
from leviathan_local.engine.worktree_pool import held_slot, is_slot
from leviathan_local.git.attempt_tree import (
    Worktree, bring_head_back, commit_on_branch, head_commit, head_message, stage_worktree,
)
from leviathan_local.git.repo import RepoPaths, clean_worktree, list_worktrees, remove_worktree, worktree_branch


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
    return notes


def _recover_attempt(paths: RepoPaths, record: dict[str, Any], limit: int, log: events.EventLog) -> list[str]:
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
    attempt's does); its slot is left clean at the base, ready for the next attempt."""
    if not location.is_dir():
        return []
    with held_slot(paths, location) as held:
        if not held:
            return [f"{location.relative_to(paths.root)}: another attempt holds it now; left alone"]
        kept = _keep_work(location, record)
        clean_worktree(location, str(record["base"]))
    shown = location.relative_to(paths.root)
    if kept is None:
        return [f"cleaned {shown}"]
    return [f"cleaned {shown}; what the attempt changed is on {record['branch']} ({kept[:12]})"]


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
                    clean_worktree(location, commit)
            if not (held and commit):
                return [f"left {shown} as it is: another attempt holds it, or it has no commit (branch {branch} kept)"]
            return [f"cleaned {shown} (branch {branch} kept)"]
        remove_worktree(paths, name, location)
        return [f"removed orphan worktree {shown} (branch {branch} kept)"]
    return []
