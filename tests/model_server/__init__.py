"""A scripted model on 127.0.0.1 for tests of the real agent CLIs (Claude Code, codex, aider).

``ModelServer(Script([...]))`` serves the Anthropic Messages API, the OpenAI Responses API and
OpenAI chat completions on one free port; ``DOCS/agents.md`` says how each CLI is pointed at it.
"""

from .script import FALLBACK_TURN, Script, ToolCall, Turn, Usage
from .server import ModelServer, RecordedRequest, refused_port

__all__ = ["FALLBACK_TURN", "ModelServer", "RecordedRequest", "Script", "ToolCall", "Turn", "Usage", "refused_port"]
