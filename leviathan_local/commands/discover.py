"""`leviathan discover [--dry-run] [--json]`: tagged comments into `new` backlog tasks.

Built to start fast (editors and hooks run it often): until something changed it imports
neither click, pygit2 nor the YAML parser. The report made for one state of the scanned files,
backlog and policy is kept and printed again while all three stay the same.
"""

from __future__ import annotations

import io
import os
import sys
import time

from leviathan_local.discovery.cache import load_scratch, save_scratch
from leviathan_local.discovery.scan import ScanResult, scan_repository
from leviathan_local.discovery.settings import discovery_settings
from leviathan_local.errors import EXIT_OK
from leviathan_local.git.locate import locate_strings
from leviathan_local.wording import plural

REPORT_MEMO = "discover-report"
ReportKey = tuple[int, tuple[int, ...], bytes, bool, bool]  # generation, backlog stat, policy, dry run, json


def run_discover_at(start: str, dry_run: bool = False, as_json: bool = False, out: io.TextIOBase | None = None) -> int:
    located = locate_strings(start)
    if located is None:
        from pathlib import Path

        from leviathan_local.git.repo import find_repo  # pygit2: the thorough search, with its clear errors

        found = find_repo(Path(start))
        located = (str(found.root), str(found.git_dir), str(found.common_dir))
    return run_discover(located, dry_run, as_json, out)


def run_discover(located: tuple[str, str, str], dry_run: bool = False, as_json: bool = False,
                 out: io.TextIOBase | None = None) -> int:
    """``located``: the work tree, git dir and common dir (``tuple(map(str, repo_paths))``)."""
    out = out or sys.stdout
    root, _, common_dir = located
    memo_path = os.path.join(common_dir, "leviathan", REPORT_MEMO)
    settings = discovery_settings(located)
    scanned = scan_repository(located, settings)
    key = (scanned.generation, _stat(os.path.join(root, ".leviathan", "backlog.yaml")), settings.policy_raw,
           dry_run, as_json)
    body = _recall(memo_path, key)
    if body is None:
        from leviathan_local.commands.discover_report import report  # json, the backlog, YAML: only now

        body, wrote = report(located, scanned, dry_run, as_json)
        if not wrote:  # after a write the backlog differs, so this key would never be asked again
            save_scratch(memo_path, (time.time_ns(), key, body))
    out.write(_with_counts(body, scanned, as_json))
    return EXIT_OK


def _stat(path: str) -> tuple[int, ...]:
    try:
        info = os.stat(path)
    except OSError:
        return ()
    return info.st_size, info.st_mtime_ns, info.st_ino


def _recall(memo_path: str, key: ReportKey) -> str | None:
    memo = load_scratch(memo_path)
    if not (isinstance(memo, tuple) and len(memo) == 3):
        return None
    made_at, known, body = memo
    backlog = key[1]
    # A backlog saved within the clock tick the report was made in could look unchanged.
    if known != key or (backlog and backlog[1] >= made_at):
        return None
    return body


def _with_counts(body: str, scanned: ScanResult, as_json: bool) -> str:
    """The kept report with this scan's counts, the one part that changes between runs. The
    JSON body is kept as text and the counts (numbers and a boolean) written before its first
    key: importing json to parse and write it again would take a third of a warm run."""
    if as_json:
        relisted = "true" if scanned.relisted else "false"
        counts = f'"files": {scanned.files_listed}, "files_read": {scanned.files_read}, "relisted": {relisted}'
        return '{"scan": {' + counts + "}, " + body.removeprefix("{") + "\n"
    if scanned.first:  # git grep searched them all; only the files holding a tag word were read
        return f"Scanned {plural(scanned.files_listed, 'file')} (first scan: searched all, read {scanned.files_read}):\n{body}"
    return (f"Scanned {plural(scanned.files_listed, 'file')} (read {scanned.files_read}, the rest unchanged since the"
            f" last scan):\n{body}")
