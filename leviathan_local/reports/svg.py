"""The report's chart as SVG, drawn by hand (no browser, no plotting library): the backlog by
status now, the completions of the last runs and, below them when agents ran in the report's
window, each task's agent cost."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from leviathan_local.planning.cost import usd_text
from leviathan_local.reports.data import is_run_report
from leviathan_local.wording import agrees

WIDTH, HEIGHT = 720, 300
COLOURS = {"new": "#9e9e9e", "refined": "#7e57c2", "ready": "#1e88e5", "doing": "#fb8c00", "review": "#00897b",
           "done": "#43a047", "blocked": "#e53935"}
COST_ROWS, COST_ROW_HEIGHT = 10, 22  # the dearest tasks drawn, one bar each
COST_COLOUR = "#6d4c41"  # no status's colour: a cost bar is not read as a task count
RUNS_DRAWN = 12  # the last runs' completions, one bar each


def render_svg(report: dict[str, Any], runs: list[dict[str, Any]]) -> str:
    """``runs``: the reports earlier runs wrote at their halt, oldest first. The last few are drawn,
    then this one if a run wrote it: a report on demand covers the time since the last report,
    often nothing, and would read as a run that completed nothing (the app's Status trend too)."""
    costs = (report.get("cost") or {}).get("by_task") or []
    height = HEIGHT + (_cost_panel_height(costs) if costs else 0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
             f'<title>{escape("Status report " + report["timestamp"])}</title>',
             f'<rect width="{WIDTH}" height="{height}" fill="white"/>']
    parts += _status_bars(report["backlog_size_by_status"], x=20, y=30, width=320)
    series = ([*runs, report] if is_run_report(report) else runs)[-RUNS_DRAWN:]
    parts += _completion_bars([(item["timestamp"], int(item["items_completed"])) for item in series],
                              x=380, y=30, width=320)
    if costs:
        parts += _cost_bars(costs, report["cost"]["total_usd"], x=20, y=HEIGHT + 30, width=WIDTH - 40)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _status_bars(counts: dict[str, int], x: int, y: int, width: int) -> list[str]:
    out = [f'<text x="{x}" y="{y - 10}" font-weight="bold">Backlog by status</text>']
    biggest = max(counts.values(), default=0) or 1
    row = (HEIGHT - y - 20) // max(len(counts), 1)
    for index, (status, count) in enumerate(counts.items()):
        top = y + index * row
        length = round((width - 110) * count / biggest)
        out.append(f'<text x="{x}" y="{top + row * 0.65:.1f}">{escape(status)}</text>')
        out.append(f'<rect x="{x + 70}" y="{top + 4}" width="{length}" height="{row - 8}" '
                   f'fill="{COLOURS.get(status, "#607d8b")}"/>')
        out.append(f'<text x="{x + 76 + length}" y="{top + row * 0.65:.1f}">{count}</text>')
    return out


def _completion_bars(points: list[tuple[str, int]], x: int, y: int, width: int) -> list[str]:
    if not points:
        return [f'<text x="{x}" y="{y - 10}" font-weight="bold">Completed per run</text>',
                f'<text x="{x}" y="{y + 20}" fill="#757575">No run has halted yet.</text>']
    out = [f'<text x="{x}" y="{y - 10}" font-weight="bold">Completed per run (last {len(points)})</text>']
    biggest = max((value for _, value in points), default=0) or 1
    base = HEIGHT - 40
    slot = width / max(len(points), 1)
    for index, (stamp, value) in enumerate(points):
        height = round((base - y - 20) * value / biggest)
        left = x + index * slot
        out.append(f'<rect x="{left + 4:.1f}" y="{base - height}" width="{slot - 8:.1f}" height="{height}" '
                   f'fill="#43a047"><title>{escape(stamp)}: {value}</title></rect>')
        out.append(f'<text x="{left + slot / 2:.1f}" y="{base - height - 4}" text-anchor="middle">{value}</text>')
        out.append(f'<text x="{left + slot / 2:.1f}" y="{base + 14}" text-anchor="middle" font-size="9">'
                   f'{escape(stamp[5:10])}</text>')
    out.append(f'<line x1="{x}" y1="{base}" x2="{x + width}" y2="{base}" stroke="#333"/>')
    return out


def _cost_panel_height(costs: list[dict[str, Any]]) -> int:
    return 40 + COST_ROW_HEIGHT * (min(len(costs), COST_ROWS) + (len(costs) > COST_ROWS))


def _cost_bars(costs: list[dict[str, Any]], total_usd: float | None, x: int, y: int, width: int) -> list[str]:
    """One bar per task, the dearest first; a task no phase reported a cost for has no bar and
    says "unknown" (a bar of 0 would claim it was free)."""
    out = [f'<text x="{x}" y="{y - 10}" font-weight="bold">Agent cost per task (total {usd_text(total_usd)})</text>']
    ranked = sorted(costs, key=lambda item: (item["cost_usd"] is None, -(item["cost_usd"] or 0), item["task"]))
    biggest = max((item["cost_usd"] or 0 for item in ranked), default=0) or 1
    label_width, bar_room = 180, width - 180 - 90
    for index, item in enumerate(ranked[:COST_ROWS]):
        top, cost = y + index * COST_ROW_HEIGHT, item["cost_usd"]
        out.append(f'<text x="{x}" y="{top + COST_ROW_HEIGHT * 0.65:.1f}">{escape(_cut(item["task"], 26))}</text>')
        length = round(bar_room * cost / biggest) if cost is not None else 0
        if cost is not None:
            out.append(f'<rect x="{x + label_width}" y="{top + 4}" width="{length}" height="{COST_ROW_HEIGHT - 8}" '
                       f'fill="{COST_COLOUR}"><title>{escape(item["task"])}: {usd_text(cost)}</title></rect>')
        shade = "" if cost is not None else ' fill="#757575"'  # unknown: greyed, and says so
        out.append(f'<text x="{x + label_width + length + 6}" y="{top + COST_ROW_HEIGHT * 0.65:.1f}"{shade}>'
                   f'{usd_text(cost)}</text>')
    if len(ranked) > COST_ROWS:
        top = y + COST_ROWS * COST_ROW_HEIGHT
        more = len(ranked) - COST_ROWS
        out.append(f'<text x="{x}" y="{top + COST_ROW_HEIGHT * 0.65:.1f}" fill="#757575">'
                   f'and {more} more {agrees(more, "task", "tasks")}: see the table</text>')
    return out


def _cut(text: str, length: int) -> str:
    return text if len(text) <= length else text[:length - 1] + "…"
