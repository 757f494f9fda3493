"""Three-way merge of backlog.yaml, task by task and field by field (git's merge driver).

A task changed on one side only is taken whole from that side, comments and all. A task
changed on both sides is merged field by field: a `done` writeback from an agent branch wins
the fields the tool owns over `review`/`doing`, `attempts` takes the larger count, and the
same human field changed two ways is a real conflict, written with git's markers around
both versions of the task so nothing is lost. Text outside the tasks merges line by line.
Files this cannot read as a task list are merged line by line, like any other file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leviathan_local import yamlio
from leviathan_local.backlog_edit import edit_fields
from leviathan_local.backlog_layout import split_items
from leviathan_local.backlog_parse import parse_chunk, parse_items
from leviathan_local.errors import BacklogError, LeviathanError
from leviathan_local.merge3 import Labels, conflict_block, merge_texts
from leviathan_local.model import FIELD_ALIASES, TOOL_FIELDS, Status, parse_status

# Tool-owned fields that humans write too: two different values of these are a real conflict,
# unless one side finished the task.
SHARED_FIELDS = ("status", "ready", "blocked_reason", "blocked_type")
BLOCK_FIELDS = ("blocked_reason", "blocked_type", "blocked_from")
_MISSING: Any = object()


@dataclass
class BacklogMerge:
    text: str
    conflicts: list[str] = field(default_factory=list)
    by_task: bool = True  # False when the file was merged line by line


@dataclass(frozen=True)
class _Task:
    chunk: str
    value: dict[str, Any]


@dataclass(frozen=True)
class _Side:
    prefix: str
    tasks: dict[str, _Task]
    suffix: str


def merge_backlogs(base: str, ours: str, theirs: str, labels: Labels = Labels()) -> BacklogMerge:
    """``ours`` with ``theirs``' changes since ``base``; conflicts listed and marked in the text."""
    sides = [_read_side(text) for text in (base, ours, theirs)]
    if None not in sides:
        merged = _merge_sides(*sides, labels)  # type: ignore[arg-type]
        if merged.conflicts or _reads_back(merged.text):
            return merged
    by_lines = merge_texts(base, ours, theirs, labels)
    return BacklogMerge(by_lines.text, ["overlapping line changes"] * by_lines.conflicts, by_task=False)


def task_values(text: str) -> dict[str, dict[str, Any]]:
    """Each task's fields by id, for a backlog in the usual layout (empty otherwise)."""
    side = _read_side(text)
    return {task_id: task.value for task_id, task in side.tasks.items()} if side else {}


def _read_side(text: str) -> _Side | None:
    if not text.strip():
        return _Side(text, {}, "")
    layout = split_items(text)
    if layout is None:
        return None
    tasks: dict[str, _Task] = {}
    for chunk in layout.chunks:
        chunk_text = text[chunk.start:chunk.end]
        item = parse_chunk(chunk_text)
        if item is None or not isinstance(item.value, dict):
            return None
        task_id = item.value.get("id", item.value.get("task_id"))
        if task_id is None or str(task_id) in tasks:
            return None
        tasks[str(task_id)] = _Task(chunk_text, item.value)
    return _Side(text[:layout.chunks[0].start], tasks, text[layout.chunks[-1].end:])


def _reads_back(text: str) -> bool:
    try:
        parse_items(text, "merged backlog", {})
    except LeviathanError:
        return False
    return True


def _merge_sides(base: _Side, ours: _Side, theirs: _Side, labels: Labels) -> BacklogMerge:
    conflicts: list[str] = []
    prefix = merge_texts(base.prefix, ours.prefix, theirs.prefix, labels)
    suffix = merge_texts(base.suffix, ours.suffix, theirs.suffix, labels)
    conflicts += ["the text before the tasks"] * min(prefix.conflicts, 1)
    conflicts += ["the text after the tasks"] * min(suffix.conflicts, 1)
    merged: list[tuple[str, str]] = []
    for task_id, mine in ours.tasks.items():
        text, problem = _merge_task(task_id, base.tasks.get(task_id), mine, theirs.tasks.get(task_id), labels)
        merged.append((task_id, text))
        conflicts += [problem] if problem else []
    for position, (task_id, yours) in enumerate(theirs.tasks.items()):
        if task_id in ours.tasks:
            continue
        original = base.tasks.get(task_id)
        if original is not None and _only_tool_changes(original.value, yours.value):
            continue  # deleted on our side; the other side only recorded progress on it
        text = yours.chunk
        if original is not None:
            text = "".join(conflict_block([], yours.chunk.splitlines(keepends=True), labels))
            conflicts.append(f"task {task_id}: deleted on {labels.ours}, changed on {labels.theirs}")
        merged.insert(_after_predecessor(merged, list(theirs.tasks)[:position]), (task_id, text))
    body = "".join(_terminated(text) if index < len(merged) - 1 else text
                   for index, (_, text) in enumerate(merged))
    if merged and suffix.text and not body.endswith("\n"):
        body += "\n"
    return BacklogMerge(prefix.text + body + suffix.text, conflicts)


def _after_predecessor(merged: list[tuple[str, str]], preceding_ids: list[str]) -> int:
    placed = [task_id for task_id, _ in merged]
    for task_id in reversed(preceding_ids):
        if task_id in placed:
            return placed.index(task_id) + 1
    return 0


