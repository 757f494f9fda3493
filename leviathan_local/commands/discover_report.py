"""The discover report: compare the findings with the backlog, write unless dry, render."""

from __future__ import annotations

import json
import os
from pathlib import Path

from leviathan_local.discovery.scan import ScanResult
from leviathan_local.discovery.tasks import Finding, named_findings
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.wording import plural


def report(located: tuple[str, str, str], scanned: ScanResult, dry_run: bool, as_json: bool) -> tuple[str, bool]:
    """(the report without the scan counts, whether backlog.yaml was written)."""
    findings = named_findings(scanned.files)
    if os.path.exists(os.path.join(located[0], ".leviathan", "backlog.yaml")) or not dry_run:
        # Imported here: the backlog and its YAML parser, which a dry run without a backlog never needs.
        from leviathan_local.backlog.store import load_backlog
        from leviathan_local.discovery.reconcile import apply, reconcile

        paths = RepoPaths(*map(Path, located))
        result = reconcile(load_backlog(paths).tasks, findings)  # no backlog: the "run init" error
        wrote = not dry_run and result.changes_backlog
        if wrote:
            apply(paths, result)
        outcome = {"new": result.new, "moved": result.moved, "restored": result.restored,
                   "removed": result.removed, "skipped": result.skipped}
    else:
        wrote, outcome = False, {"new": findings, "moved": [], "restored": [], "removed": [], "skipped": []}
    render = _json_body if as_json else _text_body
    return render(outcome, findings, dry_run), wrote


def _json_body(outcome: dict, findings: list[Finding], dry_run: bool) -> str:
    return json.dumps({
        "dry_run": dry_run,
        "findings": [finding.as_json() for finding in findings],
        "new": [finding.id for finding in outcome["new"]],
        "moved": [{"id": f.id, "from": old, "to": f.line} for f, old in outcome["moved"]],
        "restored": [finding.id for finding in outcome["restored"]],
        "removed": [{"id": task_id, "path": source.get("path"), "line": source.get("line"), "blocked": blocked}
                    for task_id, source, blocked in outcome["removed"]],
        "skipped": outcome["skipped"],
    })


def _text_body(outcome: dict, findings: list[Finding], dry_run: bool) -> str:
    lines = [f"  new      {f.id}  {f.tag:<5} {f.path}:{f.line}  {f.text}" for f in outcome["new"]]
    lines += [f"  moved    {f.id}  {f.path}:{f.line} (was line {old})" for f, old in outcome["moved"]]
    lines += [f"  back     {f.id}  {f.path}:{f.line} (unblocked)" for f in outcome["restored"]]
    lines += [f"  removed  {task_id}  {source.get('path')}:{source.get('line')}"
              + ("  -> blocked: source removed" if blocked else "") for task_id, source, blocked in outcome["removed"]]
    lines += [f"  skipped  {task_id}  (a task not made by discovery has this id)" for task_id in outcome["skipped"]]
    lines.append(f"  {plural(len(findings) - len(outcome['new']), 'finding')} already in the backlog")
    if dry_run:
        lines.append("Nothing was written (--dry-run).")
    elif outcome["new"]:
        lines.append(f"Added {plural(len(outcome['new']), 'new task')} to .leviathan/backlog.yaml; "
                     "promote one with `leviathan ready ID` once it has acceptance criteria.")
    return "\n".join(lines) + "\n"
