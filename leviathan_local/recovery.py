"""After a run died (its lock was left behind): put its `doing` tasks back and clear worktrees."""

from __future__ import annotations


from leviathan_local import events
from leviathan_local.backlog_store import load_backlog, update_task
from leviathan_local.git.repo import RepoPaths, list_worktrees, remove_worktree, worktree_branch
from leviathan_local.model import Status, status_fields
from leviathan_local.policy_load import load_policy


def recover_stale_run(paths: RepoPaths, stale: dict) -> list[str]:
    notes = [f"recovered from a run that died (pid {stale.get('pid', '?')}, started {stale.get('started', '?')})"]
    limit = load_policy(paths).limits.max_attempts_per_task
    for task in load_backlog(paths).tasks:
        if task.status is not Status.DOING:
            continue
        attempts = task.attempts + 1  # the interrupted attempt counts
        if attempts >= limit:
            changes = {**status_fields(task, Status.BLOCKED), "attempts": attempts,
                       "blocked_type": "attempts_exhausted", "blocked_from": Status.READY.value,
                       "blocked_reason": "the run died during its last attempt"}
        else:
            changes = {**status_fields(task, Status.READY), "attempts": attempts}
        update_task(paths, task.id, changes)
        events.append_event(paths, "attempt.recovered", task.id, attempts=attempts, stale_pid=stale.get("pid"))
        notes.append(f"{task.id}: doing -> {'blocked' if attempts >= limit else 'ready'} (attempt counted)")
        notes.extend(_remove_worktree_of(paths, str(task.get("branch_name") or "")))
    return notes


def _remove_worktree_of(paths: RepoPaths, branch: str) -> list[str]:
    """The worktree the dead attempt left on its branch goes (a pool slot is simply re-created)."""
    for name, location in list_worktrees(paths):
        if branch and worktree_branch(location) == branch:
            remove_worktree(paths, name, location)
            return [f"removed orphan worktree {location.relative_to(paths.root)} (branch {branch} kept)"]
    return []