def _terminated(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def _merge_task(task_id: str, base: _Task | None, ours: _Task, theirs: _Task | None,
                labels: Labels) -> tuple[str, str | None]:
    if theirs is None:
        if base is None or _only_tool_changes(base.value, ours.value):
            return (ours.chunk, None) if base is None else ("", None)
        block = conflict_block(ours.chunk.splitlines(keepends=True), [], labels)
        return "".join(block), f"task {task_id}: changed on {labels.ours}, deleted on {labels.theirs}"
    original = base.chunk if base else ""
    if ours.chunk == theirs.chunk or theirs.chunk == original:
        return ours.chunk, None
    if ours.chunk == original:
        return theirs.chunk, None
    fields = merge_fields(base.value if base else {}, ours.value, theirs.value)
    if fields.conflicts:
        partial = _edited(ours, fields.expected) or ours.chunk
        block = conflict_block(partial.splitlines(keepends=True), theirs.chunk.splitlines(keepends=True), labels)
        details = ", ".join(f"{name} ({labels.ours}: {mine!r}, {labels.theirs}: {yours!r})"
                            for name, mine, yours in fields.conflicts)
        return "".join(block), f"task {task_id}: {details}"
    by_lines = merge_texts(original, ours.chunk, theirs.chunk)
    candidates = [by_lines.text] if by_lines.conflicts == 0 else []
    # The side that needs the fewest field edits keeps the most of its own layout.
    closest = sorted((ours, theirs), key=lambda side: _distance(side.value, fields.expected))
    candidates += [_edited(side, fields.expected) for side in closest]
    wanted = _comments_added(original, ours.chunk) | _comments_added(original, theirs.chunk)
    for candidate in candidates:
        if candidate is not None and _value_of(candidate) == fields.expected and wanted <= _comments(candidate):
            return candidate, None
    # No way to keep every comment and every field: show both versions rather than drop either.
    block = conflict_block(ours.chunk.splitlines(keepends=True), theirs.chunk.splitlines(keepends=True), labels)
    return "".join(block), f"task {task_id}: both sides rewrote it in ways that cannot be merged line by line"


def _distance(value: dict[str, Any], expected: dict[str, Any]) -> int:
    return sum(value.get(name, _MISSING) != expected.get(name, _MISSING) for name in {*value, *expected})


def _comments_added(before: str, after: str) -> set[str]:
    return _comments(after) - _comments(before)


def _comments(chunk: str) -> set[str]:
    """The comment text of each line (a rough cut: a `#` after a space or at the line's start)."""
    found = set()
    for line in chunk.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            found.add(stripped)
        elif " #" in line:
            found.add(line[line.index(" #"):].strip())
    return found


@dataclass
class FieldMerge:
    expected: dict[str, Any]  # the merged task (ours' values where fields conflict)
    conflicts: list[tuple[str, Any, Any]] = field(default_factory=list)


def merge_fields(base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]) -> FieldMerge:
    """The three-way merge of one task's fields, as changes to apply on ``ours``."""
    winner = _finished_side(ours, theirs)
    result = FieldMerge(expected=dict(ours))
    for name in [*ours, *(k for k in theirs if k not in ours)]:
        original, mine, yours = base.get(name, _MISSING), ours.get(name, _MISSING), theirs.get(name, _MISSING)
        if mine == yours or yours == original:
            continue
        if mine == original:
            value = yours
        elif _canonical(name) == "attempts" and isinstance(mine, int) and isinstance(yours, int):
            value = max(mine, yours)
        elif _canonical(name) in TOOL_FIELDS and (winner or _canonical(name) not in SHARED_FIELDS):
            value = yours if winner is theirs else mine
        else:
            result.conflicts.append((name, _shown(mine), _shown(yours)))
            continue
        _set(result, name, value)
    if winner is not None and parse_status(result.expected.get("status"), result.expected.get("ready")) is Status.DONE:
        for name in BLOCK_FIELDS:
            if name in result.expected:
                _set(result, name, _MISSING)
    return result


def _set(result: FieldMerge, name: str, value: Any) -> None:
    if value is _MISSING:
        result.expected.pop(name, None)
    else:
        result.expected[name] = value


def _finished_side(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any] | None:
    """The side that marked the task done when the other did not."""
    mine, yours = (parse_status(side.get("status"), side.get("ready")) for side in (ours, theirs))
    if yours is Status.DONE and mine is not Status.DONE:
        return theirs
    if mine is Status.DONE and yours is not Status.DONE:
        return ours
    return None


def _only_tool_changes(before: dict[str, Any], after: dict[str, Any]) -> bool:
    names = set(before) | set(after)
    return all(_canonical(n) in TOOL_FIELDS for n in names if before.get(n, _MISSING) != after.get(n, _MISSING))


def _canonical(name: str) -> str:
    return FIELD_ALIASES.get(name, name)


def _shown(value: Any) -> Any:
    return None if value is _MISSING else value


def _value_of(chunk: str) -> dict[str, Any] | None:
    item = parse_chunk(chunk)
    return item.value if item is not None and isinstance(item.value, dict) else None


def _edited(side: _Task, expected: dict[str, Any]) -> str | None:
    """``side``'s chunk edited surgically until it holds ``expected``; None if that cannot be done."""
    changes = {name: value for name, value in expected.items() if side.value.get(name, _MISSING) != value}
    removals = tuple(name for name in side.value if name not in expected)
    try:
        return edit_fields(side.chunk, _first_item, changes, removals)
    except LeviathanError:
        return None


def _first_item(chunk: str) -> yamlio.MappingNode:
    return yamlio.compose(chunk, "chunk", BacklogError).value[0]
