"""Agents do a phase's work in the worktree; the executor verifies it afterwards.

`command` runs one shell command template for every phase (Claude Code, aider, codex, a
script), `recipe` runs the task's own `steps`, `manual` needs a human (headless runs escalate).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from leviathan_local.backlog.model import Task
from leviathan_local.config.policy import Policy
from leviathan_local.engine.process import CommandResult, run_shell
from leviathan_local.engine.prompt import PreviousFailure, Verification, prompt_text
from leviathan_local.engine.sandbox import Confinement, check_sandbox
from leviathan_local.errors import ConfigError


class NeedsHuman(Exception):
    """The phase needs a person (a `manual` agent in a headless run)."""


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


def require_agent(policy: Policy) -> None:
    if policy.agent.kind is None:
        raise ConfigError("no agent configured in .leviathan/policy.yaml",
                          hint='add e.g. `agent: {kind: command, command: "claude -p --permission-mode acceptEdits"}`, '
                               "or `agent: {kind: recipe}` to run each task's own `steps`")


def check_agent(policy: Policy, task: Task) -> None:
    require_agent(policy)
    check_sandbox(policy)
    if policy.agent.kind == "recipe" and not task.get("steps"):
        raise ConfigError(f"task {task.id!r} has no `steps`, which the recipe agent runs",
                          hint="add `steps: {red: [...], green: [...], refactor: [...]}` to the task")


def require_headless(policy: Policy, task: Task, phase: str) -> None:
    """A `manual` agent's phase needs a person: raise NeedsHuman before anything runs."""
    if policy.agent.kind == "manual":
        raise NeedsHuman(f"phase {phase} of {task.id} is manual")


def run_phase(policy: Policy, context: PhaseContext, timeout: float, log: IO[str],
              stop: threading.Event | None = None, on_start: Callable[[int], None] | None = None,
              ) -> CommandResult | None:
    """Run the agent for one phase; None when the agent had nothing to run for it."""
    write_prompt(context)
    env = {
        "LEVIATHAN_PHASE": context.phase, "LEVIATHAN_TASK_ID": context.task.id,
        "LEVIATHAN_ATTEMPT_ID": context.attempt_id, "LEVIATHAN_PROMPT_FILE": str(context.prompt_file),
        "LEVIATHAN_WORKTREE": str(context.worktree), **(context.confinement.env if context.confinement else {}),
    }
    wrap = context.confinement.wrap if context.confinement else ()
    require_headless(policy, context.task, context.phase)
    if policy.agent.kind == "command":
        return run_shell(policy.agent.command or "", context.worktree, env, timeout, log, stop, on_start, wrap)
    steps = (context.task.get("steps") or {}).get(context.phase) or []
    if not steps:
        return None
    # One shell, so a step can rely on what an earlier step of the same phase set up.
    return run_shell("set -e\n" + "\n".join(steps), context.worktree, env, timeout, log, stop, on_start, wrap)


def write_prompt(context: PhaseContext) -> None:
    context.prompt_file.parent.mkdir(parents=True, exist_ok=True)
    context.prompt_file.write_text(prompt_text(
        context.task, context.phase, context.allowed_paths, context.forbidden, context.verification,
        context.last_test_output, context.previous_failure, context.log_file))
