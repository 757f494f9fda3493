"""Load backlog.yaml (validated, memoized) and write the tool's fields back without losing edits.

Writes are read-modify-write of the tool's own fields on the file as it is *now*: if a human
saved the file between our read and our rename, the edit is re-applied on their version.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from leviathan_local.atomic import write_atomic_if_unchanged
from leviathan_local.backlog import cache as backlog_cache
from leviathan_local.backlog.document import Backlog, InvalidBacklogError
from leviathan_local.backlog.edit import EditRefused, append_items, edit_fields
from leviathan_local.backlog.layout import task_mapping
from leviathan_local.backlog.model import Task
from leviathan_local.backlog.parse import parse_chunk, parse_items
from leviathan_local.backlog.round_trip import round_trip_edit
from leviathan_local.backlog.validate import Problem, build_tasks
from leviathan_local.config import yamlio
from leviathan_local.errors import BacklogError, file_error
from leviathan_local.events import open_state_file
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.wording import plural, them

MAX_WRITE_RETRIES = 5

# The last backlog loaded or written per backlog file (main checkout or a worktree's copy),
# valid while the file's bytes are unchanged.
_last: dict[Path, tuple[bytes, Backlog]] = {}


def load_backlog(paths: RepoPaths) -> Backlog:
    """The backlog as it is on disk now; BacklogError (exit 2) when missing or invalid."""
    backlog = _parse(paths, _read(paths))
    backlog_cache.persist(paths)
    return backlog


def update_task(paths: RepoPaths, task_id: str, changes: Mapping[str, Any],
                removals: tuple[str, ...] = ()) -> Task:
    """Set (and remove) fields of one task on the file as it is on disk now; returns the task."""
    with writer_lock(paths):
        return _update_locked(paths, task_id, changes, removals)


def edit_task_text(text: str, source: str, task_id: str, changes: Mapping[str, Any]) -> str:
    """``text`` (a whole backlog) with one task's fields changed: the same surgical, verified
    edit as ``update_task``, on text that is not on disk (a merge result, say)."""
    items, _ = parse_items(text, source, {})
    tasks, problems, warnings = build_tasks(items)
    _raise_problems(source, problems)
    backlog = Backlog(Path(source), source, text, tasks, warnings, items)
    backlog.task(task_id)
    return _edited(backlog, task_id, changes, ()).text


@contextmanager
def writer_lock(paths: RepoPaths) -> Iterator[None]:
    """Serializes the tool's own writers (threads, parallel attempts); humans are caught by the
    compare-before-rename instead, since editors take no lock."""
    with open_state_file(paths, "backlog.lock", "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _update_locked(paths: RepoPaths, task_id: str, changes: Mapping[str, Any],
                   removals: tuple[str, ...]) -> Task:
    return _rewrite(paths, {task_id: (changes, removals)}, ()).task(task_id)


def update_tasks(paths: RepoPaths, edits: Mapping[str, tuple[Mapping[str, Any], tuple[str, ...]]],
                 new_tasks: list[dict[str, Any]] = ()) -> Backlog:  # type: ignore[assignment]
    """Several tasks' fields and new tasks appended at the end, in one atomic write."""
    with writer_lock(paths):
        return _rewrite(paths, edits, new_tasks)


def _rewrite(paths: RepoPaths, edits: Mapping[str, tuple[Mapping[str, Any], tuple[str, ...]]],
             new_tasks: list[dict[str, Any]] | tuple[()]) -> Backlog:
    for _ in range(MAX_WRITE_RETRIES):
        raw = _read(paths)
        updated = _parse(paths, raw)
        for task_id, (changes, removals) in edits.items():
            updated.task(task_id)
            updated = _edited(updated, task_id, changes, removals)
        if new_tasks:
            updated = _appended(updated, list(new_tasks))
        new_raw = updated.text.encode("utf-8")
        if write_atomic_if_unchanged(paths.backlog, new_raw, expected=raw):
            _last[paths.backlog] = (_digest(new_raw), updated)
            return updated
    raise BacklogError(
        f"{_display(paths)} kept changing while the tool tried to save it",
        hint="save your edits, then run the command again",
    )


