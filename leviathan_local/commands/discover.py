"""`leviathan discover [--dry-run] [--json]`: tagged comments into `new` backlog tasks.

Built to start fast (editors and hooks run it often): until something changed it imports
neither click, pygit2, pathlib nor the YAML parser. The report made for one state of the
scanned files, backlog and policy is kept and printed again while all three stay the same.
"""

from __future__ import annotations

import marshal
import os
import sys

from leviathan_local.discovery.collect import collect
from leviathan_local.discovery.scan import ScanResult, save_scratch
from leviathan_local.discovery.settings import discovery_settings
from leviathan_local.errors import EXIT_OK
from leviathan_local.git.locate import locate_strings

REPORT_MEMO = "discover-report"


def run_discover_at(start: str, dry_run: bool = False, as_json: bool = False, out=None) -> int:
    located = locate_strings(start)
    if located is None:
        from pathlib import Path

        from leviathan_local.git.repo import find_repo  # the thorough search, with its clear errors

        found = find_repo(Path(start))
        located = (str(found.root), str(found.git_dir), str(found.common_dir))
    return run_discover(located, dry_run, as_json, out)


def run_discover(located: tuple[str, str, str], dry_run: bool = False, as_json: bool = False, out=None) -> int:
    """``located``: the work tree, git dir and common dir (``tuple(map(str, repo_paths))``)."""
    out = out or sys.stdout
    root, _, common_dir = located
    state_dir = os.path.join(common_dir, "leviathan")
    settings = discovery_settings(located)
    scanned = collect(located, settings)
    key = (scanned.generation, _stat(os.path.join(root, ".leviathan", "backlog.yaml")), settings.policy_raw,
           dry_run, as_json)
    body = _recall(state_dir, key)
    if body is None:
        from leviathan_local.commands.discover_report import report

        body, wrote = report(located, scanned, dry_run, as_json)
        if not wrote:  # after a write the backlog differs, so this key would never be asked again
            _remember(state_dir, key, body)
    out.write(_with_counts(body, scanned, as_json))
    return EXIT_OK


def _stat(path: str) -> tuple[int, ...]:
    try:
        info = os.stat(path)
    except OSError:
        return ()
    return info.st_size, info.st_mtime_ns, info.st_ino


def _recall(state_dir: str, key: tuple) -> str | None:
    try:
        with open(os.path.join(state_dir, REPORT_MEMO), "rb") as handle:
            made_at, known, body = marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    backlog = key[1]
    # A backlog saved within the clock tick the report was made in could look unchanged.
    if known != key or (backlog and backlog[1] >= made_at):
        return None
    return body


def _remember(state_dir: str, key: tuple, body: str) -> None:
    import time

    save_scratch(os.path.join(state_dir, REPORT_MEMO), (time.time_ns(), key, body))


def _with_counts(body: str, scanned: ScanResult, as_json: bool) -> str:
    if as_json:
        return (f'{{"scan": {{"files": {scanned.files_listed}, "files_read": {scanned.files_read}, '
                f'"relisted": {"true" if scanned.relisted else "false"}}}, ' + body[1:] + "\n")
    return (f"Scanned {scanned.files_listed} file(s) (read {scanned.files_read}, the rest unchanged since the"
            f" last scan):\n{body}")
