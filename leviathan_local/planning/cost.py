"""The cost ledger, read from the event log: what each agent phase used and cost.

A phase that ran an agent logs ``"agent": {"session", "tokens_in", "tokens_out", "cost_usd",
"cost_source"}`` in its `phase.finished` event (and in its attempt's `attempt.succeeded` phases);
any key may be absent when the agent did not say, and a `command` or `recipe` agent logs none.
An absent or unreadable value is unknown, never 0: a total is the sum of the known costs, and
unknown (None) when no phase reported one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

UNKNOWN = "unknown"


@dataclass(frozen=True)
class PhaseCost:
    """One phase's use of its agent; None where the agent did not say."""

    session: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_usd: float | None = None
    cost_source: str | None = None  # "agent" (the agent reported it) or "prices" (policy's price table)

    def as_json(self) -> dict[str, Any]:
        """The known values only (the event log's own convention: absent means unknown)."""
        return {name: value for name, value in (("session", self.session), ("tokens_in", self.tokens_in),
                                                ("tokens_out", self.tokens_out), ("cost_usd", self.cost_usd),
                                                ("cost_source", self.cost_source)) if value is not None}

    def text(self) -> str:
        """`3,500 in / 100 out tokens, $0.0120` (unknown parts say so)."""
        return f"{tokens_text(self.tokens_in, self.tokens_out)}, {usd_text(self.cost_usd)}"


def phase_cost(data: Mapping[str, Any]) -> PhaseCost | None:
    """The ``agent`` field of a phase (an event's data or an attempt's phase record); None
    without one."""
    return agent_use(data.get("agent"))


def agent_use(agent: Any) -> PhaseCost | None:
    """An ``agent`` value as logged, read. Values of the wrong type (a hand-edited log) count as
    unknown rather than fail the board: the log is the audit trail, and a reader must still show
    everything else."""
    if not isinstance(agent, Mapping):
        return None
    session, source = agent.get("session"), agent.get("cost_source")
    return PhaseCost(session=session if isinstance(session, str) else None,
                     tokens_in=_count(agent.get("tokens_in")), tokens_out=_count(agent.get("tokens_out")),
                     cost_usd=_amount(agent.get("cost_usd")), cost_source=source if isinstance(source, str) else None)


def agent_usd(agent: Any) -> float | None:
    """Only the cost of an ``agent`` value (what the board's totals need, without the rest)."""
    return _amount(agent.get("cost_usd")) if isinstance(agent, Mapping) else None


def total(values: Iterable[float | int | None]) -> float | None:
    """The sum of the known values; None when none is known (never a made-up 0)."""
    known = [value for value in values if value is not None]
    return round(sum(known), 6) if known else None


def phases_total(costs: Iterable[PhaseCost | None]) -> float | None:
    return total(cost.cost_usd for cost in costs if cost is not None)


def usd_text(value: float | None) -> str:
    """`$0.0120`, `$12.35`; "unknown" for None. Agent phases cost cents: four places below $1."""
    if value is None:
        return UNKNOWN
    return f"${value:.4f}" if abs(value) < 1 else f"${value:.2f}"


def tokens_text(tokens_in: int | None, tokens_out: int | None) -> str:
    if tokens_in is None and tokens_out is None:
        return "tokens unknown"
    return f"{_tokens(tokens_in)} in / {_tokens(tokens_out)} out tokens"


def _tokens(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _amount(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    return float(value)
