"""The backlog an approval's merge holds, and the human's working copy after it.

The backlog merges task by task (backlog/merge.py), never line by line: the task ends done as
its branch wrote it, or as written here when the branch carries no writeback (the task was not in
its base's backlog). The working copy gets the merge on top of the human's uncommitted edits,
which stay; a task no commit holds is marked done there only. Nothing is written until the
whole approval is checked (approve.py), and the write is atomic and retried while it races.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leviathan_local.atomic import write_atomic_if_unchanged
from leviathan_local.backlog.merge import merge_backlogs, task_values
from leviathan_local.backlog.merge3 import Labels
from leviathan_local.backlog.model import Status, Task, parse_status, status_fields
from leviathan_local.backlog.store import edit_task_text, writer_lock
from leviathan_local.clock import format_timestamp, now
from leviathan_local.errors import BacklogError
from leviathan_local.git.merge import file_at, merge_base
from leviathan_local.git.repo import RepoPaths
from leviathan_local.review.refusals import MergeRefused, retry_offer

BACKLOG = ".leviathan/backlog.yaml"


@dataclass(frozen=True)
class Finish:
    """A task to mark done in the working backlog because no commit holds it."""

    task_id: str
    fields: dict[str, Any]


def done_writeback(task: Task, branch: str) -> dict[str, Any]:
    """The fields a successful attempt writes on its branch, for a backlog that lacks them."""
    return {**status_fields(task, Status.DONE), "completed_at": format_timestamp(now()),
            "last_attempt_id": task.get("last_attempt_id"), "branch_name": branch}


def merged_backlog(paths: RepoPaths, task: Task, head: str, tip: str, labels: Labels,
                    writeback: dict[str, Any]) -> str:
    """The backlog as the merge commit holds it, with the task done as the branch wrote it."""
    texts = [file_at(paths, commit, BACKLOG) or "" for commit in (merge_base(paths, head, tip), head, tip)]
    merged = merge_backlogs(*texts, labels=labels)
    if merged.conflicts:
        raise MergeRefused(f"{BACKLOG} does not merge: {'; '.join(merged.conflicts)}",
                           hint=f"{retry_offer(task.id, labels.ours)}; or merge it by hand with "
                                f"`git merge {labels.theirs}` and resolve the markers")
    if status_in(merged.text, task.id) in (None, Status.DONE):
        return merged.text
    # The branch carries no writeback (the task was not in its base's backlog): write it here.
    return edit_task_text(merged.text, BACKLOG, task.id, writeback)


def status_in(text: str, task_id: str) -> Status | None:
    """The task's status in a backlog's text; None when that backlog does not hold the task."""
    found = task_values(text).get(task_id)
    return None if found is None else parse_status(found.get("status"), found.get("ready"))


def backlog_in_the_way(paths: RepoPaths, committed: str, merged: str, finish: Finish | None) -> list[str]:
    try:
        _working_version(paths, committed, merged, finish)
    except BacklogError as problem:
        return [f"{BACKLOG} ({problem.message})"]
    return []


def _working_version(paths: RepoPaths, committed: str, merged: str, finish: Finish | None,
                     current: str | None = None) -> str:
    """The human's working copy with the merge applied: their uncommitted edits stay."""
    current = paths.backlog.read_text() if current is None else current
    if current == committed:
        result = merged
    else:
        both = merge_backlogs(committed, current, merged, Labels("your uncommitted edits", "the merge"))
        if both.conflicts:
            raise BacklogError("; ".join(both.conflicts))
        result = both.text
    if finish is not None and finish.task_id in task_values(result):
        result = edit_task_text(result, BACKLOG, finish.task_id, finish.fields)
    return result


def update_working_backlog(paths: RepoPaths, committed: str, merged: str, finish: Finish | None) -> None:
    with writer_lock(paths):
        for _ in range(5):
            raw = paths.backlog.read_bytes()
            new = _working_version(paths, committed, merged, finish, raw.decode("utf-8")).encode("utf-8")
            if raw == new or write_atomic_if_unchanged(paths.backlog, new, expected=raw):
                return
    raise BacklogError(f"{BACKLOG} kept changing while the approval saved it",
                       hint=f"the merge is committed; `git diff {BACKLOG}` shows what differs")
