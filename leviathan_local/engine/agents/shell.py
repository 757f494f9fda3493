"""The agents that are shell commands: `command` (one template for every phase, any CLI or
script) and `recipe` (the task's own `steps` for the phase)."""

from __future__ import annotations

from leviathan_local.config.policy import AgentSettings
from leviathan_local.engine.agents.context import PhaseContext


def command(context: PhaseContext, settings: AgentSettings) -> str | None:
    """The phase's shell command; None when a recipe has no steps for this phase."""
    if settings.kind == "command":
        return settings.command or ""
    steps = (context.task.get("steps") or {}).get(context.phase) or []
    # One shell, so a step can rely on what an earlier step of the same phase set up.
    return "set -e\n" + "\n".join(steps) if steps else None
