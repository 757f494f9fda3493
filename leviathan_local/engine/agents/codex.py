"""codex (`codex exec --json`): the prompt on stdin (`-`), the thread continued by `exec resume
<id>` in later phases, `--json` events for the thread id, tokens (after a resume codex reports
the whole thread's: a phase's are the difference) and failure (`turn.failed`).

`--full-auto` is gone from codex 0.171; `sandbox_mode="workspace-write"` is set as a config key
because `exec resume` takes no `-s`. Connection retries are bounded, or codex never exits when
the model is unreachable. codex reports no cost: policy's `agent.prices` gives it one.
"""

from __future__ import annotations

import shlex

from leviathan_local.config.policy import AgentSettings
from leviathan_local.engine.agents.context import PhaseContext
from leviathan_local.engine.agents.output import json_lines
from leviathan_local.engine.agents.report import AgentReport
from leviathan_local.engine.agents.session import AgentSession

CONFIG = ('sandbox_mode="workspace-write"', "features.unbounded_connection_retries=false")
TOTALS = ("input_tokens", "cached_input_tokens", "output_tokens")


def command(context: PhaseContext, settings: AgentSettings, session: AgentSession) -> str:
    head = ["exec", "resume"] if session.resuming else ["exec"]
    argv = [settings.executable or "codex", *head, "--json", "--skip-git-repo-check",
            *(["-m", settings.model] if settings.model else []),
            *(part for setting in CONFIG for part in ("-c", setting)),
            "-o", str(session.state_dir / f"{context.phase}.last-message.txt"), *settings.args,
            *([session.session_id] if session.resuming and session.session_id else []), "-"]
    return f"{shlex.join(argv)} < {shlex.quote(str(context.prompt_file))}"


def environment(session: AgentSession) -> dict[str, str]:
    return {}


def report(output: str, context: PhaseContext, session: AgentSession) -> AgentReport:
    thread, message, failure, usage = session.session_id, "", None, None
    for event in json_lines(output):
        kind = event.get("type")
        if kind == "thread.started" and isinstance(event.get("thread_id"), str):
            thread = event["thread_id"]
        elif kind == "item.completed" and (event.get("item") or {}).get("type") == "agent_message":
            message = str(event["item"].get("text") or "")
        elif kind == "turn.completed":
            usage = event.get("usage") or {}
        elif kind == "turn.failed":
            failure = str((event.get("error") or {}).get("message") or "codex's turn failed")
    if usage is None:
        return AgentReport(thread, message=message, failure=failure or "codex ended without finishing its turn")
    seen = {name: usage.get(name) if isinstance(usage.get(name), int) else 0 for name in TOTALS}
    phase = {name: max(seen[name] - session.totals.get(name, 0), 0) for name in TOTALS}
    session.totals = seen
    return AgentReport(thread, phase["input_tokens"], phase["output_tokens"], phase["cached_input_tokens"],
                       message=message, failure=failure)
