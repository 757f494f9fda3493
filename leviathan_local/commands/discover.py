"""`leviathan discover [--dry-run] [--json]`: tagged comments into `new` backlog tasks.

Built to start fast (editors and hooks run it often): it imports neither click nor pygit2 nor
the YAML parser unless something changed. The report for a given scan digest, backlog and
policy is kept beside the scan cache and printed again as long as all three are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from leviathan_local.discovery_collect import collect, named_findings
from leviathan_local.discovery_scan import ScanResult, recalled, remember
from leviathan_local.discovery_settings import discovery_settings
from leviathan_local.discovery_tasks import Finding
from leviathan_local.errors import EXIT_OK
from leviathan_local.repo_paths import RepoPaths, locate_quickly


def locate(start: Path) -> RepoPaths:
    found = locate_quickly(start)
    if found is not None:
        return found
    from leviathan_local.gitrepo import find_repo  # the thorough search, with its clear errors

    return find_repo(start)


def run_discover(paths: RepoPaths, dry_run: bool = False, as_json: bool = False, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    settings = discovery_settings(paths)
    scanned = collect(paths, settings)
    try:
        backlog_raw = paths.backlog.read_bytes()
    except FileNotFoundError:
        backlog_raw = None
    key = hashlib.sha1(repr((scanned.digest, backlog_raw, settings.policy_digest, dry_run, as_json)).encode()).hexdigest()
    body = recalled(scanned, key)
    if not isinstance(body, str):
        body, wrote = _report(paths, named_findings(scanned), dry_run, as_json, backlog_raw is not None)
        if not wrote:  # after a write the backlog differs, so this key would never be asked again
            remember(paths.state_dir, scanned, key, body)
    out.write(_with_counts(body, scanned, as_json))
    return EXIT_OK


def _report(paths: RepoPaths, findings: list[Finding], dry_run: bool, as_json: bool,
            have_backlog: bool) -> tuple[str, bool]:
    from leviathan_local.backlog_store import load_backlog
    from leviathan_local.discovery import Reconciliation, apply, reconcile

    result = reconcile(load_backlog(paths).tasks, findings) if have_backlog else Reconciliation(new=list(findings))
    wrote = False
    if not dry_run and result.changes_backlog:
        apply(paths, result)  # without a backlog, load_backlog above already said to run init
        wrote = True
    return (_json_body(result, findings, dry_run) if as_json else _text_body(result, findings, dry_run)), wrote


def _json_body(result: Any, findings: list[Finding], dry_run: bool) -> str:
    return json.dumps({
        "dry_run": dry_run,
        "findings": [finding.as_json() for finding in findings],
        "new": [finding.id for finding in result.new],
        "moved": [{"id": f.id, "from": old, "to": f.line} for f, old in result.moved],
        "restored": [finding.id for finding in result.restored],
        "removed": [{"id": task_id, "path": source.get("path"), "line": source.get("line"), "blocked": blocked}
                    for task_id, source, blocked in result.removed],
        "skipped": result.skipped,
    })


def _text_body(result: Any, findings: list[Finding], dry_run: bool) -> str:
    lines = [f"  new      {f.id}  {f.tag:<5} {f.path}:{f.line}  {f.text}" for f in result.new]
    lines += [f"  moved    {f.id}  {f.path}:{f.line} (was line {old})" for f, old in result.moved]
    lines += [f"  back     {f.id}  {f.path}:{f.line} (unblocked)" for f in result.restored]
    lines += [f"  removed  {task_id}  {source.get('path')}:{source.get('line')}"
              + ("  -> blocked: source removed" if blocked else "") for task_id, source, blocked in result.removed]
    lines += [f"  skipped  {task_id}  (a task not made by discovery has this id)" for task_id in result.skipped]
    unchanged = len(findings) - len(result.new) - len(result.moved)
    lines.append(f"  {unchanged} finding(s) already in the backlog, unchanged")
    if dry_run:
        lines.append("Nothing was written (--dry-run).")
    elif result.new:
        lines.append(f"Added {len(result.new)} new task(s) to .leviathan/backlog.yaml; "
                     "promote one with `leviathan ready ID` once it has acceptance criteria.")
    return "\n".join(lines) + "\n"


def _with_counts(body: str, scanned: ScanResult, as_json: bool) -> str:
    counts = {"files": scanned.files_listed, "files_read": scanned.files_read, "relisted": scanned.relisted}
    if as_json:
        return '{"scan": ' + json.dumps(counts) + ", " + body[1:] + "\n"
    return (f"Scanned {counts['files']} file(s) (read {counts['files_read']}, the rest unchanged since the last"
            f" scan):\n{body}")
