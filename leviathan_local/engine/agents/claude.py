"""Claude Code (`claude -p`): the prompt on stdin, one session across the phases, the result
line of `--output-format stream-json` for the session, tokens, cost and failure.

As root `--dangerously-skip-permissions` is refused, so edits are allowed by `acceptEdits` and
the commands the executor will run (the test command, the invariants) by `--allowedTools`,
written with `=`: the option is variadic and would swallow what follows it. Claude Code writes
nothing into the worktree (its session lives under its config directory).
"""

from __future__ import annotations

import shlex

from leviathan_local.config.policy import AgentSettings
from leviathan_local.engine.agents.context import PhaseContext
from leviathan_local.engine.agents.output import json_lines
from leviathan_local.engine.agents.report import AgentReport
from leviathan_local.engine.agents.session import AgentSession


def command(context: PhaseContext, settings: AgentSettings, session: AgentSession) -> str:
    assert session.session_id is not None  # chosen when the attempt started
    checks = (context.verification.test_command, *(check for _, check in context.verification.invariants))
    allowed = ",".join(f"Bash({check}:*)" for check in checks if check)
    argv = [settings.executable or "claude", "-p", "--output-format", "stream-json", "--verbose",
            *(["--model", settings.model] if settings.model else []), "--permission-mode", "acceptEdits",
            *([f"--allowedTools={allowed}"] if allowed else []),
            *(["--resume", session.session_id] if session.phases_run else ["--session-id", session.session_id]),
            *settings.args]
    return f"{shlex.join(argv)} < {shlex.quote(str(context.prompt_file))}"


def environment(session: AgentSession) -> dict[str, str]:
    return {}


def report(output: str, context: PhaseContext, session: AgentSession) -> AgentReport:
    results = [line for line in json_lines(output) if line.get("type") == "result"]
    if not results:
        return AgentReport(session.session_id, failure="Claude Code printed no result line (see the attempt log)")
    result = results[-1]
    usage = result.get("usage") or {}
    cached = _count(usage.get("cache_read_input_tokens"))
    tokens_in = _count(usage.get("input_tokens")) + _count(usage.get("cache_creation_input_tokens")) + cached
    cost = result.get("total_cost_usd")
    message = str(result.get("result") or "")
    # `is_error`, not `subtype`: an API error ends with subtype "success" and is_error true.
    failure = (message or f"Claude Code failed ({result.get('subtype')})") if result.get("is_error") else None
    return AgentReport(str(result.get("session_id") or session.session_id), tokens_in,
                       _count(usage.get("output_tokens")), cached,
                       float(cost) if isinstance(cost, (int, float)) else None,
                       "agent" if isinstance(cost, (int, float)) else None, message, failure)


def _count(value: object) -> int:
    return value if isinstance(value, int) else 0
