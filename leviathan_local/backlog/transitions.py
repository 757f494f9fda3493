"""Human-initiated status changes (ready, unblock, block, rescore): checked, written back, logged.

Used by the CLI and the TUI alike; each returns a Transition describing what happened so
callers can print or display it. Each opens the event log before it writes the backlog, so a
log that cannot be appended to refuses the change rather than leaving it unrecorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from leviathan_local import events
from leviathan_local.backlog.model import STATUS_ALIASES, WSJF_INPUTS, Status, Task, status_fields
from leviathan_local.backlog.store import load_backlog, update_task
from leviathan_local.clock import format_timestamp, now
from leviathan_local.errors import BacklogError
from leviathan_local.repo_paths import RepoPaths

BLOCK_FIELDS = ("blocked_reason", "blocked_type", "blocked_from")
# Statuses a task may return to when unblocked: an attempt that was running is over.
_RESTORABLE = {Status.NEW, Status.REFINED, Status.READY, Status.REVIEW}


@dataclass(frozen=True)
class Transition:
    task_id: str
    before: Status
    after: Status
    changed: bool
    note: str = ""
    escalation_approved: bool = False  # this change approved the task's escalation (a human decision)


def mark_ready(paths: RepoPaths, task_id: str, approve_escalation: bool = False) -> Transition:
    """new/refined → ready; the task needs acceptance criteria first."""
    task = load_backlog(paths).task(task_id)
    if task.status is Status.BLOCKED:
        raise BacklogError(f"task {task_id!r} is blocked ({task.get('blocked_reason') or 'no reason given'})",
                           hint=f"use `leviathan unblock {task_id}` to return it to its previous status")
    if task.status in (Status.DOING, Status.REVIEW, Status.DONE):
        raise BacklogError(f"task {task_id!r} is {task.status.value}; only new or refined tasks become ready",
                           hint="to run finished work again, add a new task for it")
    if not task.acceptance_criteria:
        raise BacklogError(f"task {task_id!r} has no acceptance_criteria, so nothing could verify it",
                           hint=f"add an `acceptance_criteria:` list to {task_id!r} in .leviathan/backlog.yaml")
    changes = {} if task.status is Status.READY else status_fields(task, Status.READY)
    approved_before = task.get("escalation_approved_at")
    if approve_escalation and not approved_before:
        changes["escalation_approved_at"] = format_timestamp(now())
    if not changes:
        note = "already ready" + (f"; its escalation was approved at {approved_before}" if approve_escalation else "")
        return Transition(task_id, task.status, task.status, changed=False, note=note)
    with events.open_log(paths, verified=True) as log:
        update_task(paths, task_id, changes)
        log.append("task.ready", task_id, before=task.status.value, approved_escalation=approve_escalation)
    return Transition(task_id, task.status, Status.READY, changed=True,
                      escalation_approved="escalation_approved_at" in changes)


def unblock(paths: RepoPaths, task_id: str, note: str | None = None) -> Transition:
    """blocked → the status it was blocked from, clearing the block fields."""
    task = load_backlog(paths).task(task_id)
    if task.status is not Status.BLOCKED:
        raise BacklogError(f"task {task_id!r} is not blocked (status: {task.status.value})",
                           hint="`leviathan plan` shows why a task is skipped")
    target = restored_status(task)
    changes = status_fields(task, target)
    blocked_type = task.get("blocked_type")
    if blocked_type == "attempts_exhausted":
        changes["attempts"] = 0  # the human grants a fresh set of attempts; history stays in the event log
    if blocked_type == "escalation":
        changes["escalation_approved_at"] = format_timestamp(now())
    removals = tuple(name for name in BLOCK_FIELDS if name in task.data)
    with events.open_log(paths, verified=True) as log:
        update_task(paths, task_id, changes, removals)
        log.append("task.unblocked", task_id, after=target.value, note=note, blocked_type=blocked_type,
                   blocked_reason=task.get("blocked_reason"), attempts_before=task.attempts)
    return Transition(task_id, Status.BLOCKED, target, changed=True, note=note or "")


def restored_status(task: Task) -> Status:
    """`blocked_from` when it names a status worth returning to, else ready or new."""
    recorded = STATUS_ALIASES.get(str(task.get("blocked_from") or "").lower())
    if recorded is Status.DOING:
        return Status.READY
    if recorded in _RESTORABLE:
        return recorded
    return Status.READY if task.acceptance_criteria else Status.NEW


def block(paths: RepoPaths, task_id: str, reason: str, blocked_type: str = "clarification") -> Transition:
    """Any status but done → blocked, remembering where it came from (a human's decision)."""
    task = load_backlog(paths).task(task_id)
    if not reason.strip():
        raise BacklogError("blocking a task needs a reason", hint="say what the task waits for")
    if task.status in (Status.DONE, Status.BLOCKED):
        raise BacklogError(f"task {task_id!r} is {task.status.value}; only tasks that are not done or blocked can be blocked",
                           hint=f"`leviathan unblock {task_id}` first to change the reason" if task.status is Status.BLOCKED
                           else "a done task stays done")
    with events.open_log(paths, verified=True) as log:
        update_task(paths, task_id, {**status_fields(task, Status.BLOCKED), "blocked_type": blocked_type,
                                     "blocked_reason": reason.strip(), "blocked_from": task.status.value})
        log.append("task.blocked", task_id, before=task.status.value, reason=reason.strip(),
                   blocked_type=blocked_type)
    return Transition(task_id, task.status, Status.BLOCKED, changed=True, note=reason.strip())


def set_wsjf_inputs(paths: RepoPaths, task_id: str, values: dict[str, int | None]) -> Transition:
    """A human's new WSJF inputs (each 1..13), written with the same no-loss edit as every write.
    An input given as None is removed from the task, so its score estimates it again."""
    task = load_backlog(paths).task(task_id)
    unknown = [name for name in values if name not in WSJF_INPUTS]
    bad = [f"{name}={value}" for name, value in values.items()
           if value is not None and (not isinstance(value, int) or not 1 <= value <= 13)]
    if unknown or bad:
        raise BacklogError(f"invalid WSJF inputs for {task_id!r}: {', '.join(unknown + bad)}",
                           hint=f"each of {', '.join(WSJF_INPUTS)} is a whole number from 1 to 13")
    changes = {name: value for name, value in values.items() if value is not None and task.get(name) != value}
    removals = tuple(name for name, value in values.items() if value is None and task.get(name) is not None)
    if changes or removals:
        with events.open_log(paths, verified=True) as log:
            update_task(paths, task_id, changes, removals)
            log.append("task.rescored", task_id, **changes, **dict.fromkeys(removals))
    note = [f"{k}={v}" for k, v in changes.items()] + [f"{name} estimated" for name in removals]
    return Transition(task_id, task.status, task.status, changed=bool(changes or removals),
                      note=", ".join(note) or "unchanged")
