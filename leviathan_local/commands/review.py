"""`leviathan review`, `leviathan merge ID` (approve), `leviathan reject ID --reason TEXT` and
`leviathan retry ID` (rebase and retry)."""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import asdict
from typing import TextIO

from leviathan_local.backlog.merge_driver import ensure_registered
from leviathan_local.backlog.store import load_backlog
from leviathan_local.engine.signals import stop_on_signals
from leviathan_local.errors import EXIT_OK
from leviathan_local.planning.cost import phase_cost
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.review.approve import MergeRefused, approve, merge_conflicts
from leviathan_local.review.pending import ReviewItem, evidence_lines, list_reviews
from leviathan_local.review.reject import reject
from leviathan_local.review.retry import retry


def run_review(paths: RepoPaths, as_json: bool = False, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    items = list_reviews(paths)
    if as_json:
        out.write(json.dumps({"reviews": [asdict(item) for item in items]}, indent=2) + "\n")
    elif not items:
        out.write("Nothing waits for review.\n")
    else:
        backlog = load_backlog(paths)
        # The same merge an approval would make, nothing written: a branch that no longer merges
        # (a sibling was approved first) is offered rebase and retry, which costs no attempt.
        conflicts = {item.task_id: merge_conflicts(paths, backlog.task(item.task_id))
                     for item in items if not item.problem}
        out.write("".join(render_item(item, conflicts.get(item.task_id, [])) for item in items))
    return EXIT_OK


def render_item(item: ReviewItem, conflicts: list[str] | None = None) -> str:
    lines = [f"{item.task_id}: {item.title}", f"  branch   {item.branch} (attempt {item.attempt_id or 'unknown'})"]
    if item.problem:
        lines.append(f"  problem  {item.problem}")
    for stat in item.files:
        lines.append(f"  {stat.kind}        {stat.path} +{stat.added} -{stat.deleted}")
    for phase in item.phases:
        spent = phase_cost(phase)
        lines.append(f"  {phase['name']:<9}{phase['verdict']:<8}{phase['seconds']:6.2f}s"
                     + (f"  {spent.text()}" if spent is not None else ""))
    lines.extend(f"  evidence {line}" for line in evidence_lines(item))
    lines.append(f"  cost     {item.cost_summary()}")
    if item.gates:
        lines.append(f"  checked  {', '.join(item.gates)}")
    if conflicts:
        lines.append(f"  conflict with the default branch in {', '.join(conflicts)}: "
                     f"leviathan retry {item.task_id} (rebase and retry, not counted)")
    elif not item.problem:  # a task whose branch is gone can only be rejected
        lines.append(f"  approve  leviathan merge {item.task_id}")
    lines.append(f"  reject   leviathan reject {item.task_id} --reason \"...\"")
    return "\n".join(lines) + "\n\n"


def run_merge(paths: RepoPaths, task_id: str, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    stop = threading.Event()
    try:
        with stop_on_signals(stop):
            approval = approve(paths, task_id, stop)
    except MergeRefused:
        _register_merge_driver(paths, out)  # the hint may be a merge by hand: git then needs the driver
        raise
    _register_merge_driver(paths, out)
    if approval.already_merged:
        out.write(f"{task_id}: {approval.branch} was already merged into the default branch (it is in"
                  f" {approval.commit[:12]}): no commit added (approved by {approval.approver})\n")
    else:
        out.write(f"{task_id}: merged {approval.branch} as {approval.commit[:12]} (approved by {approval.approver})\n")
    if approval.checks:
        out.write(f"  the default branch had moved: checked the merged result ({', '.join(approval.checks)})\n")
    elif approval.base_moved:
        out.write("  the default branch changed only the backlog since the attempt: the merged files are the ones"
                  " the attempt verified\n")
    if approval.already_merged and approval.done_uncommitted:
        out.write(f"  with no merge commit to hold it, {task_id} is marked done in your uncommitted"
                  " .leviathan/backlog.yaml: commit it with your next change\n")
    elif approval.done_uncommitted:
        out.write(f"  no commit held {task_id} (it was added without committing): it is marked done in your"
                  " uncommitted .leviathan/backlog.yaml\n")
    if approval.already_done:
        out.write(f"  {task_id} was already done (the merge brought its done status): the backlog is left as it"
                  " is; the branch is deleted\n")
    else:
        out.write(f"  {task_id} is done; the branch is deleted\n")
    return EXIT_OK


def _register_merge_driver(paths: RepoPaths, out: TextIO) -> None:
    if registered := ensure_registered(paths):
        out.write(f"note: {registered}\n")


def run_retry(paths: RepoPaths, task_id: str, delete_branch: bool = False, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    retried = retry(paths, task_id, delete_branch=delete_branch)
    out.write(f"{task_id}: review -> ready (rebase and retry: {retried.branch} conflicts in "
              f"{', '.join(retried.conflicts)}; attempt not counted, {retried.attempts} used)\n")
    out.write(f"  branch {retried.branch} {'deleted' if retried.branch_deleted else 'kept for inspection'}\n")
    out.write(f"  the next attempt starts from the default branch as it is now: `leviathan run` or "
              f"`leviathan attempt {task_id}`\n")
    return EXIT_OK


def run_reject(paths: RepoPaths, task_id: str, reason: str, delete_branch: bool = False,
               out: TextIO | None = None) -> int:
    out = out or sys.stdout
    rejection = reject(paths, task_id, reason, delete_branch=delete_branch)
    out.write(f"{task_id}: review -> {rejection.after.value} (attempt {rejection.attempts} counted)\n")
    if rejection.branch_missing:
        out.write(f"  branch {rejection.branch or '(none)'} was already gone\n")
    else:
        out.write(f"  branch {rejection.branch} {'deleted' if rejection.branch_deleted else 'kept for inspection'}\n")
    return EXIT_OK
