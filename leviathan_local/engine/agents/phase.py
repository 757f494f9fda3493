"""One phase of an agent's work, whatever its kind: the context it gets, the checks before it
runs, and the dispatch to the kind's adapter. The executor verifies the result afterwards."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from leviathan_local.backlog.model import Task
from leviathan_local.config.policy import AgentSettings, Policy
from leviathan_local.engine.agents import aider, claude, codex, shell
from leviathan_local.engine.agents.context import PhaseContext
from leviathan_local.engine.agents.report import AgentReport, priced
from leviathan_local.engine.process import CommandResult, run_shell
from leviathan_local.engine.prompt import prompt_text
from leviathan_local.engine.sandbox import check_sandbox
from leviathan_local.errors import ConfigError

# The agent CLIs with an adapter: each builds a phase's command line and reads its output.
ADAPTERS = {"claude": claude, "codex": codex, "aider": aider}


class NeedsHuman(Exception):
    """The phase needs a person (a `manual` agent in a headless run)."""


@dataclass(frozen=True)
class AgentRun:
    """The agent's process as it ended, and what it said about its phase."""

    result: CommandResult
    report: AgentReport = AgentReport()


def require_agent(policy: Policy) -> None:
    if policy.agent.kind is None:
        raise ConfigError("no agent configured in .leviathan/policy.yaml",
                          hint="add e.g. `agent: {kind: claude}` (or codex, aider; `leviathan init` writes "
                               "commented examples), or `agent: {kind: recipe}` to run each task's own `steps`")


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
              ) -> AgentRun | None:
    """Run the agent for one phase; None when the agent had nothing to run for it."""
    write_prompt(context)
    env = {
        "LEVIATHAN_PHASE": context.phase, "LEVIATHAN_TASK_ID": context.task.id,
        "LEVIATHAN_ATTEMPT_ID": context.attempt_id, "LEVIATHAN_PROMPT_FILE": str(context.prompt_file),
        "LEVIATHAN_WORKTREE": str(context.worktree), **(context.confinement.env if context.confinement else {}),
    }
    wrap = context.confinement.wrap if context.confinement else ()
    require_headless(policy, context.task, context.phase)
    settings = policy.agent
    adapter = ADAPTERS.get(settings.kind or "")
    if adapter is None:
        command = shell.command(context, settings)
        if command is None:
            return None
        return AgentRun(run_shell(command, context.worktree, env, timeout, log, stop, on_start, wrap))
    return _run_adapter(adapter, settings, context, env, timeout, log, stop, on_start, wrap)


def _run_adapter(adapter, settings: AgentSettings, context: PhaseContext, env: dict[str, str], timeout: float,
                 log: IO[str], stop: threading.Event | None, on_start: Callable[[int], None] | None,
                 wrap: tuple[str, ...]) -> AgentRun:
    session = context.session
    assert session is not None  # every attempt of an adapter kind starts one
    result = run_shell(adapter.command(context, settings, session), context.worktree,
                       {**env, **adapter.environment(session)}, timeout, log, stop, on_start, wrap)
    report = priced(adapter.report(result.output, context, session), settings.prices)
    session.phases_run += 1
    if report.session_id:
        session.session_id = report.session_id
    return AgentRun(result, report)


def write_prompt(context: PhaseContext) -> None:
    context.prompt_file.parent.mkdir(parents=True, exist_ok=True)
    context.prompt_file.write_text(prompt_text(
        context.task, context.phase, context.allowed_paths, context.forbidden, context.verification,
        context.last_test_output, context.previous_failure, context.log_file))
