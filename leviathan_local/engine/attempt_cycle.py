"""An attempt's cycle: setup, then red → green → refactor, each an agent's turn that the executor
verifies by running the tests itself, then the gates and the commit (attempt_gates.py).

The agent edits; the executor verifies: a phase passes only on the tests' verdict, never on the
agent's word. Every step is timed and logged (phase_timing.py); a failure raises PhaseFailed,
which attempt.py turns into the attempt's outcome.
"""

from __future__ import annotations

from leviathan_local.config import globs
from leviathan_local.engine.agents.context import PhaseContext
from leviathan_local.engine.agents.phase import require_headless, run_phase
from leviathan_local.engine.agents.report import AgentReport
from leviathan_local.engine.attempt_gates import commit_attempt, run_gates
from leviathan_local.engine.attempt_state import PHASES, AttemptState, PhaseFailed, output_tail
from leviathan_local.engine.phase_timing import timed
from leviathan_local.engine.process import CommandResult
from leviathan_local.engine.prompt import Verification
from leviathan_local.engine.setup import PHASE as SETUP_PHASE
from leviathan_local.engine.setup import run_setup
from leviathan_local.engine.verification import red_command
from leviathan_local.git.attempt_tree import stage_worktree, tree_changes


def run_cycle(attempt: AttemptState) -> str:
    """Setup, the phases, the gates and the commit, in order; the commit's hash."""
    tdd = attempt.scope.tdd if attempt.scope else True
    if attempt.policy.setup:  # before the agent: what it makes is nobody's work (engine/setup.py)
        with timed(attempt, SETUP_PHASE) as outcome:
            outcome.update(run_setup(attempt))
    for phase in PHASES:
        if phase == "red" and not tdd:
            with timed(attempt, "red") as outcome:
                outcome.update(verdict="skipped", detail="scope has tdd: false")
            continue
        _phase(attempt, phase)
    run_gates(attempt)
    return commit_attempt(attempt)


def _phase(attempt: AttemptState, phase: str) -> None:
    require_headless(attempt.policy, attempt.task, phase)  # escalated before the phase starts
    attempt.check_budget(phase)  # before the agent spends more: a phase that reached it still ends
    with timed(attempt, phase):
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
