"""A status report in markdown, for people: a summary line, tables, risks, and the chart."""

from __future__ import annotations

from typing import Any

from leviathan_local.planning.attempt_history import CYCLE_PHASES as PHASES


def render_markdown(report: dict[str, Any], chart: str | None) -> str:
    lines = [f"# Status report {report['timestamp']}", "", summary(report), ""]
    if chart:
        lines += [f"![Backlog by status, and completions over the last reports]({chart})", ""]
    lines += ["## Notable risks", ""]
    lines += [f"- {risk}" for risk in report["risks"]] or ["None noticed."]
    lines += ["", "## Backlog by status", ""]
    lines += _table(("status", "tasks"), [(status, count) for status, count in report["backlog_size_by_status"].items()])
    lines += ["", "## Ranked queue", ""]
    lines += _table(("rank", "id", "title", "score"),
                    [(rank, item["id"], item["title"], f"{item['score']:.2f}")
                     for rank, item in enumerate(report["top_ranked"], start=1)]) or ["Nothing is actionable."]
    lines += ["", "## Blocked", ""]
    lines += _table(("id", "type", "reason"),
                    [(item["id"], item["type"] or "", item["reason"] or "") for item in report["blocked"]]) \
        or ["Nothing is blocked."]
    if report["escalations"]:
        lines += ["", "## Waiting for a human decision", ""]
        lines += _table(("id", "why"), [(item["id"], "; ".join(item["reasons"])) for item in report["escalations"]])
    lines += ["", "## Attempts", ""]
    lines += _table(("attempt", "task", "outcome", *PHASES, "seconds"),
                    [(a["id"], a["task"], a["outcome"], *_phase_cells(a), f"{a['seconds']:.2f}")
                     for a in report["attempts"]]) or ["No attempt in this window."]
    lines += ["", "## Trends", ""]
    lines += _table(("measure", "now", "previous report", "change"), _trend_rows(report))
    return "\n".join(lines) + "\n"


def summary(report: dict[str, Any]) -> str:
    how = f"Halted with {report['halt_reason']}" if report["halt_reason"] else "On demand"
    cycle = f"{report['cycle_time_avg']:.2f} s" if report["cycle_time_avg"] is not None else "n/a"
    rate = report["trends"]["completion_rate"]
    change = f" ({rate['change'] * 100:+.0f} points)" if rate["change"] is not None else ""
    return (f"**{how}:** {report['items_processed']} task(s) processed, {report['items_completed']} completed, "
            f"{report['items_blocked']} blocked; average cycle time {cycle}; "
            f"{rate['current'] * 100:.0f}% of the backlog done{change}.")


def _phase_cells(attempt: dict[str, Any]) -> list[str]:
    by_name = {phase["name"]: phase for phase in attempt["phases"]}
    return [f"{by_name[name]['verdict']} {float(by_name[name]['seconds'] or 0):.2f}s" if name in by_name else "-"
            for name in PHASES]


def _trend_rows(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    rate, blocked = report["trends"]["completion_rate"], report["trends"]["blocked"]

    def percent(value: float | None) -> str:
        return "-" if value is None else f"{value * 100:.0f}%"

    rows = [("completion rate", percent(rate["current"]), percent(rate["previous"]),
             "-" if rate["change"] is None else f"{rate['change'] * 100:+.0f} points"),
            ("blocked tasks", blocked["current"], "-" if blocked["previous"] is None else blocked["previous"],
             "-" if blocked["change"] is None else f"{blocked['change']:+d}")]
    if report["coverage"] is not None:
        rows.append(("coverage", f"{report['coverage']:g}%", "-",
                     "-" if report["coverage_delta"] is None else f"{report['coverage_delta']:+g} points"))
    return rows


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[str]:
    if not rows:
        return []
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return lines


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")
