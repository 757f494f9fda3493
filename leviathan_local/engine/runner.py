"""The run loop: sync → score → select → execute → reassess, until a halt reason.

On every halt, after the last attempt stopped: the status report, the backlog's halt commit
(`engine/halt.py`), then the halt's event. The status report written at the halt is the
caller's (``RunOptions.halt_report``): the engine never imports the reports wing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from leviathan_local import events
from leviathan_local.backlog.merge_driver import ensure_registered
from leviathan_local.backlog.model import Status, Task
from leviathan_local.backlog.store import load_backlog
from leviathan_local.clock import now
from leviathan_local.config import globs
from leviathan_local.config.policy import Policy
from leviathan_local.config.policy_load import load_policy
from leviathan_local.discovery.reconcile import run_discovery
from leviathan_local.engine.attempt_outcome import also_failed
from leviathan_local.engine.attempt_state import AttemptResult
from leviathan_local.engine.halt import (
    HaltReason, RunReport, commit_backlog_on_halt, review_limit_detail, write_run_report,
)
from leviathan_local.engine.preflight import check_run_inputs
from leviathan_local.engine.recovery import recover
from leviathan_local.engine.runlock import run_lock
from leviathan_local.engine.runners import kubernetes, local
from leviathan_local.engine.watch import wait_for_change, watched_state
from leviathan_local.errors import LeviathanError
from leviathan_local.git.repo import RepoPaths
from leviathan_local.planning.selection import select
from leviathan_local.wording import plural

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    max_tasks: int | None = None
    targets: tuple[str, ...] = ()
    only: dict[str, frozenset[str]] = field(default_factory=dict)
    watch: bool = False  # wait for backlog or policy changes instead of halting when idle
    # Writes the run's status report at the halt, given the halt's label; returns the files it
    # wrote (`reports.files.write_halt_report`). None: no report.
    halt_report: Callable[[RepoPaths, str], tuple[str, ...]] | None = None
    # Told each time a --watch run starts to wait, what it waits for (nothing actionable, a fix
    # of the files, a review): the caller says it once, not at every poll.
    on_waiting: Callable[[str], None] | None = None


def run(paths: RepoPaths, options: RunOptions, stop: threading.Event | None = None) -> RunReport:
    stop = stop or threading.Event()
    report = RunReport()
    # Bad input is refused before anything is written or logged: the lock and recovery included.
    inputs = check_run_inputs(paths, options.targets, options.only, lambda task: _wanted(task, options))
    if inputs.policy.runner.kind == "kubernetes":
        kubernetes.check_runner(paths, inputs.policy, inputs.base)
    with run_lock(paths) as stale:
        events.check_appendable(paths)  # a tampered log refuses the run before recovery appends to it
        if registered := ensure_registered(paths):  # this clone's git merges the backlog task by task
            report.notes.append(registered)
        report.notes.extend(recover(paths, stale))  # a dead run's, or a dead lone attempt's, leftovers
        events.append_event(paths, "run.started", None, max_tasks=options.max_tasks, targets=list(options.targets))
        try:
            report.halt_reason = _loop(paths, options, stop, report)
        except BaseException as failure:
            _halt(paths, options, report, failure)
            raise  # the run's own error: nothing the halt ran into replaces it
        _halt(paths, options, report, None)
    return report


def _halt(paths: RepoPaths, options: RunOptions, report: RunReport, failure: BaseException | None) -> None:
    """Save what the run decided, after ``failure`` too (an error is no halt reason): the status
    report, the backlog's halt commit, then `run.halted` or `run.failed`. A log that broke during
    the run gets no report (it would tell of a run the log does not see end) and no event; the
    halt commit is still made, for the human's edits and the run's status changes are safe in
    it, and git records it. Its refusal is the run's error (exit 2) unless the run had one."""
    label = report.halt_reason.value if report.halt_reason else "Error"
    try:
        events.check_appendable(paths)
    except LeviathanError as refused:
        report.halt_commit = commit_backlog_on_halt(paths, label, report)
        if failure is None:
            raise
        also_failed(failure, refused, "the halt's event")
        return
    committed_reports = write_run_report(paths, label, report, options.halt_report)
    report.halt_commit = commit_backlog_on_halt(paths, label, report, committed_reports)
    try:
        events.append_event(paths, "run.halted" if report.halt_reason else "run.failed", None,
                            reason=label, commit=report.halt_commit,
                            **({"detail": report.halt_detail} if report.halt_detail else {}))
    except Exception as second:
        if failure is None:
            raise
        also_failed(failure, second, "the halt's event")


