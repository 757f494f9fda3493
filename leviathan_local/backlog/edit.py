"""Surgical edits of one task's fields in backlog.yaml text.

Only the edited value's characters change: the human's comments, blank lines, key order and
quoting elsewhere survive byte for byte. Every edit is verified by parsing the result: if the
task does not read back as exactly the intended fields, the edit is refused (nothing is
written) instead of guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from leviathan_local.backlog.layout import split_items
from leviathan_local.config import yamlio
from leviathan_local.errors import BacklogError, LeviathanError

FindMapping = Callable[[str], yamlio.MappingNode]


class EditRefused(BacklogError):
    title = "Backlog edit refused"


def edit_fields(text: str, find: FindMapping, changes: Mapping[str, Any], removals: tuple[str, ...] = ()) -> str:
    """``text`` with the task mapping that ``find`` locates updated; the rest untouched."""
    expected = dict(yamlio.construct(find(text)))
    try:
        text = _apply(text, find, changes, removals, expected)
        actual = yamlio.construct(find(text))
    except LeviathanError:
        actual = None
    if actual != expected or list(actual) != list(expected):
        raise EditRefused(
            "the backlog edit could not be verified, so nothing was written",
            hint="this task's layout is unusual (anchors, aliases?); please report it, and edit the fields by hand meanwhile",
        )
    return text


def _apply(text: str, find: FindMapping, changes: Mapping[str, Any], removals: tuple[str, ...],
           expected: dict[str, Any]) -> str:
    for name, value in changes.items():
        mapping = find(text)
        before_last = name not in expected and not mapping.flow_style and _goes_before_last(text, mapping)
        text = _set(text, mapping, name, value)
        expected[name] = value
        if before_last:  # the last field stays last, as `_insert` placed it
            last = list(expected)[-2]
            expected[last] = expected.pop(last)
    for name in removals:
        mapping = find(text)
        if _pair(mapping, name) is not None:
            text = _remove(text, mapping, name)
            if _pair(find(text), name) is not None:  # removal fell back to an explicit null
                expected[name] = None
            else:
                expected.pop(name)
        elif name in expected:
            # Merged in (`<<: *defaults`): the shared mapping is other tasks' too, so the task
            # overrides it with a null of its own, which means the same as no value.
            text = _set(text, mapping, name, None)
            expected[name] = None
    return text


def _pair(mapping: yamlio.MappingNode, name: str) -> tuple[yamlio.Node, yamlio.Node] | None:
    for key, key_node, value_node in yamlio.mapping_pairs(mapping):
        if key == name:
            return key_node, value_node
    return None


def _set(text: str, mapping: yamlio.MappingNode, name: str, value: Any) -> str:
    pair = _pair(mapping, name)
    if pair is None:
        return _insert(text, mapping, name, value)
    key_node, value_node = pair
    if _is_alias(key_node, value_node):
        # Editing the node's text would rewrite the anchor, and with it every task that shares it.
        raise EditRefused(f"`{name}` is an alias of a value shared elsewhere", hint="edit it by hand")
    scalar_in_place = (
        isinstance(value_node, yamlio.ScalarNode)
        and value_node.style not in ("|", ">")
        and value_node.start_mark.line == value_node.end_mark.line
        and not isinstance(value, (dict, list))
    )
    flow_in_place = (
        isinstance(value_node, (yamlio.MappingNode, yamlio.SequenceNode))
        and value_node.flow_style
        and value_node.start_mark.line == value_node.end_mark.line
    )
    if scalar_in_place or mapping.flow_style or flow_in_place:
        start, end = value_node.start_mark.index, _content_end(text, value_node)
        return text[:start] + _inline(value, value_node, mapping.flow_style) + text[end:]
    block = _block(name, value, key_node.start_mark.column)
    end = _content_end(text, value_node)
    return text[:key_node.start_mark.index] + block + text[end:]


def _insert(text: str, mapping: yamlio.MappingNode, name: str, value: Any) -> str:
    if mapping.flow_style:
        pairs = mapping.value
        at = _pair_end(text, *pairs[-1]) if pairs else mapping.start_mark.index + 1
        separator = ", " if pairs else ""
        return text[:at] + f"{separator}{name}: {_flow(value)}" + text[at:]
    column = mapping.value[0][0].start_mark.column
    line_end = text.find("\n", _pair_end(text, *mapping.value[-1]))
    block = " " * column + _block(name, value, column)
    if _goes_before_last(text, mapping):
        last_key = mapping.value[-1][0]
        line_start = text.rfind("\n", 0, last_key.start_mark.index) + 1
        return text[:line_start] + block + "\n" + text[line_start:]
    if line_end == -1:  # the task ends the file without a final newline: keep it that way
        return text + "\n" + block
    return text[:line_end + 1] + block + "\n" + text[line_end + 1:]


_BLOCK_INDICATOR = re.compile(r"[|>][1-9]?([+-]?)")


def _goes_before_last(text: str, mapping: yamlio.MappingNode) -> bool:
    """Whether a new field must go before the task's last one rather than after it: when that
    is a block scalar (`description: |`) whose value would take in the line break a field
    after it needs (the file ends right after its text) or the blank lines kept after it
    (`|+`). The human's text must not change, not even by a newline; the tool's own field
    may sit anywhere. Not when the last field opens the item (`- key:`): it has no line of
    its own to go before."""
    key_node, value_node = mapping.value[-1]
    if not isinstance(value_node, yamlio.ScalarNode) or value_node.style not in ("|", ">"):
        return False
    if key_node is mapping.value[0][0] or _is_alias(key_node, value_node):
        return False
    indicator = _BLOCK_INDICATOR.match(text, value_node.start_mark.index)
    chomping = indicator.group(1) if indicator else ""
    at_file_end = text.find("\n", _content_end(text, value_node)) == -1
    return chomping == "+" or (chomping == "" and at_file_end)


def _remove(text: str, mapping: yamlio.MappingNode, name: str) -> str:
    key_node, value_node = _pair(mapping, name)  # type: ignore[misc]
    first_key = mapping.value[0][0]
    if mapping.flow_style or key_node is first_key:
        # Deleting the key that opens the item (`- key: ...`) or a flow pair would disturb
        # the layout around it; an explicit null carries the same meaning.
        return _set(text, mapping, name, None)
    line_start = text.rfind("\n", 0, key_node.start_mark.index) + 1
    line_end = text.find("\n", _content_end(text, value_node))
    if line_end == -1:
        # The field is the file's last line and has no newline: take the newline before it
        # too, so the file still ends the way the human left it.
        return text[:max(line_start - 1, 0)]
    return text[:line_start] + text[line_end + 1:]


def untouched_lines(text: str, mapping: yamlio.MappingNode, names: set[str]) -> list[str]:
    """``text``'s lines without those holding the named fields of ``mapping`` (key through
    value): what an edit of only those fields must leave exactly as it was."""
    edited: set[int] = set()
    for key, key_node, value_node in yamlio.mapping_pairs(mapping):
        if key in names:
            # An alias's node is its anchor's, above: the alias itself is on the key's line.
            last = key_node.start_mark.line if _is_alias(key_node, value_node) else \
                text.count("\n", 0, _content_end(text, value_node))
            edited.update(range(key_node.start_mark.line, last + 1))
    return [line for number, line in enumerate(text.split("\n")) if number not in edited]


def _is_alias(key_node: yamlio.Node, value_node: yamlio.Node) -> bool:
    """Whether a pair's value is an alias: the composer hands out the anchor's own node, which
    sits earlier in the text than anything after the key can (an anchor precedes its aliases)."""
    return value_node.start_mark.index < key_node.end_mark.index


_ALIAS = re.compile(r"[\s:-]*\*[^\s,\[\]{}]+")  # from a key's end or a list item's start: `: *name`, `- *name`


def _pair_end(text: str, key_node: yamlio.Node, value_node: yamlio.Node) -> int:
    """Index just past the content of a pair's value. A merge key's value is an alias or a list
    of aliases, whose nodes are the anchors' far above: their ends are found in the text. Other
    aliased values stay unplaceable, and the verification sends their edits to the fallback."""
    if not yamlio.is_merge_key(key_node):
        return _content_end(text, value_node)
    if _is_alias(key_node, value_node):
        return _alias_end(text, key_node.end_mark.index)
    if isinstance(value_node, yamlio.SequenceNode) and not value_node.flow_style:
        end = value_node.start_mark.index
        for item in value_node.value:
            end = _alias_end(text, end) if item.start_mark.index < end else _content_end(text, item)
        return end
    return _content_end(text, value_node)


def _alias_end(text: str, after: int) -> int:
    found = _ALIAS.match(text, after)
    if found is None:  # a comment or a tag before the alias: too unusual to place a key after
        raise EditRefused("an alias could not be found in the text", hint="edit the task by hand")
    return found.end()


def _content_end(text: str, node: yamlio.Node) -> int:
    """Index just past the node's last character of content (not trailing space or comments)."""
    if isinstance(node, yamlio.MappingNode) and node.value and not node.flow_style:
        return _content_end(text, node.value[-1][1])
    if isinstance(node, yamlio.SequenceNode) and node.value and not node.flow_style:
        return _content_end(text, node.value[-1])
    end = node.end_mark.index
    while end > node.start_mark.index and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def _inline(value: Any, old: yamlio.Node, flow: bool) -> str:
    if flow or isinstance(value, (dict, list)):
        return _flow(value)
    quote = old.style if isinstance(old, yamlio.ScalarNode) and old.style in ("'", '"') else None
    return yamlio.emit_scalar(value, quote=quote)


