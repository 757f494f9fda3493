"""The run loop: sync → score → select → execute → reassess, until a halt reason.

On every halt, after the last attempt stopped: commit `.leviathan/backlog.yaml` if and only
if it is dirty, staging nothing else (seed 002).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from leviathan_local import events
from leviathan_local.attempt import AttemptResult, run_attempt
from leviathan_local.backlog_store import load_backlog
from leviathan_local.clock import now
from leviathan_local.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_WORK_FAILED, BacklogError
from leviathan_local.gitrepo import RepoPaths, commit_file, file_is_dirty
from leviathan_local.model import Status, Task
from leviathan_local.policy_load import load_policy
from leviathan_local.recovery import recover_stale_run
from leviathan_local.runlock import run_lock
from leviathan_local.selection import select

log = logging.getLogger(__name__)
BACKLOG_PATH = ".leviathan/backlog.yaml"


class HaltReason(StrEnum):
    ALL_DONE_OR_BLOCKED = "AllDoneOrBlocked"
    CAP_REACHED = "CapReached"
    CIRCUIT_BREAKER_TRIPPED = "CircuitBreakerTripped"
    SHUTDOWN_REQUESTED = "ShutdownRequested"
    TARGET_COMPLETED = "TargetCompleted"
    TARGET_BLOCKED = "TargetBlocked"
    FILTER_EXHAUSTED = "FilterExhausted"
    NO_MATCHING_ITEMS = "NoMatchingItems"


EXIT_CODES = {
    HaltReason.CIRCUIT_BREAKER_TRIPPED: EXIT_WORK_FAILED,
    HaltReason.TARGET_BLOCKED: EXIT_WORK_FAILED,
    HaltReason.SHUTDOWN_REQUESTED: EXIT_INTERRUPTED,
}


@dataclass(frozen=True)
class RunOptions:
    max_tasks: int | None = None
    targets: tuple[str, ...] = ()
    only: dict[str, frozenset[str]] = field(default_factory=dict)
    watch: bool = False  # wait for backlog or policy changes instead of halting when idle


@dataclass
class RunReport:
    halt_reason: HaltReason | None = None
    attempts: list[AttemptResult] = field(default_factory=list)
    halt_commit: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.halt_reason, EXIT_OK)


def run(paths: RepoPaths, options: RunOptions, stop: threading.Event | None = None) -> RunReport:
    stop = stop or threading.Event()
    report = RunReport()
    with run_lock(paths) as stale:
        if stale:
            report.notes.extend(recover_stale_run(paths, stale))
        _check_targets(paths, options)
        events.append_event(paths, "run.started", None, max_tasks=options.max_tasks, targets=list(options.targets))
        try:
            report.halt_reason = _loop(paths, options, stop, report)
        finally:
            reason = report.halt_reason or HaltReason.SHUTDOWN_REQUESTED
            report.halt_commit = commit_backlog_on_halt(paths, reason, report)
            events.append_event(paths, "run.halted", None, reason=reason.value, commit=report.halt_commit)
    return report


def _check_targets(paths: RepoPaths, options: RunOptions) -> None:
    known = load_backlog(paths).by_id
    unknown = [target for target in options.targets if target not in known]
    if unknown:
        raise BacklogError(f"--target names unknown task(s): {', '.join(unknown)}",
                           hint="`leviathan plan` lists the task ids")


def _loop(paths: RepoPaths, options: RunOptions, stop: threading.Event, report: RunReport) -> HaltReason:
    consecutive_failures = 0
    while True:
        if stop.is_set():
            return HaltReason.SHUTDOWN_REQUESTED
        policy = load_policy(paths)
        tasks = load_backlog(paths).tasks
        by_id = {task.id: task for task in tasks}
        if options.targets:
            target_statuses = {by_id[target].status for target in options.targets}
            if target_statuses <= {Status.DONE, Status.REVIEW}:
                return HaltReason.TARGET_COMPLETED
            if Status.BLOCKED in target_statuses:
                return HaltReason.TARGET_BLOCKED
        if options.max_tasks is not None and len(report.attempts) >= options.max_tasks:
            return HaltReason.CAP_REACHED
        if consecutive_failures >= policy.limits.circuit_breaker_failures:
            return HaltReason.CIRCUIT_BREAKER_TRIPPED
        open_reviews = sum(task.status is Status.REVIEW for task in tasks)
        if open_reviews >= policy.limits.max_open_reviews:
            report.notes.append(f"{open_reviews} branch(es) wait for review (max_open_reviews "
                                f"{policy.limits.max_open_reviews}): `leviathan review`")
            return HaltReason.ALL_DONE_OR_BLOCKED
        pool = [ranked.task for ranked in select(tasks, policy, now()).actionable if _wanted(ranked.task, options)]
        if not pool:
            reason = _empty_pool_reason(tasks, options, report)
            if options.watch and reason is HaltReason.ALL_DONE_OR_BLOCKED:
                events.append_event(paths, "run.waiting", None)
                if wait_for_change(paths, stop):
                    continue
                return HaltReason.SHUTDOWN_REQUESTED
            return reason
        result = run_attempt(paths, pool[0].id, stop)
        report.attempts.append(result)
        if result.outcome == "interrupted":
            return HaltReason.SHUTDOWN_REQUESTED
        consecutive_failures = consecutive_failures + 1 if result.outcome == "failed" else 0


def wait_for_change(paths: RepoPaths, stop: threading.Event) -> bool:
    """Block until backlog.yaml or policy.yaml changes (True) or a stop is requested (False)."""
    from watchfiles import watch  # only --watch pays for the import

    # The directory is watched, not the files: atomic saves replace the files' inodes.
    watched = {paths.backlog.name, paths.policy.name}
    for changes in watch(paths.leviathan_dir, stop_event=stop, yield_on_timeout=False, rust_timeout=500):
        if any(Path(changed).name in watched for _, changed in changes):
            return True
    return False


def _wanted(task: Task, options: RunOptions) -> bool:
    if options.targets and task.id not in options.targets:
        return False
    return all(_field_matches(task, key, values) for key, values in options.only.items())


def _field_matches(task: Task, key: str, values: frozenset[str]) -> bool:
    value = task.status.value if key == "status" else task.get(key)
    candidates = value if isinstance(value, list) else [value]
    return any(str(item).lower() in values for item in candidates if item is not None)


def _empty_pool_reason(tasks: list[Task], options: RunOptions, report: RunReport) -> HaltReason:
    if options.targets:
        return HaltReason.TARGET_BLOCKED  # targets remain, none of them can run
    if options.only:
        if not any(_wanted(task, options) for task in tasks):
            return HaltReason.NO_MATCHING_ITEMS
        return HaltReason.FILTER_EXHAUSTED
    return HaltReason.ALL_DONE_OR_BLOCKED


def commit_backlog_on_halt(paths: RepoPaths, reason: HaltReason, report: RunReport) -> str | None:
    """Commit the backlog alone iff it is dirty; a git failure is a warning, never a crash."""
    try:
        load_backlog(paths)  # never commit a file that does not load (a human may be mid-edit)
        if not file_is_dirty(paths, BACKLOG_PATH):
            return None
        commit = commit_file(paths, BACKLOG_PATH, f"[leviathan] Save backlog state on halt ({reason.value})")
    except Exception as error:  # noqa: BLE001 - whatever git says, the halt must finish cleanly
        message = f"warning: backlog not committed on halt: {error}"
        log.warning(message)
        report.notes.append(message)
        return None
    log.info("committed the backlog on halt (%s): %s", reason.value, commit[:12])
    return commit
