"""backlog.yaml text → parsed items, one per task, with the positions validation reports.

Items are parsed chunk by chunk (see ``layout``) and memoized by chunk content, so
a re-load after a small edit re-parses only the tasks whose text changed. Exotic layouts
(flow style, anchors shared between tasks, a syntax error) fall back to one whole-document
parse, which also gives exact positions for the error message. Both read a task through
``parse_item_node``, so merge keys (`<<: *defaults`) resolve the same way in either.
"""

from __future__ import annotations

import hashlib

from leviathan_local.backlog.items import LocatedItem, ParsedItem
from leviathan_local.backlog.layout import Layout, split_items
from leviathan_local.backlog.validate import check_item, value_without_unreadable_fields
from leviathan_local.config import yamlio
from leviathan_local.errors import BacklogError

ItemMemo = dict[bytes, ParsedItem]


def parse_items(text: str, source: str, previous: ItemMemo) -> tuple[list[LocatedItem], ItemMemo]:
    """Every task item of ``text``, and the memo of this text's chunks for the next parse.

    Syntax and shape problems raise BacklogError.
    """
    layout = split_items(text)
    if layout is not None:
        parsed = _parse_chunked(text, layout, previous)
        if parsed is not None:
            return parsed
    return _parse_whole(text, source), {}


def _parse_chunked(text: str, layout: Layout, previous: ItemMemo) -> tuple[list[LocatedItem], ItemMemo] | None:
    if not _rest_is_plain(layout):
        return None
    located = []
    memo: ItemMemo = {}
    for chunk in layout.chunks:
        chunk_text = text[chunk.start:chunk.end]
        key = hashlib.blake2b(chunk_text.encode(), digest_size=16).digest()
        item = previous.get(key) or memo.get(key) or parse_chunk(chunk_text)
        if item is None:
            return None
        memo[key] = item
        located.append(LocatedItem(item, chunk.line + item.line_in_chunk + 1, chunk.start, chunk.end))
    return located, memo


def _rest_is_plain(layout: Layout) -> bool:
    """The text around the items must be a mapping whose `tasks` is now empty (or nothing)."""
    try:
        rest = yamlio.construct(yamlio.compose(layout.rest, "rest", BacklogError))
    except (BacklogError, yamlio.YamlValueError):
        return False  # the whole-document parse reads only `tasks`, and says what is wrong there
    if layout.bare_list:
        return rest is None
    return isinstance(rest, dict) and "tasks" in rest and rest["tasks"] is None


def parse_chunk(chunk_text: str) -> ParsedItem | None:
    try:
        node = yamlio.compose(chunk_text, "chunk", BacklogError)
    except BacklogError:
        return None
    if not isinstance(node, yamlio.SequenceNode) or len(node.value) != 1 or node.flow_style:
        return None
    if yamlio.has_aliases(chunk_text, node):
        return None  # the whole-document parse bounds what the aliases of all tasks add together
    return parse_item_node(node.value[0])


def parse_item_node(node: yamlio.Node) -> ParsedItem:
    base_line = node.start_mark.line
    item = ParsedItem(value=None, line_in_chunk=base_line)
    try:
        item.value = yamlio.construct(node)
    except yamlio.YamlValueError:
        item.value = value_without_unreadable_fields(item, node)
    if isinstance(node, yamlio.MappingNode):
        merges = []
        for key, key_node, _ in yamlio.mapping_pairs(node):
            where = (key_node.start_mark.line - base_line, key_node.start_mark.column + 1)
            if key in item.positions:
                item.duplicate_keys.append((key, *where))
            else:
                item.positions[key] = where
            if yamlio.is_merge_key(key_node):
                merges.append(where)
        # A merged field's text is the shared mapping's, elsewhere: a problem with it points at
        # the task's own `<<` line, where the human sees which task it is.
        for field in item.value if merges else ():
            item.positions.setdefault(field, merges[0])
    check_item(item)
    return item


def _parse_whole(text: str, source: str) -> list[LocatedItem]:
    root = yamlio.compose(text, source, BacklogError)
    sequence = _task_sequence(root, source)
    return [LocatedItem(parse_item_node(node), node.start_mark.line + 1, -1, -1) for node in sequence]


def _task_sequence(root: yamlio.Node | None, source: str) -> list[yamlio.Node]:
    if root is None:
        return []
    if isinstance(root, yamlio.SequenceNode):
        return list(root.value)
    if isinstance(root, yamlio.MappingNode):
        for key, _, value in yamlio.mapping_pairs(root):
            if key == "tasks":
                if isinstance(value, yamlio.SequenceNode):
                    return list(value.value)
                if isinstance(value, yamlio.ScalarNode) and value.tag.endswith(":null"):
                    return []
                line, column = yamlio.position(value)
                raise BacklogError(
                    f"{source}:{line}:{column}: `tasks` must be a list of tasks",
                    hint="write each task as a `- id: ...` item under `tasks:`",
                )
        line, column = yamlio.position(root)
        found = ", ".join(key for key, _, _ in yamlio.mapping_pairs(root)) or "nothing"
        raise BacklogError(
            f"{source}:{line}:{column}: no `tasks:` key (found: {found})",
            hint="list the tasks under a top-level `tasks:` key",
        )
    line, column = yamlio.position(root)
    raise BacklogError(
        f"{source}:{line}:{column}: the backlog must be a mapping with `tasks:` or a list of tasks",
        hint="start the file with `tasks:` and list the tasks under it (`leviathan init` writes an example)",
    )
