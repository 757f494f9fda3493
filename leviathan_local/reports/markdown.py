"""A status report in markdown, for people: a summary line, tables, risks, and the chart."""

from __future__ import annotations

from typing import Any

from leviathan_local.planning.attempt_history import phases_shown
from leviathan_local.planning.cost import tokens_text, usd_text
from leviathan_local.wording import plural


def render_markdown(report: dict[str, Any], chart: str | None) -> str:
    lines = [f"# Status report {report['timestamp']}", "", summary(report), ""]
    if chart:
        lines += [f"![Backlog by status, completions over the last runs, and agent cost per task]({chart})", ""]
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
    # A setup column only when an attempt in the window ran policy's `setup:`.
    phases = phases_shown(phase["name"] for attempt in report["attempts"] for phase in attempt["phases"])
    lines += _table(("attempt", "task", "outcome", *phases, "seconds", "cost"),
                    [(a["id"], a["task"], a["outcome"], *_phase_cells(a, phases), f"{a['seconds']:.2f}",
                      usd_text(a.get("cost_usd"))) for a in report["attempts"]]) or ["No attempt in this window."]
    lines += ["", "## Agent cost", ""] + _cost_lines(report.get("cost"))
    lines += ["", "## Trends", ""]
    lines += _table(("measure", "now", "previous report", "change"), _trend_rows(report))
    return "\n".join(lines) + "\n"


def summary(report: dict[str, Any]) -> str:
    how = f"Halted with {report['halt_reason']}" if report["halt_reason"] else "On demand"
    cycle = f"{report['cycle_time_avg']:.2f} s" if report["cycle_time_avg"] is not None else "n/a"
    rate = report["trends"]["completion_rate"]
    change = f" ({rate['change'] * 100:+.0f} points)" if rate["change"] is not None else ""
    return (f"**{how}:** {plural(report['items_processed'], 'task')} processed, {report['items_completed']} completed, "
            f"{report['items_blocked']} blocked; average cycle time {cycle}; "
            f"{rate['current'] * 100:.0f}% of the backlog done{change}.")


def _phase_cells(attempt: dict[str, Any], phases: tuple[str, ...]) -> list[str]:
    by_name = {phase["name"]: phase for phase in attempt["phases"]}
    return [_phase_cell(by_name[name]) if name in by_name else "-" for name in phases]


def _phase_cell(phase: dict[str, Any]) -> str:
    """`passed 1.93s` and, for a phase an agent ran in, its cost: `passed 1.93s $0.0120`."""
    cell = f"{phase['verdict']} {float(phase['seconds'] or 0):.2f}s"
    ran_agent = any(name in phase for name in ("session", "tokens_in", "tokens_out", "cost_usd"))
    return f"{cell} {usd_text(phase.get('cost_usd'))}" if ran_agent else cell


def _cost_lines(cost: dict[str, Any] | None) -> list[str]:
    """Each task's cost in the window, and the window's total ("unknown", never 0, where no
    phase reported one)."""
    if not cost or not cost["by_task"]:
        return ["No attempt in this window."]
    rows = [(item["task"], item["attempts"], tokens_text(item["tokens_in"], item["tokens_out"]),
             usd_text(item["cost_usd"])) for item in cost["by_task"]]
    return [f"Total: {usd_text(cost['total_usd'])}.", ""] + _table(("task", "attempts", "tokens", "cost"), rows)


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
