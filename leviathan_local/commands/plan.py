"""`leviathan plan`: the dry run. Reads the backlog and policy, ranks, and writes nothing.

(The only byte it may store is the content-keyed parse cache inside the git common dir,
which is scratch space invisible to the repository: see DOCS/decisions.md.)
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from leviathan_local.backlog.store import load_backlog
from leviathan_local.clock import now
from leviathan_local.config.policy_load import load_policy
from leviathan_local.errors import EXIT_OK
from leviathan_local.planning.selection import Selection, select
from leviathan_local.planning.wsjf import explain
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.wording import plural


def run_plan(paths: RepoPaths, as_json: bool = False, explain: bool = False, limit: int | None = None,
             out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    policy = load_policy(paths)
    backlog = load_backlog(paths)
    selection = select(backlog.tasks, policy, now())
    if as_json:
        document = plan_document(selection, limit)
        document["warnings"] = [warning.render(backlog.source) for warning in backlog.warnings]
        # Indented for people at a terminal; compact (C encoder, several times faster) for pipes.
        indent = 2 if out.isatty() else None
        out.write(json.dumps(document, indent=indent, ensure_ascii=False) + "\n")
        return EXIT_OK
    for warning in backlog.warnings:
        err.write(f"warning: {warning.render(backlog.source)}\n")
    out.write(render_plan(selection, limit, with_explanation=explain, source=backlog.source))
    return EXIT_OK


def plan_document(selection: Selection, limit: int | None) -> dict[str, Any]:
    return {
        "actionable": [
            {
                "id": ranked.task.id,
                "rank": ranked.rank,
                "score": round(ranked.score.value, 3),
                "title": ranked.task.title,
                "terms": ranked.score.terms,
                "estimated": list(ranked.score.estimated),
                "split_suggested": ranked.score.split_suggested,
            }
            for ranked in selection.actionable[:limit]
        ],
        "skipped": [
            {"id": skipped.task.id, "reason": skipped.reason, "detail": skipped.detail}
            for skipped in selection.skipped
        ],
    }


def render_plan(selection: Selection, limit: int | None, with_explanation: bool,
                source: str = ".leviathan/backlog.yaml") -> str:
    if not selection.actionable and not selection.skipped:  # nothing to rank and nothing to explain
        return f"No tasks yet: write one in {source} (its comments show an example).\n"
    shown = selection.actionable[:limit]
    lines = [f"Actionable: {plural(len(selection.actionable), 'task')}"
             + (f", showing {len(shown)}" if len(shown) < len(selection.actionable) else "")]
    if not shown:
        lines.append("  (none: see the skipped tasks below)")
    for ranked in shown:
        terms = ranked.score.terms
        flags = []
        if ranked.score.estimated:
            flags.append("estimated: " + ", ".join(ranked.score.estimated))
        if ranked.score.split_suggested:
            flags.append("split suggested")
        lines.append(
            f"  {ranked.rank:>3}. {ranked.task.id}  score {ranked.score.value:.3f}"
            f"  (impact {terms['impact']}, effort {terms['effort']})"
            + (f"  [{'; '.join(flags)}]" if flags else "")
        )
        if ranked.task.title:
            lines.append(f"       {ranked.task.title}")
        if with_explanation:
            lines.extend(f"       {line}" for line in explain(ranked.score))
    lines.append(f"Skipped: {plural(len(selection.skipped), 'task')}")
    for skipped in selection.skipped:
        lines.append(f"  {skipped.task.id}  {skipped.reason}: {skipped.detail}")
    return "\n".join(lines) + "\n"
