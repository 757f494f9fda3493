"""Where each task sits in backlog.yaml's text, found without parsing the whole file.

A backlog is almost always one block sequence of task mappings (under `tasks:` or bare).
Splitting it at the item lines lets each task be parsed, cached and edited on its own,
which is what makes a 10,000-task file fast. Anything this splitter is unsure about
returns ``None`` and the caller parses the whole document instead; a wrong split cannot
go unnoticed either, because every chunk must parse as exactly one sequence item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from leviathan_local.config import yamlio
from leviathan_local.errors import BacklogError, UnknownTaskError

_TASKS_KEY = re.compile(r"^tasks[ \t]*:[ \t]*(?:#[^\n]*)?$", re.MULTILINE)
_CONTENT_LINE = re.compile(r"^( *)([^ \r\n])", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One task item: ``text[start:end]``, beginning at 0-based ``line``."""

    start: int
    end: int
    line: int


@dataclass(frozen=True, slots=True)
class Layout:
    chunks: tuple[Chunk, ...]
    # The document with the task items cut out: parsed to check everything around them.
    rest: str
    bare_list: bool


def split_items(text: str) -> Layout | None:
    """The task items of a block-sequence backlog, or None when the layout is unusual."""
    list_from, bare = _list_start(text)
    if list_from is None:
        return None
    first = _first_content_line(text, list_from)
    if first is None or text[first.start(2)] != "-" or text[first.end(2):first.end(2) + 1] not in (" ", "\n", "\r", ""):
        return None
    indent = len(first.group(1))
    # Patterns anchored on a literal newline scan several times faster than `^` + MULTILINE.
    item_start = re.compile(rf"\n {{{indent}}}-(?=[ \r\n]|$)")
    list_end = re.compile(rf"\n(?! {{{indent}}}-(?:[ \r\n]|$)| {{{indent + 1}}}| *#| *\r?\n| *$)")
    end_match = list_end.search(text, first.start() - 1)
    end = end_match.start() + 1 if end_match else len(text)
    if bare and end != len(text):
        return None
    starts = [first.start()] + [m.start() + 1 for m in item_start.finditer(text, first.start(), end - 1)]
    chunks = []
    line = text.count("\n", 0, starts[0])
    for begin, finish in zip(starts, [*starts[1:], end]):
        chunks.append(Chunk(begin, finish, line))
        line += text.count("\n", begin, finish)
    # Keep the line count of `rest` unchanged up to the list so its marks stay meaningful.
    rest = text[: starts[0]] + text[end:]
    return Layout(tuple(chunks), rest, bare)


def _list_start(text: str) -> tuple[int | None, bool]:
    match = _TASKS_KEY.search(text)
    if match:
        return match.end(), False
    first = _first_content_line(text, 0)
    if first and first.group(1) == "" and text[first.start(2)] == "-":
        return first.start(), True
    return None, False


def _first_content_line(text: str, position: int) -> re.Match[str] | None:
    """The first line at or after ``position`` holding something other than a comment."""
    found = _CONTENT_LINE.search(text, position)
    while found and text[found.start(2)] == "#":
        found = _CONTENT_LINE.search(text, found.end())
    return found


def task_mapping(document: str, source: str, task_id: str) -> yamlio.MappingNode:
    root = yamlio.compose(document, source, BacklogError)
    if isinstance(root, yamlio.MappingNode):
        root = next(value for key, _, value in yamlio.mapping_pairs(root) if key == "tasks")
    for node in root.value:
        data = yamlio.construct(node)
        if isinstance(data, dict) and str(data.get("id", data.get("task_id"))) == task_id:
            return node
    raise UnknownTaskError(f"no task {task_id!r} in {source}")
