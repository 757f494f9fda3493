"""One agent session carried across the phases of an attempt, so green remembers what red did.

Where the CLI lets the executor pick the session's id (Claude Code's ``--session-id``), it is
picked before the first launch and kept in the attempt's record, so a crashed run's attempt can
be inspected or resumed; where the CLI picks it (codex's thread id), it is kept as soon as the
phase that started it ends; aider has no id, its session is its chat history in ``state_dir``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class AgentSession:
    kind: str
    state_dir: Path  # the agent's files for this attempt, outside the worktree
    session_id: str | None = None
    phases_run: int = 0  # phases launched in this session so far: the next one resumes it if any
    totals: dict[str, int] = field(default_factory=dict)  # a CLI's running token counts (codex reports the thread's)

    @property
    def resuming(self) -> bool:
        return self.phases_run > 0 and self.session_id is not None

    def record(self) -> dict[str, object]:
        return {"kind": self.kind, "id": self.session_id, "state_dir": str(self.state_dir)}


def start_session(kind: str, state_dir: Path) -> AgentSession:
    """A fresh session for an attempt; Claude Code's id is chosen now, before anything runs."""
    state_dir.mkdir(parents=True, exist_ok=True)
    if kind == "claude":
        return AgentSession(kind, state_dir, str(uuid.uuid4()))
    if kind == "aider":
        return AgentSession(kind, state_dir, str(state_dir / "chat.history.md"))
    return AgentSession(kind, state_dir)