def _flow(value: Any) -> str:
    if isinstance(value, (dict, list, str)):
        return yamlio.flow_json(value)
    return yamlio.emit_scalar(value)


def _block(name: str, value: Any, column: int) -> str:
    """``name: value`` starting at the key's own position (the first line is not indented)."""
    lines = yamlio.emit_block(name, value, column)
    return "".join(lines)[column:].rstrip("\n")


_EMPTY_TASKS = re.compile(r"^tasks[ \t]*:[ \t]*(\[[ \t]*\])?[ \t]*(#[^\n]*)?$", re.MULTILINE)


def append_items(text: str, new_tasks: list[dict[str, Any]]) -> str | None:
    """``text`` with ``new_tasks`` as block items after the last task; None for unusual layouts."""
    layout = split_items(text)
    if layout is not None and layout.chunks:
        first = layout.chunks[0]
        indent = len(text[first.start:]) - len(text[first.start:].lstrip(" "))
        end = layout.chunks[-1].end
        before = text[:end] if text[:end].endswith("\n") else text[:end] + "\n"
        return before + "".join(_item(task, indent) for task in new_tasks) + text[end:]
    found = _EMPTY_TASKS.search(text)
    if found is not None:  # `tasks: []` or a bare `tasks:`
        empty, comment = found.group(1), found.group(2)
        line = ("tasks:" + (f"  {comment}" if comment else "")) if empty else found.group(0)
        body = "".join(_item(task, 2) for task in new_tasks)
        return text[:found.start()] + line + "\n" + body + text[found.end() + 1:]
    if yamlio.construct(yamlio.compose(text, "backlog")) is None:  # only comments, or empty
        separator = "" if not text or text.endswith("\n") else "\n"
        return text + separator + "tasks:\n" + "".join(_item(task, 2) for task in new_tasks)
    return None


def _item(task: dict[str, Any], indent: int) -> str:
    lines = [line for name, value in task.items() for line in yamlio.emit_block(name, value, indent + 2)]
    lines[0] = " " * indent + "- " + lines[0][indent + 2:]
    return "".join(lines)
