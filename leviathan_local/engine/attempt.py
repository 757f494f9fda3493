"""One attempt at one task: prepare → red → green → refactor → gates → commit.

The agent edits; the executor verifies every phase by running the tests itself. Success
leaves one commit on `agent/<task>-<short>`, whose parent is the base, holding the changes and
the task's completion status, and the task in `review` in the main checkout. Failure counts
the attempt. Either way the slot is left clean: the attempt shows only on its branch.

The event log is checked before anything is written (a log that cannot be appended to refuses
the whole attempt, exit 2), and each writeback opens it before it changes the backlog, so no
status change is left without its event.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from leviathan_local import events
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.config import globs
from leviathan_local.config.contract import load_contract
from leviathan_local.config.policy_load import load_policy
from leviathan_local.engine.agents.context import PhaseContext
from leviathan_local.engine.agents.phase import ADAPTERS, NeedsHuman, check_agent, require_headless, run_phase
from leviathan_local.engine.agents.report import AgentReport
from leviathan_local.engine.agents.session import start_session
from leviathan_local.engine.attempt_commit import commit_message, completion_writeback
from leviathan_local.engine.attempt_outcome import (
    also_failed, record_escalation, record_failure, record_success, write_started,
)
from leviathan_local.engine.attempt_state import (
    PHASES, AttemptResult, AttemptState, PhaseFailed, PhaseRecord, output_tail,
)
from leviathan_local.engine.budget import Budget
from leviathan_local.engine.controller_context import ControllerContext
from leviathan_local.engine.gates import Violation, scope_violations, secret_findings
from leviathan_local.engine.main_checkout_watch import MainCheckoutWatch
from leviathan_local.engine.process import CommandResult, sweep_attempt
from leviathan_local.engine.prompt import Verification, previous_failure
from leviathan_local.engine.runlock import attempt_record
from leviathan_local.engine.sandbox import confinement
from leviathan_local.engine.setup import run_setup
from leviathan_local.engine.setup_cache import setup_key
from leviathan_local.engine.verification import red_command
from leviathan_local.engine.worktree_pool import attempt_worktree
from leviathan_local.git.attempt_tree import (
    Worktree, bring_head_back, commit_on_branch, ref_targets, stage_worktree, tree_added_lines, tree_changes,
    unstaged_paths, worktree_tree,
)
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
            commit = _cycle(attempt)
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


def _cycle(attempt: AttemptState) -> str:
    tdd = attempt.scope.tdd if attempt.scope else True
    if attempt.policy.setup:  # before the agent: what it makes is nobody's work (engine/setup.py)
        with _timed(attempt, "setup") as outcome:
            outcome.update(run_setup(attempt))
    for phase in PHASES:
        if phase == "red" and not tdd:
            with _timed(attempt, "red") as outcome:
                outcome.update(verdict="skipped", detail="scope has tdd: false")
            continue
        _phase(attempt, phase)
    _gates(attempt)
    return _commit(attempt)


@contextmanager
def _timed(attempt: AttemptState, phase: str) -> Iterator[dict[str, str]]:
    """Every phase, gates and commit included, logs `phase.started`, then `phase.finished` with
    its verdict and seconds, however it ends. The block may set the verdict and detail."""
    started = time.monotonic()
    bound = attempt.policy.limits.phase_timeout_seconds
    attempt.phase_deadline = started + bound if bound else None
    events.append_event(attempt.paths, "phase.started", attempt.task.id, attempt=attempt.attempt_id, phase=phase)
    outcome = {"verdict": "passed", "detail": ""}
    try:
        yield outcome
    except PhaseFailed as failure:  # a shutdown too: its detail says so
        _record(attempt, phase, "failed", started, failure.reason)
        raise
    except Exception as error:
        _record(attempt, phase, "failed", started, f"{type(error).__name__}: {error}")
        raise
    _record(attempt, phase, outcome["verdict"], started, outcome["detail"])


def _phase(attempt: AttemptState, phase: str) -> None:
    require_headless(attempt.policy, attempt.task, phase)  # escalated before the phase starts
    attempt.check_budget(phase)  # before the agent spends more: a phase that reached it still ends
    with _timed(attempt, phase):
        policy = attempt.policy
        attempts_dir = attempt.paths.state_dir / "attempts"
        context = PhaseContext(attempt.task, phase, attempt.attempt_id, attempt.worktree,
                               attempts_dir / f"{attempt.attempt_id}-{phase}.prompt.md", attempt.last_test_output,
                               tuple(policy.paths_for(attempt.task.allowed_paths, attempt.scope)),
                               policy.forbidden_for(attempt.scope),
                               Verification(policy.tdd.test_command, tuple(policy.tdd.test_globs),
                                            tuple((i.name, i.check) for i in policy.invariants),
                                            policy.tdd.red_command or ""),
                               attempt.previous_failure, attempts_dir / f"{attempt.attempt_id}.log",
                               attempt.confinement, attempt.session)
        run = run_phase(policy, context, attempt.remaining(phase), attempt.log, attempt.stop,
                        attempt.record.set_group)
        if run is not None:
            _agent_finished(attempt, phase, run.report)
            _judge_agent(attempt, phase, run.result, run.report)
        # The agent's tree, staged before the tests run: what they add is told apart from it.
        staged = stage_worktree(attempt.git)
        if phase == PHASES[-1]:
            # The agent is done: this content is what the tests and gates check and what is committed.
            attempt.content = staged
        _verify(attempt, phase, staged)
        attempt.check_main_checkout(phase)


def _agent_finished(attempt: AttemptState, phase: str, report: AgentReport) -> None:
    """Keep what the agent said (its cost is spent however the phase ends) and its session."""
    attempt.agent_reports[phase] = report
    if attempt.session is not None:
        attempt.record.update(session=attempt.session.record())  # codex's id is known from its first phase
    if report.message:
        attempt.log.write(f"[agent] {report.message}\n")
        attempt.log.flush()


def _judge_agent(attempt: AttemptState, phase: str, result: CommandResult, report: AgentReport) -> None:
    if result.stopped:
        raise PhaseFailed(phase, "shutdown requested", interrupted=True)
    if result.timed_out:
        raise PhaseFailed(phase, f"the agent timed out ({attempt.timeout_limit()})")
    if not result.passed:
        raise PhaseFailed(phase, f"the agent exited with {result.exit_code}"
                          + (f": {report.failure}" if report.failure else ""))
    if report.failure:  # aider exits 0 when its edit could not be applied, Claude Code on an API error
        raise PhaseFailed(phase, f"the agent failed: {report.failure}")


def _verify(attempt: AttemptState, phase: str, staged: str) -> None:
    tdd, command, via = attempt.policy.tdd, attempt.policy.tdd.test_command, None
    if phase == "red":
        changed = [p for c in tree_changes(attempt.git, attempt.base, staged) for p in c.paths]
        if not any(globs.matches(path, pattern) for path in changed for pattern in tdd.test_globs):
            raise PhaseFailed(phase, f"no test file changed (test_globs: {', '.join(tdd.test_globs)})")
        if tdd.red_command:  # the changed tests alone: the full suite runs in green
            present = [path for path in changed if (attempt.worktree / path).is_file()]
            command, via = red_command(tdd.red_command, present, tdd.test_globs), "red_command"
    tests = attempt.shell(phase, command, staged, via=via)
    attempt.last_test_output = tests.output
    if tests.timed_out:
        raise PhaseFailed(phase, f"the test command timed out ({attempt.timeout_limit()})",
                          output=output_tail(tests.output))
    if phase == "red" and tests.passed:
        raise PhaseFailed(phase, "the tests pass: the new test proves nothing")
    if phase != "red" and not tests.passed:
        raise PhaseFailed(phase, f"the test command failed (exit {tests.exit_code})", output=output_tail(tests.output))


def _gates(attempt: AttemptState) -> None:
    with _timed(attempt, "gates") as outcome:
        problems = _head_violations(attempt)
        problems += _content_violations(attempt)
        for invariant in attempt.policy.invariants:
            # On the committed tree, unless something changed it since it was staged: then it runs.
            result = attempt.shell("gates", invariant.check, worktree_tree(attempt.git, attempt.content), "invariant",
                                   invariant.name, tests=invariant.check == attempt.policy.tdd.test_command)
            if not result.passed:
                problems.append(Violation(invariant.name, f"invariant failed: {invariant.check}"))
        attempt.check_main_checkout("gates")
        changed = unstaged_paths(attempt.git)
        if changed:
            problems.append(Violation(", ".join(changed), "changed after the agent's last phase, by the test command "
                                      "or an invariant: the commit would hold what no check saw"))
        if problems:
            raise PhaseFailed("gates", "; ".join(f"{v.path}: {v.reason}" for v in problems))
        attempt.gates_passed = ["allowed paths", "forbidden patterns", "secrets",
                                *(f"invariant {invariant.name}" for invariant in attempt.policy.invariants)]
        outcome["detail"] = ", ".join(attempt.gates_passed)


def _head_violations(attempt: AttemptState) -> list[Violation]:
    """HEAD back on the attempt's branch at the base. An agent that committed or switched to a
    branch of its own has its work folded in; one that moved HEAD onto content it did not make
    fails here, since nobody could tell its work from that content."""
    attempt.head = head = bring_head_back(attempt.git, attempt.branch, attempt.base, attempt.known_refs)
    if head.moved:
        attempt.log.write(f"note: the agent left HEAD on {head.moved}; back on {attempt.branch} at the base"
                          + (f", its commits folded in: {'; '.join(head.commits)}" if head.commits else "")
                          + (f"; deleted its branch {head.removed_branch}" if head.removed_branch else "") + "\n")
    return [Violation(attempt.branch, head.foreign)] if head.foreign else []


def _content_violations(attempt: AttemptState) -> list[Violation]:
    policy, scope, content = attempt.policy, attempt.scope, attempt.content
    assert content is not None  # taken when the last phase ended
    allowed = policy.paths_for(attempt.task.allowed_paths, scope)
    found = scope_violations(tree_changes(attempt.git, attempt.base, content), allowed,
                             policy.forbidden_for(scope))
    return found + secret_findings(tree_added_lines(attempt.git, attempt.base, content))


def _commit(attempt: AttemptState) -> str:
    with _timed(attempt, "commit"):
        assert attempt.content is not None  # taken when the last phase ended
        commit = commit_on_branch(attempt.git, attempt.branch, attempt.base, attempt.content, commit_message(attempt),
                                  completion_writeback(attempt, attempt.content))
        if commit is None:
            raise PhaseFailed("commit", "nothing to commit: no change and no status writeback")
    return commit


def _record(attempt: AttemptState, phase: str, verdict: str, started: float, detail: str = "") -> None:
    seconds = round(time.monotonic() - started, 3)
    report = attempt.agent_reports.get(phase)
    agent = report.ledger() if report else {}
    attempt.phases.append(PhaseRecord(phase, verdict, seconds, detail, agent))
    ledger = {"agent": agent} if agent else {}  # only a phase an agent ran has one
    events.append_event(attempt.paths, "phase.finished", attempt.task.id, attempt=attempt.attempt_id,
                        phase=phase, verdict=verdict, seconds=seconds, detail=detail, **ledger)
