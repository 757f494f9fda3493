"""The shared script format: what the scripted model answers, turn by turn, whatever the protocol.

A test lists the model's turns in the order the agent's main loop will ask for them. Each turn
is one model response: text, tool calls (a tool name and its arguments, rendered by each
protocol in its own wire shape), or a failure (an HTTP error, a hang, a dropped connection).
Requests that are not the agent's main loop (Claude Code's session title, say) never
consume a turn: each protocol module decides which requests are the main loop.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

FailureKind = Literal["http_500", "hang", "drop"]


@dataclass(frozen=True)
class Usage:
    """Token counts the model reports for a turn, so adapters can read tokens and cost."""

    input_tokens: int = 100
    output_tokens: int = 20
    cached_input_tokens: int = 0


@dataclass(frozen=True)
class ToolCall:
    """One call of one of the agent's own tools, e.g. Claude Code's ``Write`` or codex's ``shell``.

    ``arguments`` is the tool's input object; ``raw_input`` is for freeform tools (codex's
    ``apply_patch`` as a custom tool takes the patch text itself, not a JSON object).
    """

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_input: str | None = None


@dataclass(frozen=True)
class Turn:
    """One scripted model response: some text, then zero or more tool calls; or a failure."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = Usage()
    failure: FailureKind | None = None

    @staticmethod
    def say(text: str, usage: Usage = Usage()) -> Turn:
        return Turn(text=text, usage=usage)

    @staticmethod
    def call(name: str, text: str = "", usage: Usage = Usage(), raw_input: str | None = None,
             **arguments: Any) -> Turn:
        return Turn(text=text, tool_calls=(ToolCall(name, arguments, raw_input),), usage=usage)

    @staticmethod
    def fail(kind: FailureKind) -> Turn:
        return Turn(failure=kind)


# What the model says when the script has run out: an agent asking again gets a plain "done"
# rather than an error, and the test sees the extra request in the log.
FALLBACK_TURN = Turn.say("done (the script had no more turns)")


class Script:
    """The turns still to be served, consumed one per main-loop request, thread-safe."""

    def __init__(self, turns: list[Turn] | None = None) -> None:
        self._turns = list(turns or [])
        self._lock = threading.Lock()
        self.served = 0

    def extend(self, turns: list[Turn]) -> None:
        with self._lock:
            self._turns.extend(turns)

    def next_turn(self) -> Turn:
        with self._lock:
            if not self._turns:
                return FALLBACK_TURN
            self.served += 1
            return self._turns.pop(0)

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._turns)

    @classmethod
    def load(cls, path: Path) -> Script:
        """Read a scenario file: ``{"turns": [{"text": ..., "tool_calls": [{"name", "arguments"}],
        "usage": {...}, "failure": "http_500" | "hang" | "drop"}]}``."""
        document = json.loads(path.read_text())
        return cls([_turn_from_json(entry, path, index) for index, entry in enumerate(document["turns"])])


def _turn_from_json(entry: dict[str, Any], path: Path, index: int) -> Turn:
    known = {"text", "tool_calls", "usage", "failure"}
    unknown = set(entry) - known
    if unknown:
        raise ValueError(f"{path}: turns[{index}] has unknown fields {sorted(unknown)}; known: {sorted(known)}")
    calls = tuple(ToolCall(call["name"], call.get("arguments", {}), call.get("raw_input"))
                  for call in entry.get("tool_calls", []))
    return Turn(text=entry.get("text", ""), tool_calls=calls, usage=Usage(**entry.get("usage", {})),
                failure=entry.get("failure"))
