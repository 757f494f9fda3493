"""What an agent is given for one phase: the task, its worktree, its prompt, its session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from leviathan_local.backlog.model import Task
from leviathan_local.engine.agents.session import AgentSession
from leviathan_local.engine.prompt import PreviousFailure, Verification
from leviathan_local.engine.sandbox import Confinement


@dataclass(frozen=True)
class PhaseContext:
    task: Task
    phase: str
    attempt_id: str
    worktree: Path
    prompt_file: Path
    last_test_output: str
    allowed_paths: tuple[str, ...] = ()  # the task's own, or its scope's: what the gates allow
    forbidden: tuple[str, ...] = ()  # every pattern the gates refuse
    verification: Verification = Verification()  # what the executor runs after the agent
    previous_failure: PreviousFailure | None = None  # how the task's last counted attempt failed
    log_file: Path | None = None  # the attempt's log, where whole outputs are
    confinement: Confinement | None = None  # the attempt's temp dir, caches and sandbox
    session: AgentSession | None = None  # the attempt's agent session (adapter kinds)
