"""What an agent says about its own phase: its session, tokens, cost, final message, failure."""

from __future__ import annotations

from dataclasses import dataclass, replace

from leviathan_local.config.policy import AgentPrices


@dataclass(frozen=True)
class AgentReport:
    session_id: str | None = None
    tokens_in: int | None = None  # prompt tokens, cached ones included
    tokens_out: int | None = None
    tokens_cached: int = 0  # of tokens_in, read from the model's cache (priced lower)
    cost_usd: float | None = None
    cost_source: str | None = None  # "agent" (it reported the cost) or "prices" (policy's price table)
    message: str = ""  # the agent's final message
    failure: str | None = None  # the agent's own reason for failing, whatever its exit status said

    def ledger(self) -> dict[str, object]:
        """The fields the event log and the attempt record keep (unknown ones left out)."""
        fields = {"session": self.session_id, "tokens_in": self.tokens_in, "tokens_out": self.tokens_out,
                  "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 6),
                  "cost_source": self.cost_source}
        return {name: value for name, value in fields.items() if value is not None}


def priced(report: AgentReport, prices: AgentPrices | None) -> AgentReport:
    """``report`` with a cost from policy's prices when the agent reported none (but its tokens)."""
    if report.cost_usd is not None or prices is None or report.tokens_in is None or report.tokens_out is None:
        return report
    fresh_in = max(report.tokens_in - report.tokens_cached, 0)
    cost = (fresh_in * prices.input_usd_per_million + report.tokens_cached * prices.cached_input_usd_per_million
            + report.tokens_out * prices.output_usd_per_million) / 1_000_000
    return replace(report, cost_usd=cost, cost_source="prices")
