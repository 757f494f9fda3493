"""An attempt as it runs: its state, shared by the attempt (attempt.py), its cycle
(attempt_cycle.py, attempt_gates.py) and its bookkeeping (attempt_outcome.py), and what it
reports: each phase's record and the attempt's result."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from leviathan_local.backlog.model import Task
from leviathan_local.config.policy import Policy, Scope
from leviathan_local.engine.agents.report import AgentReport
from leviathan_local.engine.agents.session import AgentSession
from leviathan_local.engine.budget import Budget, known_cost
from leviathan_local.engine.main_checkout_watch import MainCheckoutWatch
from leviathan_local.engine.process import ATTEMPT_ID_VARIABLE, CommandResult, run_shell
from leviathan_local.engine.prompt import PreviousFailure
from leviathan_local.engine.runlock import AttemptRecord
from leviathan_local.engine.sandbox import Confinement
from leviathan_local.engine.verification import Verifier
from leviathan_local.git.attempt_tree import HeadReturn, Worktree
from leviathan_local.repo_paths import RepoPaths

PHASES = ("red", "green", "refactor")
FAILED_OUTPUT_LINES = 15  # of a failing test run, shown with the failure (the log holds all of it)


def output_tail(output: str, lines: int = FAILED_OUTPUT_LINES) -> str:
    return "\n".join(output.rstrip("\n").splitlines()[-lines:])


class PhaseFailed(Exception):
    def __init__(self, phase: str, reason: str, interrupted: bool = False, escaped: bool = False,
                 budget: bool = False, environment: bool = False, output: str = "") -> None:
        super().__init__(reason)
        self.phase = phase
        self.reason = reason
        self.output = output  # the end of the failing test run's output, if tests failed it
        self.interrupted = interrupted  # a shutdown request, not the agent's fault: not counted
        self.escaped = escaped  # the main checkout changed: blocked for a human to say by whom, not counted
        self.budget = budget  # a cost budget reached: the task waits for a human, not counted
        self.environment = environment  # policy's setup failed before the agent ran: nobody's work, not counted

    @property
    def counted(self) -> bool:
        """Whether the failure counts against the task's attempts (the agent's work failed)."""
        return not (self.interrupted or self.escaped or self.budget or self.environment)


@dataclass
class PhaseRecord:
    name: str
    verdict: str  # passed | failed | skipped (the status report's schema knows these three)
    seconds: float
    detail: str = ""
    agent: dict[str, object] = field(default_factory=dict)  # the agent's session, tokens and cost (AgentReport.ledger)


@dataclass
class AttemptResult:
    task_id: str
    attempt_id: str
    branch: str
    outcome: str  # succeeded | failed | interrupted | budget | already_done | needs_human
    reason: str = ""
    commit: str | None = None
    phases: list[PhaseRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # the attempt log's `warning:` lines, without the prefix
    failed_output: str = ""  # the last lines of the failing test run's output (a failed phase's)

    def spent(self) -> float:
        """What the attempt's agent cost, as far as known."""
        return sum(known_cost(phase.agent) for phase in self.phases)


@dataclass
class AttemptState:
    paths: RepoPaths
    policy: Policy
    task: Task
    scope: Scope | None
    attempt_id: str
    branch: str
    worktree: Path
    git: Worktree  # the same worktree, opened once for every git step of the attempt
    base: str
    log: IO[str]
    deadline: float
    stop: threading.Event | None
    record: AttemptRecord
    known_refs: dict[str, str]  # every reference when the attempt started: tells the agent's commits apart
    phases: list[PhaseRecord] = field(default_factory=list)
    gates_passed: list[str] = field(default_factory=list)
    last_test_output: str = ""
    content: str | None = None  # the tree of the agent's work, taken when its last phase ended
    head: HeadReturn = HeadReturn()
    previous_failure: PreviousFailure | None = None  # the task's last counted failure, told in each prompt
    phase_deadline: float | None = None  # set as each phase starts, when policy bounds phases
    confinement: Confinement | None = None
    watch: MainCheckoutWatch | None = None  # taken before the agent's first phase
    session: AgentSession | None = None  # one agent session across the phases (adapter kinds)
    agent_reports: dict[str, AgentReport] = field(default_factory=dict)  # by phase: what the agent said
    budget: Budget = Budget()
    warnings: list[str] = field(default_factory=list)
    verifier: Verifier = field(init=False)  # runs the tests and invariants, each identical run once

    def __post_init__(self) -> None:
        self.verifier = Verifier(self.git, self.log, self.policy.tdd.junit_xml, self.policy.tdd.reuse_results)

    def warn(self, message: str) -> None:
        """A warning for the console and the Run tab as well as the attempt log."""
        self.warnings.append(message)
        self.log.write(f"warning: {message}\n")
        self.log.flush()

    def check_budget(self, phase: str) -> None:
        spent = sum(report.cost_usd or 0.0 for report in self.agent_reports.values())
        if reason := self.budget.reached(spent):
            raise PhaseFailed(phase, f"budget: {reason}", budget=True)

    @property
    def env(self) -> dict[str, str]:
        # Every command of the attempt carries its id: recovery finds what a dead run left running by it.
        return {"LEVIATHAN_TASK_ID": self.task.id, ATTEMPT_ID_VARIABLE: self.attempt_id,
                **(self.confinement.env if self.confinement else {})}

    def shell(self, phase: str, command: str, tree: str | None, check: str | None = None, name: str | None = None,
              via: str | None = None, tests: bool = True) -> CommandResult:
        """A verification command (the tests, an invariant) on ``tree``, under the attempt's
        confinement, or an identical earlier run's result (engine/verification.py); what it adds
        to the worktree is removed when it ends. Its evidence goes to the commit."""
        remaining = self.remaining(phase)
        result = self.verifier.run(
            check or phase, command, tree, self.env,
            lambda: run_shell(command, self.worktree, self.env, remaining, self.log, self.stop,
                              self.record.set_group, self.confinement.wrap if self.confinement else ()),
            name, via, tests)
        if result.stopped:
            raise PhaseFailed(phase, "shutdown requested", interrupted=True)
        return result

    def check_main_checkout(self, phase: str) -> None:
        """Fail the attempt if the main checkout changed while the agent's code ran."""
        if self.watch is not None and (changed := self.watch.check(self.log)):
            raise PhaseFailed(phase, changed, escaped=True)

    def remaining(self, phase: str) -> float:
        if self.stop is not None and self.stop.is_set():
            raise PhaseFailed(phase, "shutdown requested", interrupted=True)
        clock = time.monotonic()
        if self.deadline <= clock:
            raise PhaseFailed(phase, f"attempt timed out after {self.policy.limits.attempt_timeout_seconds}s")
        if self.phase_deadline is not None and self.phase_deadline <= clock:
            raise PhaseFailed(phase, f"phase timed out after {self.policy.limits.phase_timeout_seconds}s")
        return min(self.deadline, self.phase_deadline or self.deadline) - clock

    def timeout_limit(self) -> str:
        """The limit that bounds the current phase: the phase's own, or the attempt's if sooner."""
        limits = self.policy.limits
        if self.phase_deadline is not None and self.phase_deadline < self.deadline:
            return f"phase_timeout_seconds {limits.phase_timeout_seconds}"
        return f"attempt_timeout_seconds {limits.attempt_timeout_seconds}"
