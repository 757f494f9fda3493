"""Three-way merge of backlog.yaml, task by task and field by field (git's merge driver).

A task changed on one side only is taken whole from that side, comments and all. A task
changed on both sides is merged field by field: a `done` writeback from an agent branch wins
the fields the tool owns over `review`/`doing`, `attempts` takes the larger count, and the
same human field changed two ways is a real conflict, written with git's markers around
both versions of the task so nothing is lost; its comments, blank lines and field order must
keep both sides' changes (deletions and moves too), and each line a side rewrote (a requoted
title, a flow list made a block list) must stay unless the field merge overruled that field,
or it conflicts. The order of the tasks
is merged too: a move made on either side holds. Text outside the tasks merges line by line.
Files this cannot read as a task list are merged line by line, like any other file.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cmp_to_key
from typing import Any

from leviathan_local.backlog.edit import _content_end, edit_fields
from leviathan_local.backlog.layout import split_items
from leviathan_local.backlog.merge3 import Labels, conflict_block, merge_sequences, merge_texts
from leviathan_local.backlog.model import FIELD_ALIASES, TOOL_FIELDS, Status, parse_status
from leviathan_local.backlog.parse import parse_chunk, parse_items
from leviathan_local.config import yamlio
from leviathan_local.errors import BacklogError, LeviathanError

# Tool-owned fields that humans write too: two different values of these are a real conflict,
# unless one side finished the task.
SHARED_FIELDS = ("status", "ready", "blocked_reason", "blocked_type")
BLOCK_FIELDS = ("blocked_reason", "blocked_type", "blocked_from")
_MISSING: Any = object()
MAX_ORDER_CHECKS = 2_000_000  # pairs compared when both sides moved tasks; beyond that it conflicts


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
        return _Side(text, {}, "") if _holds_no_tasks(text) else None
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


def _holds_no_tasks(text: str) -> bool:
    """`tasks:` or `tasks: []` (every task deleted): a side like any other, all text before the tasks."""
    try:
        value = yamlio.construct(yamlio.compose(text, "backlog"))
    except LeviathanError:
        return False
    return isinstance(value, dict) and "tasks" in value and value["tasks"] in (None, [])


_EMPTY_LIST = re.compile(r"(?m)^(tasks:)[ \t]*\[[ \t]*\](?=[ \t]*(?:#[^\r\n]*)?\r?$)")


def _opened(text: str) -> str:
    """``text`` with a `tasks: []` line made `tasks:`, a comment on it kept."""
    return _EMPTY_LIST.sub(r"\1", text)


def _reads_back(text: str) -> bool:
    try:
        parse_items(text, "merged backlog", {})
    except LeviathanError:
        return False
    return True


def _merge_sides(base: _Side, ours: _Side, theirs: _Side, labels: Labels) -> BacklogMerge:
    conflicts: list[str] = []
    task_conflicts: list[str] = []
    texts = _merged_tasks(base, ours, theirs, labels, task_conflicts)
    # A side that holds no tasks may say so with `tasks: []`; tasks follow, so it says `tasks:`.
    prefixes = [_opened(side.prefix) if texts and not side.tasks else side.prefix for side in (base, ours, theirs)]
    prefix = merge_texts(*prefixes, labels)
    suffix = merge_texts(base.suffix, ours.suffix, theirs.suffix, labels)
    conflicts += ["the text before the tasks"] * min(prefix.conflicts, 1)
    conflicts += ["the text after the tasks"] * min(suffix.conflicts, 1)
    conflicts += task_conflicts
    order = merged_order(list(base.tasks), list(ours.tasks), list(theirs.tasks), set(texts))
    if order is not None:
        body = _body(texts, order)
    else:  # no one order keeps both sides' moves: the merged tasks in each side's order, to choose from
        conflicts.append("the order of the tasks: both sides moved tasks in ways that contradict")
        orders = [_insert_missing([i for i in first.tasks if i in texts], [i for i in second.tasks if i in texts])
                  for first, second in ((ours, theirs), (theirs, ours))]
        body = "".join(conflict_block(*(_body(texts, side).splitlines(keepends=True) for side in orders), labels))
    if texts and suffix.text and not body.endswith("\n"):
        body += "\n"
    return BacklogMerge(prefix.text + body + suffix.text, conflicts)


def _merged_tasks(base: _Side, ours: _Side, theirs: _Side, labels: Labels, conflicts: list[str]) -> dict[str, str]:
    """Each task that stays, by id, as merged text (its conflicts added to ``conflicts``)."""
    texts: dict[str, str] = {}
    for task_id, mine in ours.tasks.items():
        text, problem = _merge_task(task_id, base.tasks.get(task_id), mine, theirs.tasks.get(task_id), labels)
        if text:
            texts[task_id] = text
        conflicts += [problem] if problem else []
    for task_id, yours in theirs.tasks.items():
        if task_id in ours.tasks:
            continue
        original = base.tasks.get(task_id)
        if original is not None and _only_tool_changes(original.value, yours.value):
            continue  # deleted on our side; the other side only recorded progress on it
        texts[task_id] = yours.chunk
        if original is not None:
            texts[task_id] = "".join(conflict_block([], yours.chunk.splitlines(keepends=True), labels))
            conflicts.append(f"task {task_id}: deleted on {labels.ours}, changed on {labels.theirs}")
    return texts


def _body(texts: dict[str, str], order: list[str]) -> str:
    return "".join(_terminated(texts[task_id]) if n < len(order) - 1 else texts[task_id] for n, task_id in enumerate(order))


def _terminated(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


# --- order: of the tasks in the file, and of the fields in a task ----------------------------

def merged_order(base: list[str], ours: list[str], theirs: list[str], kept: set[str]) -> list[str] | None:
    """The ``kept`` items in the merged order: a move made on one side holds, an item new on a
    side follows its predecessor there; None when both sides moved items so that no single
    order keeps both moves."""
    known = set(base)
    mine, yours = ([item for item in side if item in kept] for side in (ours, theirs))
    inherited = _inherited_order([item for item in base if item in kept], [item for item in mine if item in known],
                                 [item for item in yours if item in known])
    if inherited is None:
        return None
    return _insert_missing(_insert_missing(inherited, mine), yours)


def _inherited_order(base: list[str], ours: list[str], theirs: list[str]) -> list[str] | None:
    """The order of the items ``base`` had (each side holds those it kept, in its order)."""
    # The usual case, one side moved nothing (the tool never does), needs no pairwise work.
    if theirs == _restricted(base, theirs):
        return _insert_missing(ours, theirs)
    if ours == _restricted(base, ours):
        return _insert_missing(theirs, ours)
    return _reconciled_order(base, ours, theirs)


def _restricted(order: list[str], to: list[str]) -> list[str]:
    present = set(to)
    return [item for item in order if item in present]


def _insert_missing(order: list[str], side: list[str]) -> list[str]:
    """``order`` with the items of ``side`` it lacks, each right after its nearest predecessor in ``side``."""
    placed, present = list(order), set(order)
    for position, item in enumerate(side):
        if item in present:
            continue
        before = next((placed.index(other) + 1 for other in reversed(side[:position]) if other in present), 0)
        placed.insert(before, item)
        present.add(item)
    return placed


def _reconciled_order(base: list[str], ours: list[str], theirs: list[str]) -> list[str] | None:
    """Both sides moved items: each pair goes in the order of the side that changed it."""
    at_base, at_ours, at_theirs = ({item: n for n, item in enumerate(side)} for side in (base, ours, theirs))

    def first(one: str, two: str) -> bool:
        was = at_base[one] < at_base[two]
        mine = at_ours[one] < at_ours[two] if one in at_ours and two in at_ours else None
        yours = at_theirs[one] < at_theirs[two] if one in at_theirs and two in at_theirs else None
        if mine is None or yours is None:
            return was if mine is None and yours is None else bool(mine if yours is None else yours)
        return yours if mine == was else mine  # changed on both sides: the same way, since a pair has two orders

    order = sorted(base, key=cmp_to_key(lambda one, two: -1 if first(one, two) else 1))
    # Pairs of items neither side moved keep the base order; only pairs with a moved item need a look.
    moved = _moved(base, ours) | _moved(base, theirs)
    if len(moved) * len(order) > MAX_ORDER_CHECKS:
        return None  # too many moves on both sides to check: let a human order them
    position = {item: n for n, item in enumerate(order)}
    if any(first(one, two) != (position[one] < position[two]) for one in moved for two in order if two != one):
        return None
    if [item for item in order if item not in moved] != [item for item in base if item not in moved]:
        return None
    return order


def _moved(base: list[str], side: list[str]) -> set[str]:
    """Items of ``base`` outside a common subsequence with ``side`` (moved there, or absent)."""
    inherited = _restricted(base, side)
    matcher = SequenceMatcher(None, inherited, side, autojunk=False)
    unmoved = {item for start, _, size in matcher.get_matching_blocks() for item in inherited[start:start + size]}
    return set(base) - unmoved


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
    if by_lines.conflicts == 0 and _value_of(by_lines.text) == fields.expected:
        return by_lines.text, None  # a clean three-way line merge applies both sides' changes
    shape = _merged_shape(base, ours, theirs, fields.expected)
    required = [_changed_lines(original, side, fields.expected) for side in (ours, theirs)]
    # The side that needs the fewest field edits keeps the most of its own layout; an edited side
    # is taken only when it also holds every comment, blank line and field move of both sides,
    # and every line either side changed (its style too: quotes, a flow list made a block list)
    # outside the fields whose value the field merge did not take from that side.
    for side in sorted((ours, theirs), key=lambda side: _distance(side.value, fields.expected)):
        candidate = _edited(side, fields.expected) if shape is not None else None
        if candidate is not None and _value_of(candidate) == fields.expected \
                and _shape(candidate, base.value if base else {}) == shape \
                and all(lines is not None and _holds_lines(candidate, lines) for lines in required):
            return candidate, None
    # No way to keep every comment and every field: show both versions rather than drop either.
    block = conflict_block(ours.chunk.splitlines(keepends=True), theirs.chunk.splitlines(keepends=True), labels)
    return "".join(block), f"task {task_id}: both sides rewrote it in ways that cannot be merged line by line"


def _changed_lines(original: str, side: _Task, expected: dict[str, Any]) -> Counter[str] | None:
    """The lines ``side`` wrote that ``original`` lacks (each as often as written), but for
    comment-only and blank lines (the shape keeps those) and the lines of fields whose merged
    value is not this side's; None if the side's fields cannot be located."""
    try:
        mapping = _first_item(side.chunk)
    except LeviathanError:
        return None
    overruled: set[int] = set()
    for name, key, value in yamlio.mapping_pairs(mapping):
        if side.value.get(name, _MISSING) != expected.get(name, _MISSING):
            overruled.update(range(key.start_mark.line, side.chunk.count("\n", 0, _content_end(side.chunk, value)) + 1))
    lines = side.chunk.splitlines()
    matcher = SequenceMatcher(None, original.splitlines(), lines, autojunk=False)
    written: Counter[str] = Counter()
    for tag, _, _, start, end in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            written.update(lines[number] for number in range(start, end)
                           if number not in overruled and lines[number].strip()
                           and not lines[number].lstrip().startswith("#"))
    return written


def _holds_lines(candidate: str, lines: Counter[str]) -> bool:
    held = Counter(candidate.splitlines())
    return all(held[line] >= count for line, count in lines.items())


def _distance(value: dict[str, Any], expected: dict[str, Any]) -> int:
    return sum(value.get(name, _MISSING) != expected.get(name, _MISSING) for name in {*value, *expected})


@dataclass(frozen=True)
class _Shape:
    """What a task holds besides its values: the order of the fields the base had, and each
    comment and blank line with the base field above it."""

    fields: tuple[str, ...]
    notes: tuple[tuple[str, str | None], ...]


def _merged_shape(base: _Task | None, ours: _Task, theirs: _Task, expected: dict[str, Any]) -> _Shape | None:
    """The three-way merge of both sides' shapes; None when both changed it in the same place."""
    original = base.value if base else {}
    old = _shape(base.chunk, original) if base else _Shape((), ())
    mine, yours = _shape(ours.chunk, original), _shape(theirs.chunk, original)
    if old is None or mine is None or yours is None:
        return None
    names = merged_order(list(old.fields), list(mine.fields), list(yours.fields), set(expected))
    notes = merge_sequences(old.notes, mine.notes, yours.notes)
    if names is None or notes is None:
        return None
    return _Shape(tuple(names), tuple(notes))


def _shape(chunk: str, base_fields: dict[str, Any]) -> _Shape | None:
    try:
        mapping = _first_item(chunk)
    except LeviathanError:
        return None
    key_lines = {key.start_mark.line: name for name, key, _ in yamlio.mapping_pairs(mapping)}
    notes: list[tuple[str, str | None]] = []
    above = None
    for number, line in enumerate(chunk.splitlines()):
        if key_lines.get(number) in base_fields:
            above = key_lines[number]
        note = _note(line)  # a `#` line inside block text counts too: stricter, never lossy
        if note is not None:
            notes.append((note, above))
    return _Shape(tuple(name for name in key_lines.values() if name in base_fields), tuple(notes))


def _note(line: str) -> str | None:
    """A line's comment (a rough cut: a `#` after a space or at the line's start), "" for a
    blank line, None for neither."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return stripped
    return line[line.index(" #"):].strip() if " #" in line else None


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