def _appended(backlog: Backlog, new_tasks: list[dict[str, Any]]) -> Backlog:
    """The backlog with ``new_tasks`` after its last task, validated before anything is written."""
    text = append_items(backlog.text, new_tasks)
    if text is None:
        raise BacklogError(f"{backlog.source} is laid out in a way new tasks cannot be appended to",
                           hint="write `tasks:` as a block list (`- id: ...` items), then run the command again")
    return _reparsed(backlog, text)


def _read(paths: RepoPaths) -> bytes:
    try:
        return paths.backlog.read_bytes()
    except FileNotFoundError:
        raise BacklogError(f"{_display(paths)} does not exist",
                           hint="run `leviathan init` to create it with commented examples") from None
    except OSError as error:  # a directory in its place, `.leviathan` a file, no permission
        raise file_error(error, paths.backlog, paths.root) from None


def _parse(paths: RepoPaths, raw: bytes) -> Backlog:
    digest = _digest(raw)
    remembered = _last.get(paths.backlog)
    if remembered and remembered[0] == digest:
        return remembered[1]
    source = _display(paths)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BacklogError(f"{source}: not UTF-8 text (byte {exc.start})", hint="save the file as UTF-8") from None
    items, memo = parse_items(text, source, backlog_cache.item_memo(paths))
    tasks, problems, warnings = build_tasks(items)
    _raise_problems(source, problems)
    backlog_cache.replace(paths, memo)
    backlog = Backlog(paths.backlog, source, text, tasks, warnings, items)
    _last[paths.backlog] = (digest, backlog)
    return backlog


def _raise_problems(source: str, problems: list[Problem]) -> None:
    if problems:
        listing = "\n".join("  " + problem.render(source) for problem in problems)
        raise InvalidBacklogError(
            f"{source} has {plural(len(problems), 'problem')}:\n{listing}",
            hint=f"fix {them(len(problems))} in {source} and run the command again; nothing was written",
            problems=problems,
        )


def _edited(backlog: Backlog, task_id: str, changes: Mapping[str, Any], removals: tuple[str, ...]) -> Backlog:
    """The backlog after the edit, validated before anything replaces the file."""
    try:
        return _line_edited(backlog, task_id, changes, removals)
    except EditRefused as refused:
        text = round_trip_edit(backlog.text, backlog.source, task_id, changes, removals)
        if text is None:
            raise refused from None
        return _reparsed(backlog, text)


def _line_edited(backlog: Backlog, task_id: str, changes: Mapping[str, Any], removals: tuple[str, ...]) -> Backlog:
    index = backlog.index_of(task_id)
    located = backlog.items[index]
    if located.start < 0:  # a layout parsed whole: edit the document, then re-parse it whole
        text = edit_fields(backlog.text, lambda document: task_mapping(document, backlog.source, task_id),
                           changes, removals)
        return _reparsed(backlog, text)
    old_chunk = backlog.text[located.start:located.end]
    new_chunk = edit_fields(old_chunk, _first_item, changes, removals)
    item = parse_chunk(new_chunk)
    if item is None or item.problems or str(item.value.get("id", item.value.get("task_id"))) != task_id:
        details = "; ".join(message for *_, message in (item.problems if item else []))
        raise BacklogError(f"the new value would make task {task_id!r} invalid: {details or 'unparsable'}",
                           hint="nothing was written; check the values passed to the command")
    # Only tool-owned fields change, never ids or dependencies, so cross-task checks still hold.
    return backlog.with_item_replaced(index, new_chunk, item)


def _reparsed(backlog: Backlog, text: str) -> Backlog:
    """``text`` as the new backlog, parsed whole and validated (nothing is written otherwise)."""
    items, _ = parse_items(text, backlog.source, {})
    tasks, problems, warnings = build_tasks(items)
    _raise_problems(backlog.source, problems)
    return Backlog(backlog.path, backlog.source, text, tasks, warnings, items)


def _first_item(chunk: str) -> yamlio.MappingNode:
    return yamlio.compose(chunk, "chunk", BacklogError).value[0]


def _digest(raw: bytes) -> bytes:
    return hashlib.blake2b(raw, digest_size=16).digest()


def _display(paths: RepoPaths) -> str:
    try:
        return str(paths.backlog.relative_to(paths.root))
    except ValueError:
        return os.fspath(paths.backlog)
