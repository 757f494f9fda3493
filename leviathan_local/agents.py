"""Agents do a phase's work in the worktree; the executor verifies it afterwards.

`command` runs one shell command template for every phase (Claude Code, aider, codex, a
script), `recipe` runs the task's own `steps`, `manual` needs a human (headless runs escalate).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from leviathan_local.errors import ConfigError
from leviathan_local.model import Task
from leviathan_local.policy import Policy
from leviathan_local.process import CommandResult, run_shell

PHASE_GOALS = {
    "red": "Write or change tests that express the acceptance criteria. Do not implement yet: "
           "the test command must FAIL after this phase.",
    "green": "Implement the smallest change that makes the test command PASS.",
    "refactor": "Improve the code without changing behaviour; the test command must still PASS.",
}


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


def require_agent(policy: Policy) -> None:
    if policy.agent.kind is None:
        raise ConfigError("no agent configured in .leviathan/policy.yaml",
                          hint='add e.g. `agent: {kind: command, command: "claude -p --permission-mode acceptEdits"}`, '
                               "or `agent: {kind: recipe}` to run each task's own `steps`")


def check_agent(policy: Policy, task: Task) -> None:
    require_agent(policy)
    if policy.agent.kind == "recipe" and not task.get("steps"):
        raise ConfigError(f"task {task.id!r} has no `steps`, which the recipe agent runs",
                          hint="add `steps: {red: [...], green: [...], refactor: [...]}` to the task")


def run_phase(policy: Policy, context: PhaseContext, timeout: float, log: IO[str],
              stop: threading.Event | None = None) -> CommandResult | None:
    """Run the agent for one phase; None when the agent had nothing to run for it."""
    write_prompt(context)
    env = {
        "LEVIATHAN_PHASE": context.phase, "LEVIATHAN_TASK_ID": context.task.id,
        "LEVIATHAN_ATTEMPT_ID": context.attempt_id, "LEVIATHAN_PROMPT_FILE": str(context.prompt_file),
        "LEVIATHAN_WORKTREE": str(context.worktree),
    }
    if policy.agent.kind == "manual":
        raise NeedsHuman(f"phase {context.phase} of {context.task.id} is manual")
    if policy.agent.kind == "command":
        return run_shell(policy.agent.command or "", context.worktree, env, timeout, log, stop)
    steps = (context.task.get("steps") or {}).get(context.phase) or []
    if not steps:
        return None
    # One shell, so a step can rely on what an earlier step of the same phase set up.
    return run_shell("set -e\n" + "\n".join(steps), context.worktree, env, timeout, log, stop)


def write_prompt(context: PhaseContext) -> None:
    task = context.task
    criteria = "\n".join(f"- {item}" for item in task.acceptance_criteria) or "- (none given)"
    paths = "\n".join(f"- {item}" for item in task.allowed_paths) or "- (the scope's paths)"
    text = (
        f"# Task {task.id}: {task.title}\n\n{task.description}\n\n"
        f"## Acceptance criteria\n{criteria}\n\n"
        f"## You may change only\n{paths}\n(never `.leviathan/`)\n\n"
        + (f"## A reviewer rejected the previous attempt\n{task.get('review_feedback')}\n\n"
           if task.get("review_feedback") else "")
        + f"## This phase: {context.phase}\n{PHASE_GOALS[context.phase]}\n\n"
        f"## Last test output\n```\n{context.last_test_output[-4000:] or '(tests not run yet)'}\n```\n"
    )
    context.prompt_file.parent.mkdir(parents=True, exist_ok=True)
    context.prompt_file.write_text(text)
