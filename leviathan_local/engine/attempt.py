"""One attempt at one task: prepare → red → green → refactor → gates → commit.

This module sets the attempt up (its record, slot, log, confinement and state) and ends it: the
cycle itself, phase by phase, is in attempt_cycle.py. Success leaves one commit on
`agent/<task>-<short>`, whose parent is the base, holding the changes and the task's completion
status, and the task in `review` in the main checkout. Failure counts the attempt. Either way
the slot is left clean: the attempt shows only on its branch.

The event log is checked before anything is written (a log that cannot be appended to refuses
the whole attempt, exit 2), and each writeback opens it before it changes the backlog, so no
status change is left without its event.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import replace
from pathlib import Path

from leviathan_local import events
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.config.contract import load_contract
from leviathan_local.config.policy_load import load_policy
from leviathan_local.engine.agents.phase import ADAPTERS, NeedsHuman, check_agent
from leviathan_local.engine.agents.session import start_session
from leviathan_local.engine.attempt_cycle import run_cycle
from leviathan_local.engine.attempt_outcome import (
    also_failed, record_escalation, record_failure, record_success, write_started,
)
from leviathan_local.engine.attempt_state import AttemptResult, AttemptState, PhaseFailed
from leviathan_local.engine.budget import Budget
from leviathan_local.engine.controller_context import ControllerContext
from leviathan_local.engine.main_checkout_watch import MainCheckoutWatch
from leviathan_local.engine.process import sweep_attempt
from leviathan_local.engine.prompt import previous_failure
from leviathan_local.engine.runlock import attempt_record
from leviathan_local.engine.sandbox import confinement
from leviathan_local.engine.setup_cache import setup_key
from leviathan_local.engine.worktree_pool import attempt_worktree
from leviathan_local.git.attempt_tree import Worktree, ref_targets
from leviathan_local.git.repo import RepoPaths, branch_head


def run_attempt(paths: RepoPaths, task_id: str, stop: threading.Event | None = None,
                run_budget_left: float | None = None, short: str | None = None,
                known: ControllerContext | None = None) -> AttemptResult:
    """One attempt at ``task_id``; ``run_budget_left``: what the run it belongs to may still spend;
    ``short``: the attempt's id suffix when its caller chose it (a remote attempt's controller);
    ``known``: what that controller knows of the task that this clone does not."""
    policy = load_policy(paths)
    task = load_backlog(paths).task(task_id)
    if known is not None and known.review_feedback is not None:
        task = replace(task, data={**task.data, "review_feedback": known.review_feedback})
    short = short or secrets.token_hex(3)
    attempt_id, branch = f"attempt-{task_id}-{short}", f"agent/{task_id}-{short}"
    if task.status is Status.DONE:
        # Seed 000, edge case 2: someone finished it meanwhile; no duplicate commit.
        events.append_event(paths, "attempt.succeeded", task_id, attempt=attempt_id,
                            note="Task already marked completed in backlog")
        return AttemptResult(task_id, attempt_id, branch, "already_done", "task already marked completed in backlog")
    check_agent(policy, task)
    base = branch_head(paths, load_contract(paths).default_branch)
    # Refused whole, before its record, log file, task or worktree: every step below is logged.
    events.check_appendable(paths)
    log_path = paths.state_dir / "attempts" / f"{attempt_id}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    session = (start_session(policy.agent.kind, log_path.with_suffix(".agent"))
               if policy.agent.kind in ADAPTERS else None)
    started = {"session": session.record()} if session else {}
    # The record exists before the task is `doing`: a process that dies from here on leaves it behind.
    with attempt_record(paths, attempt=attempt_id, task=task_id, branch=branch, base=base, **started) as record:
        write_started(paths, task, attempt_id, branch, base=base, **started)
        # The record names the slot before its checkout starts, and says when it is done: a death
        # in between leaves a half-made slot that recovery cleans, and keeps nothing of it.
        with attempt_worktree(paths, branch, base, lambda slot: record.update(worktree=str(slot)),
                              setup_key(policy.setup)) as worktree, \
                open(log_path, "w") as log:
            record.update(checked_out=True)
            git = Worktree(worktree)
            attempt = AttemptState(paths, policy, task, policy.scope_named(task.get("scope")), attempt_id, branch,
                               worktree, git, base, log, time.monotonic() + policy.limits.attempt_timeout_seconds,
                               stop, record, ref_targets(git),
                               previous_failure=known.previous_failure if known else previous_failure(
                                   paths, task_id, policy.tdd.test_command, policy.tdd.red_command),
                               session=session,
                               budget=Budget.for_attempt(paths, task_id, policy.limits, run_budget_left,
                                                         known.task_spent_usd if known else None))
            with confinement(paths, policy, worktree, Path(git.repo.path), attempt_id) as attempt.confinement:
                attempt.watch = MainCheckoutWatch.start(paths, task_id)
                result = _outcome(attempt)
            if result.outcome == "succeeded":  # before the slot is cleaned: a death after it is no failure
                record_success(attempt, result)
    return result


def _outcome(attempt: AttemptState) -> AttemptResult:
    """The cycle's result: committed, failed (counted), interrupted, or waiting for a human."""
    try:
        try:
            commit = run_cycle(attempt)
        finally:
            _sweep(attempt)
        attempt.check_main_checkout("after the gates")  # what the agent left running wrote until the sweep
    except PhaseFailed as failure:
        return record_failure(attempt, _escape_or(attempt, failure))
    except NeedsHuman as waiting:
        return record_escalation(attempt, str(waiting))
    except Exception as error:
        # The tool's own failure, not the agent's: put the task back uncounted, then report it,
        # even when putting it back fails too (a log that broke refuses that as well).
        try:
            record_failure(attempt, PhaseFailed("internal", f"{type(error).__name__}: {error}", interrupted=True))
        except Exception as second:
            also_failed(error, second, "putting the task back")
        raise
    return AttemptResult(attempt.task.id, attempt.attempt_id, attempt.branch, "succeeded", "", commit, attempt.phases,
                         attempt.warnings)


def _escape_or(attempt: AttemptState, failure: PhaseFailed) -> PhaseFailed:
    """A change to the main checkout outranks the failure that ended the cycle: it needs a human."""
    if failure.escaped or failure.interrupted:
        return failure
    try:
        attempt.check_main_checkout(failure.phase)
    except PhaseFailed as escape:
        return PhaseFailed(failure.phase, f"{escape.reason} (and {failure.reason})", escaped=True)
    return failure


def _sweep(attempt: AttemptState) -> None:
    """Kill what the attempt left running, however its cycle ended. A timeout or a stop kills
    the command's process group, but a process the agent detached into its own session (setsid,
    a daemon) escapes it. Done before a failure's work is kept and the slot is cleaned, so
    nothing the agent started writes on in the worktree meanwhile."""
    if note := sweep_attempt(attempt.attempt_id, attempt.record.data.get("pgid")):
        attempt.log.write(f"note: {note}\n")
        attempt.log.flush()
