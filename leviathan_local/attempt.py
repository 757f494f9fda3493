"""One attempt at one task: prepare → red → green → refactor → gates → commit.

The agent edits; the executor verifies every phase by running the tests itself. Success
leaves one commit on `agent/<task>-<short>` holding the changes and the task's completion
status, and the task in `review` in the main checkout. Failure counts the attempt.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from leviathan_local import events, globs
from leviathan_local.agents import NeedsHuman, PhaseContext, check_agent, run_phase
from leviathan_local.backlog_store import load_backlog, update_task
from leviathan_local.clock import format_timestamp, now
from leviathan_local.contract import load_contract
from leviathan_local.errors import UnknownTaskError
from leviathan_local.gates import Violation, scope_violations, secret_findings
from leviathan_local.git.repo import (
    RepoPaths, added_lines, branch_head, changes_since, commit_staged, delete_branch, detach_worktree, find_repo,
)
from leviathan_local.model import Status, Task, status_fields
from leviathan_local.policy import Policy
from leviathan_local.policy_load import load_policy
from leviathan_local.process import CommandResult, run_shell
from leviathan_local.worktree_pool import attempt_worktree

PHASES = ("red", "green", "refactor")


class PhaseFailed(Exception):
    def __init__(self, phase: str, reason: str, interrupted: bool = False) -> None:
        super().__init__(reason)
        self.phase = phase
        self.reason = reason
        self.interrupted = interrupted  # a shutdown request, not the agent's fault: not counted


@dataclass
class PhaseRecord:
    name: str
    verdict: str  # passed | failed | skipped
    seconds: float
    detail: str = ""


@dataclass
class AttemptResult:
    task_id: str
    attempt_id: str
    branch: str
    outcome: str  # succeeded | failed | interrupted | already_done | needs_human
    reason: str = ""
    commit: str | None = None
    phases: list[PhaseRecord] = field(default_factory=list)


@dataclass
class _Attempt:
    paths: RepoPaths
    policy: Policy
    task: Task
    attempt_id: str
    branch: str
    worktree: Path
    base: str
    log: IO[str]
    deadline: float
    stop: threading.Event | None
    phases: list[PhaseRecord] = field(default_factory=list)
    gates_passed: list[str] = field(default_factory=list)
    last_test_output: str = ""

    def shell(self, phase: str, command: str, env: dict[str, str] | None = None) -> CommandResult:
        result = run_shell(command, self.worktree, env, self.remaining(phase), self.log, self.stop)
        if result.stopped:
            raise PhaseFailed(phase, "shutdown requested", interrupted=True)
        return result

    def remaining(self, phase: str) -> float:
        if self.stop is not None and self.stop.is_set():
            raise PhaseFailed(phase, "shutdown requested", interrupted=True)
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise PhaseFailed(phase, f"attempt timed out after {self.policy.limits.attempt_timeout_seconds}s")
        return left


def run_attempt(paths: RepoPaths, task_id: str, stop: threading.Event | None = None) -> AttemptResult:
    policy = load_policy(paths)
    task = load_backlog(paths).task(task_id)
    short = secrets.token_hex(3)
    attempt_id, branch = f"attempt-{task_id}-{short}", f"agent/{task_id}-{short}"
    if task.status is Status.DONE:
        # Seed 000, edge case 2: someone finished it meanwhile; no duplicate commit.
        events.append_event(paths, "attempt.succeeded", task_id, attempt=attempt_id,
                            note="Task already marked completed in backlog")
        return AttemptResult(task_id, attempt_id, branch, "already_done", "task already marked completed in backlog")
    check_agent(policy, task)
    base = branch_head(paths, load_contract(paths).default_branch)
    log_path = paths.state_dir / "attempts" / f"{attempt_id}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    update_task(paths, task_id, {**status_fields(task, Status.DOING), "last_attempt_id": attempt_id,
                                 "branch_name": branch})
    events.append_event(paths, "attempt.started", task_id, attempt=attempt_id, branch=branch, base=base)
    with attempt_worktree(paths, branch, base) as worktree, open(log_path, "w") as log:
        attempt = _Attempt(paths, policy, task, attempt_id, branch, worktree, base, log,
                           time.monotonic() + policy.limits.attempt_timeout_seconds, stop)
        try:
            commit = _cycle(attempt)
        except PhaseFailed as failure:
            return _fail(attempt, failure)
        except NeedsHuman as waiting:
            return _escalate(attempt, str(waiting))
        except Exception as error:
            # The tool's own failure, not the agent's: put the task back uncounted, then report.
            _fail(attempt, PhaseFailed("internal", f"{type(error).__name__}: {error}", interrupted=True))
            raise
    update_task(paths, task_id, {**status_fields(task, Status.REVIEW), "last_attempt_id": attempt_id,
                                 "branch_name": branch})
    events.append_event(paths, "attempt.succeeded", task_id, attempt=attempt_id, branch=branch, commit=commit,
                        base=base, phases=[vars(p) for p in attempt.phases], gates=attempt.gates_passed)
    return AttemptResult(task_id, attempt_id, branch, "succeeded", "", commit, attempt.phases)


def _cycle(attempt: _Attempt) -> str:
    scope = attempt.policy.scope_named(attempt.task.get("scope"))
    tdd = scope.tdd if scope else True
    for phase in PHASES:
        if phase == "red" and not tdd:
            attempt.phases.append(PhaseRecord("red", "skipped", 0.0, "scope has tdd: false"))
            continue
        _phase(attempt, phase)
    _gates(attempt, scope)
    return _commit(attempt)


def _phase(attempt: _Attempt, phase: str) -> None:
    started = time.monotonic()
    events.append_event(attempt.paths, "phase.started", attempt.task.id, attempt=attempt.attempt_id, phase=phase)
    try:
        context = PhaseContext(attempt.task, phase, attempt.attempt_id, attempt.worktree,
                               attempt.paths.state_dir / "attempts" / f"{attempt.attempt_id}-{phase}.prompt.md",
                               attempt.last_test_output)
        agent = run_phase(attempt.policy, context, attempt.remaining(phase), attempt.log, attempt.stop)
        if agent is not None and agent.stopped:
            raise PhaseFailed(phase, "shutdown requested", interrupted=True)
        if agent is not None and agent.timed_out:
            raise PhaseFailed(phase, f"the agent timed out (attempt_timeout_seconds "
                                     f"{attempt.policy.limits.attempt_timeout_seconds})")
        if agent is not None and not agent.passed:
            raise PhaseFailed(phase, f"the agent exited with {agent.exit_code}")
        _verify(attempt, phase)
    except PhaseFailed as failure:
        _record(attempt, phase, "failed", started, failure.reason)
        raise
    _record(attempt, phase, "passed", started)


def _verify(attempt: _Attempt, phase: str) -> None:
    if phase == "red":
        globs_ = attempt.policy.tdd.test_globs
        changed = [p for c in changes_since(attempt.worktree, attempt.base) for p in c.paths]
        if not any(globs.matches(path, pattern) for path in changed for pattern in globs_):
            raise PhaseFailed(phase, f"no test file changed (test_globs: {', '.join(globs_)})")
    tests = attempt.shell(phase, attempt.policy.tdd.test_command)
    attempt.last_test_output = tests.output
    if tests.timed_out:
        raise PhaseFailed(phase, "the test command timed out")
    if phase == "red" and tests.passed:
        raise PhaseFailed(phase, "the tests pass: the new test proves nothing")
    if phase != "red" and not tests.passed:
        raise PhaseFailed(phase, f"the test command failed (exit {tests.exit_code})")


def _gates(attempt: _Attempt, scope) -> None:
    started = time.monotonic()
    task, policy = attempt.task, attempt.policy
    allowed = policy.paths_for(task.allowed_paths, scope)
    problems: list[Violation] = scope_violations(changes_since(attempt.worktree, attempt.base), allowed,
                                                 policy.forbidden_for(scope))
    problems += secret_findings(added_lines(attempt.worktree, attempt.base))
    for invariant in policy.invariants:
        result = attempt.shell("gates", invariant.check)
        if not result.passed:
            problems.append(Violation(invariant.name, f"invariant failed: {invariant.check}"))
    if problems:
        reason = "; ".join(f"{v.path}: {v.reason}" for v in problems)
        _record(attempt, "gates", "failed", started, reason)
        raise PhaseFailed("gates", reason)
    attempt.gates_passed = ["allowed paths", "forbidden patterns", "secrets",
                            *(f"invariant {invariant.name}" for invariant in policy.invariants)]
    _record(attempt, "gates", "passed", started, ", ".join(attempt.gates_passed))


def _commit(attempt: _Attempt) -> str:
    started = time.monotonic()
    task = attempt.task
    try:
        update_task(find_repo(attempt.worktree), task.id, {
            **status_fields(task, Status.DONE), "completed_at": format_timestamp(now()),
            "last_attempt_id": attempt.attempt_id, "branch_name": attempt.branch,
        })
    except UnknownTaskError:
        # Seed 000, edge case 3: the base commit's backlog does not hold the task yet (it was
        # added without being committed). Commit the work without the writeback, and say so.
        attempt.log.write(f"warning: task {task.id} not found in the base commit's backlog; "
                          "committing without the status writeback\n")
    message = (f"{task.title or task.id}\n\nCompletes task {task.id} (attempt {attempt.attempt_id}).\n\n"
               f"Leviathan-Task: {task.id}\nLeviathan-Attempt: {attempt.attempt_id}\n")
    commit = commit_staged(attempt.worktree, message)
    if commit is None:
        _record(attempt, "commit", "failed", started, "nothing to commit")
        raise PhaseFailed("commit", "nothing to commit: no change and no status writeback")
    _record(attempt, "commit", "passed", started)
    return commit


def _record(attempt: _Attempt, phase: str, verdict: str, started: float, detail: str = "") -> None:
    seconds = round(time.monotonic() - started, 3)
    attempt.phases.append(PhaseRecord(phase, verdict, seconds, detail))
    events.append_event(attempt.paths, "phase.finished", attempt.task.id, attempt=attempt.attempt_id,
                        phase=phase, verdict=verdict, seconds=seconds, detail=detail)


def _fail(attempt: _Attempt, failure: PhaseFailed) -> AttemptResult:
    paths, task = attempt.paths, attempt.task
    # Keep what the agent did on the branch for inspection; the slot is reset for the next attempt.
    changes_since(attempt.worktree, attempt.base)
    kept = commit_staged(attempt.worktree, f"[leviathan] Failed attempt {attempt.attempt_id}: {failure.reason}\n\n"
                                           f"Leviathan-Task: {task.id}\nLeviathan-Attempt: {attempt.attempt_id}\n")
    attempts = load_backlog(paths).task(task.id).attempts + (0 if failure.interrupted else 1)
    if failure.interrupted:
        changes = {**status_fields(task, Status.READY), "attempts": attempts}
    elif attempts >= attempt.policy.limits.max_attempts_per_task:
        changes = {**status_fields(task, Status.BLOCKED), "attempts": attempts, "blocked_type": "attempts_exhausted",
                   "blocked_reason": f"{attempts} attempts failed; last: {failure.phase}: {failure.reason}",
                   "blocked_from": Status.READY.value}
    else:
        changes = {**status_fields(task, Status.READY), "attempts": attempts}
    update_task(paths, task.id, changes)
    outcome = "interrupted" if failure.interrupted else "failed"
    events.append_event(paths, "attempt.failed", task.id, attempt=attempt.attempt_id, phase=failure.phase,
                        reason=failure.reason, attempts=attempts, branch_commit=kept, outcome=outcome)
    return AttemptResult(task.id, attempt.attempt_id, attempt.branch, outcome, f"{failure.phase}: {failure.reason}",
                         kept, attempt.phases)


def _escalate(attempt: _Attempt, reason: str) -> AttemptResult:
    paths, task = attempt.paths, attempt.task
    detach_worktree(attempt.worktree)
    delete_branch(paths, attempt.branch)  # it holds nothing: no phase ran
    update_task(paths, task.id, {**status_fields(task, Status.BLOCKED), "blocked_type": "escalation",
                                 "blocked_reason": f"{reason}: run it from the TUI, where a human does the phase",
                                 "blocked_from": Status.READY.value})
    events.append_event(paths, "attempt.escalated", task.id, attempt=attempt.attempt_id, reason=reason)
    return AttemptResult(task.id, attempt.attempt_id, attempt.branch, "needs_human", reason)
