"""`leviathan prune [--apply] [--branch NAME]…`: delete finished agent/* branches and old reports.

A dry run unless --apply; either way every branch is listed with what is done to it and why,
and the reports beyond `reports.keep`. Everything is judged before anything is deleted, and the
event log is opened first: a log that cannot record the deletions refuses them.
"""

from __future__ import annotations

import sys
from typing import TextIO

from leviathan_local import events
from leviathan_local.config.policy_load import load_policy
from leviathan_local.errors import EXIT_OK
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.reports.retention import Retention, reports_beyond
from leviathan_local.review.prune_branches import BranchVerdict, branch_verdicts, delete_branches


def run_prune(paths: RepoPaths, apply: bool = False, named: tuple[str, ...] = (), out: TextIO | None = None) -> int:
    out = out or sys.stdout
    retention = reports_beyond(paths, load_policy(paths).reports.keep)
    verdicts = branch_verdicts(paths, tuple(named))
    deleted: dict[str, str] = {}
    if apply and (any(v.delete for v in verdicts) or retention.files):
        with events.open_log(paths, verified=True) as log:
            deleted = delete_branches(paths, verdicts)
            for relative in retention.files:
                (paths.root / relative).unlink(missing_ok=True)
            log.append("prune.applied", None, branches=deleted, reports=retention.files)
    out.write(_branches_text(verdicts, deleted, apply) + _reports_text(retention, apply))
    if not apply:
        out.write("Dry run: nothing deleted. `leviathan prune --apply` deletes what is marked delete.\n")
    elif deleted:
        out.write("Each deleted branch's tip is in the event log (`leviathan events`): "
                  "`git branch NAME TIP` restores one.\n")
    return EXIT_OK


def _branches_text(verdicts: list[BranchVerdict], deleted: dict[str, str], apply: bool) -> str:
    if not verdicts:
        return "Branches: no agent/* branch.\n"
    lines = ["Branches (agent/*):"]
    for verdict in verdicts:
        if not verdict.delete:
            action = "keep"
        elif not apply:
            action = "delete"
        else:  # a branch that moved since it was judged is left alone
            action = "deleted" if verdict.branch in deleted else "kept"
        why = verdict.why if action != "kept" else "it moved while prune ran"
        lines.append(f"  {action:<8}{verdict.branch}  {why}  (tip {verdict.tip[:12]})")
    return "\n".join(lines) + "\n"


def _reports_text(retention: Retention, apply: bool) -> str:
    total = len(retention.kept) + len(retention.beyond)
    head = f"Reports in DOCS/status: {total} (reports.keep {retention.keep})"
    if not retention.beyond:
        return f"{head}: all kept.\n"
    span = retention.beyond[0] + (f" to {retention.beyond[-1]}" if len(retention.beyond) > 1 else "")
    verb = "deleted" if apply else "delete"
    return (f"{head}: {verb} the {len(retention.beyond)} oldest ({span}, {len(retention.files)} files), "
            f"keep the newest {len(retention.kept)} and latest.*"
            + ("; nothing is committed: if you commit DOCS/status, commit the deletion too" if apply else "") + ".\n")
