"""Discovery: tagged comments become `new` tasks; re-scans update, never duplicate or delete.

A finding whose id is already a discovered task updates that task's `source` (a moved line);
a new id becomes a `new` task (never ready: a human promotes it); a discovered task whose
finding is gone is reported and, while still `new`, blocked with reason `source removed`
(it is never deleted: a human may have refined it). A finding that comes back unblocks it.
A task gets a default scope (`tasks.default_allowed_paths`) when made, and a `new` one made
before discovery gave one, with neither `allowed_paths` nor `scope`, gets it at the next scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leviathan_local import events
from leviathan_local.backlog.model import Status, Task, status_fields
from leviathan_local.backlog.store import load_backlog, update_tasks
from leviathan_local.clock import format_timestamp, now
from leviathan_local.discovery.scan import scan_repository
from leviathan_local.discovery.settings import discovery_settings
from leviathan_local.discovery.tasks import Finding, default_allowed_paths, named_findings
from leviathan_local.repo_paths import RepoPaths

REMOVED_REASON = "source removed"


@dataclass
class Reconciliation:
    new: list[Finding] = field(default_factory=list)
    moved: list[tuple[Finding, int]] = field(default_factory=list)  # the finding and its old line
    restored: list[Finding] = field(default_factory=list)
    removed: list[tuple[str, dict[str, Any], bool]] = field(default_factory=list)  # id, old source, blocked
    skipped: list[str] = field(default_factory=list)  # ids a human task already uses
    unscoped: list[Finding] = field(default_factory=list)  # new tasks without allowed_paths or scope

    @property
    def changes_backlog(self) -> bool:
        return bool(self.new or self.moved or self.restored or self.unscoped
                    or any(blocked for *_, blocked in self.removed))


def reconcile(tasks: list[Task], findings: list[Finding]) -> Reconciliation:
    by_id = {task.id: task for task in tasks}
    found_ids = {finding.id for finding in findings}
    result = Reconciliation()
    for finding in findings:
        task = by_id.get(finding.id)
        if task is None:
            result.new.append(finding)
        elif not _discovered(task):
            result.skipped.append(finding.id)
        else:
            if _blocked_as_removed(task):
                result.restored.append(finding)
            if dict(task.get("source")) != finding.source():
                result.moved.append((finding, int(task.get("source").get("line") or 0)))
            if task.status is Status.NEW and not task.allowed_paths and task.get("scope") is None:
                result.unscoped.append(finding)
    for task in tasks:
        if _discovered(task) and task.id not in found_ids and not _blocked_as_removed(task):
            result.removed.append((task.id, dict(task.get("source")), task.status is Status.NEW))
    return result


def apply(paths: RepoPaths, result: Reconciliation) -> None:
    """Write the reconciliation into backlog.yaml in one atomic write, and log it."""
    if not result.changes_backlog:
        return
    tasks = load_backlog(paths).by_id
    test_globs = discovery_settings((str(paths.root), str(paths.git_dir), str(paths.common_dir))).test_globs
    edits: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {}
    for finding, _ in result.moved:
        edits[finding.id] = ({"source": finding.source()}, ())
    for finding in result.unscoped:
        changes, _ = edits.get(finding.id, ({}, ()))
        edits[finding.id] = ({**changes, "allowed_paths": default_allowed_paths(finding.path, test_globs)}, ())
    for finding in result.restored:
        changes, _ = edits.get(finding.id, ({}, ()))
        edits[finding.id] = ({**changes, **status_fields(tasks[finding.id], Status.NEW)},
                             ("blocked_reason", "blocked_type", "blocked_from"))
    for task_id, source, blocked in result.removed:
        if blocked:
            edits[task_id] = ({**status_fields(tasks[task_id], Status.BLOCKED), "blocked_type": "decision",
                               "blocked_reason": f"{REMOVED_REASON}: the {source.get('tag', 'TODO')} at "
                                                 f"{source.get('path')}:{source.get('line')} is gone; "
                                                 "drop the task or unblock it",
                               "blocked_from": Status.NEW.value}, ())
    created = format_timestamp(now())
    # Opened before the write: a log that cannot record what discovery changed refuses the change.
    with events.open_log(paths, verified=True) as log:
        update_tasks(paths, edits, [finding.as_task(created, test_globs) for finding in result.new])
        log.append("discovery.applied", None, new=[f.id for f in result.new],
                   moved=[f.id for f, _ in result.moved], restored=[f.id for f in result.restored],
                   scoped=[f.id for f in result.unscoped],
                   removed=[task_id for task_id, _, _ in result.removed])


def _discovered(task: Task) -> bool:
    source = task.get("source")
    return isinstance(source, dict) and source.get("kind") == "todo"


def _blocked_as_removed(task: Task) -> bool:
    return task.status is Status.BLOCKED and str(task.get("blocked_reason") or "").startswith(REMOVED_REASON)


def run_discovery(paths: RepoPaths, dry_run: bool = False) -> tuple[Reconciliation, list[Finding]]:
    """Scan, compare with the backlog, and (unless ``dry_run``) write the result."""
    located = (str(paths.root), str(paths.git_dir), str(paths.common_dir))
    findings = named_findings(scan_repository(located, discovery_settings(located)).files)
    result = reconcile(load_backlog(paths).tasks, findings)
    if not dry_run:
        apply(paths, result)
    return result, findings