def _loop(paths: RepoPaths, options: RunOptions, stop: threading.Event, report: RunReport) -> HaltReason:
    consecutive_failures = 0
    while True:
        if stop.is_set():
            return HaltReason.SHUTDOWN_REQUESTED
        # Taken before the files are read: an edit after it, however soon, ends a wait below.
        planned_from = watched_state(paths)
        try:
            policy = load_policy(paths)
            if policy.discovery.on_run:  # seed 003's macro cycle: discover, then plan
                discovered, _ = run_discovery(paths)
                if discovered.new:
                    report.notes.append(f"discovered {plural(len(discovered.new), 'new task')} from TODO comments")
            tasks = load_backlog(paths).tasks
        except LeviathanError as error:
            if not options.watch:
                raise
            # A human may be mid-edit: say what is wrong and wait for the next save.
            log.warning("%s", error.message)
            events.append_event(paths, "run.waiting", None, invalid=error.message)
            if options.on_waiting:
                options.on_waiting(f"{error.message}\nWaiting for a fix")
            if wait_for_change(paths, stop, planned_from):
                continue
            return HaltReason.SHUTDOWN_REQUESTED
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
        pool = [ranked.task for ranked in select(tasks, policy, now()).actionable if _wanted(ranked.task, options)]
        # Ready work that the review limit holds back is no "all done": the halt says so.
        review_limited = bool(pool) and open_reviews >= policy.limits.max_open_reviews
        if not pool or review_limited:
            reason = HaltReason.REVIEW_LIMIT_REACHED if review_limited else _empty_pool_reason(tasks, options, report)
            detail = review_limit_detail(open_reviews, policy.limits.max_open_reviews, len(pool)) \
                if review_limited else ""
            if options.watch and reason in (HaltReason.ALL_DONE_OR_BLOCKED, HaltReason.REVIEW_LIMIT_REACHED):
                # An approval or a rejection changes the backlog, which ends the wait.
                events.append_event(paths, "run.waiting", None, **({"review_limit": detail} if detail else {}))
                if options.on_waiting:
                    options.on_waiting(f"{detail}\nWaiting for a review" if detail
                                       else "Waiting for new work (nothing is actionable)")
                if wait_for_change(paths, stop, planned_from):
                    continue
                return HaltReason.SHUTDOWN_REQUESTED
            report.halt_detail = detail
            return reason
        slots = policy.limits.max_running_attempts
        if options.max_tasks is not None:
            slots = min(slots, options.max_tasks - len(report.attempts))
        slots = min(slots, policy.limits.max_open_reviews - open_reviews)
        batch = disjoint_batch(pool, policy, slots)
        if not batch:  # the checks above leave a slot; without one the loop would spin forever
            raise RuntimeError(f"internal error: no attempt can start ({plural(slots, 'slot')} for {plural(len(pool), 'task')})")
        run_limit = policy.limits.max_cost_usd_per_run
        if run_limit is not None and report.spent_usd >= run_limit:
            return HaltReason.BUDGET_REACHED
        # Parallel attempts share what is left evenly, so together they cannot spend more.
        share = None if run_limit is None else (run_limit - report.spent_usd) / len(batch)
        results = run_batch(paths, policy, batch, stop, share)
        report.attempts.extend(results)
        report.spent_usd += sum(result.spent() for result in results)
        if run_limit is not None and report.spent_usd >= run_limit:
            return HaltReason.BUDGET_REACHED
        for result in results:
            consecutive_failures = consecutive_failures + 1 if result.outcome == "failed" else 0
        if any(result.outcome == "interrupted" for result in results):
            return HaltReason.SHUTDOWN_REQUESTED


def run_batch(paths: RepoPaths, policy: Policy, batch: list[Task], stop: threading.Event,
              budget_left: float | None) -> list[AttemptResult]:
    """The batch's attempts where the policy's runner runs them, each given ``budget_left``."""
    if policy.runner.kind == "kubernetes":
        return kubernetes.run_batch(paths, policy, batch, stop, budget_left)
    return local.run_batch(paths, batch, stop, budget_left)


def disjoint_batch(pool: list[Task], policy: Policy, size: int) -> list[Task]:
    """Up to ``size`` tasks in rank order, no two of which may touch the same paths."""
    batch: list[Task] = []
    for task in pool:
        if len(batch) >= size:
            break
        if not any(_paths_overlap(task, chosen, policy) for chosen in batch):
            batch.append(task)
    return batch


def _paths_overlap(first: Task, second: Task, policy: Policy) -> bool:
    return any(globs.overlaps(a, b) for a in _task_paths(first, policy) for b in _task_paths(second, policy))


def _task_paths(task: Task, policy: Policy) -> list[str]:
    return policy.paths_for(task.allowed_paths, policy.scope_named(task.get("scope"))) or ["**"]


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


