"""All YAML parsing and scalar emitting (no other module imports a YAML library).

Reading uses PyYAML's C composer: it is fast and gives every node a line and column, which
validation needs for its messages. Values are built from nodes here, with one deliberate
difference from PyYAML's loader: timestamps stay strings, so a value is written back exactly
as it was read and time zones are handled in one place (``clock.parse_timestamp``). Merge keys
(`<<: *defaults`) are resolved here too, so every reader sees the merged fields. A value that
never ends (an alias inside its own anchor, `&a [*a]`) is a YamlRecursionError naming its line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from leviathan_local.errors import LeviathanError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MERGE_TAG = "tag:yaml.org,2002:merge"  # what the resolver tags a plain `<<` key with
_constructor = yaml.constructor.SafeConstructor()
_resolver = yaml.resolver.Resolver()

__all__ = ["MappingNode", "Node", "ScalarNode", "SequenceNode", "compose", "construct",
           "position", "mapping_pairs", "is_merge_key", "emit_scalar", "emit_block",
           "YamlSyntaxError", "YamlRecursionError", "find_cycle"]


class YamlSyntaxError(LeviathanError):
    title = "YAML syntax error"

    def __init__(self, message: str, hint: str | None, line: int, column: int) -> None:
        super().__init__(message, hint)
        self.line = line
        self.column = column


RECURSIVE_REASON = ("a recursive alias: the anchor here holds an alias to itself (as in `&a [*a]`), "
                    "so its value never ends; write the value out, or point the alias at another anchor")
TOO_DEEP_REASON = "nested too deeply to read (hundreds of levels); flatten the value"


class YamlRecursionError(LeviathanError):
    """A value construction could not finish: ``node`` is the anchor an alias inside it names
    (``recursive``), else the value nested too deeply. Callers add the file and the field."""

    title = "YAML value never ends"

    def __init__(self, node: Node, recursive: bool) -> None:
        self.node = node
        self.line, self.column = position(node)
        self.reason = RECURSIVE_REASON if recursive else TOO_DEEP_REASON
        super().__init__(f"line {self.line}, column {self.column}: {self.reason}",
                         hint="fix the YAML at that position; nothing was written")


def compose(text: str, source: str, error_cls: type[LeviathanError] = LeviathanError) -> Node | None:
    """Parse one YAML document into nodes; a syntax error names ``source``, line and column."""
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        error = error_cls(
            f"{source}:{line}:{column}: YAML syntax error: {problem}",
            hint="fix the YAML at that position (an editor with YAML support shows it); nothing was written",
        )
        error.line, error.column = line, column  # type: ignore[attr-defined]
        raise error from None
    except yaml.YAMLError as exc:
        raise error_cls(f"{source}: YAML error: {exc}", hint="fix the file; nothing was written") from None


def position(node: Node) -> tuple[int, int]:
    """1-based (line, column) where ``node`` starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def mapping_pairs(node: MappingNode) -> Iterator[tuple[str, Node, Node]]:
    """(key text, key node, value node) for every pair, duplicates included."""
    return _pairs(node, construct)


def _pairs(node: MappingNode, build: Callable[[Node], Any]) -> Iterator[tuple[str, Node, Node]]:
    # The recursive builder passes itself: ``construct``'s guard belongs at the top only.
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, ScalarNode) else str(build(key_node))
        yield str(key), key_node, value_node


def is_merge_key(node: Node) -> bool:
    """Whether ``node`` is a YAML merge key (a plain `<<`; a quoted one is an ordinary key)."""
    return isinstance(node, ScalarNode) and node.tag == MERGE_TAG


def construct(node: Node | None) -> Any:
    """Plain Python values from nodes; the last of duplicate keys wins (validators report them).
    A value that never ends raises YamlRecursionError instead of RecursionError."""
    try:
        return _build(node)
    except RecursionError:
        # Looked for only now: a check on every node would slow every load of a large backlog,
        # and a try costs nothing until it catches.
        cycle = find_cycle(node) if node is not None else None
        raise YamlRecursionError(cycle[0] if cycle else node, recursive=cycle is not None) from None


def _build(node: Node | None) -> Any:
    if node is None:
        return None
    if isinstance(node, ScalarNode):
        return _scalar(node)
    if isinstance(node, SequenceNode):
        return [_build(item) for item in node.value]
    return _mapping(node)


Label = str | int  # a mapping's key, or a list's index


def find_cycle(root: Node) -> tuple[Node, tuple[Label, ...]] | None:
    """The first node found inside itself (the anchor of an alias within it, as in `&a [*a]`),
    with the keys and indexes from ``root`` to it; None when no node is. A loop, not recursion:
    it walks the graph the recursive builder could not finish."""
    stack: list[tuple[Node, Iterator[tuple[Label, Node]]]] = [(root, _children(root))]
    labels: list[Label] = []  # labels[i] leads from stack[i] to stack[i + 1]
    walking, finished = {id(root)}, set()
    while stack:
        node, children = stack[-1]
        step = next(children, None)
        if step is None:
            stack.pop()
            walking.discard(id(node))
            finished.add(id(node))
            if stack:
                labels.pop()
            continue
        label, child = step
        if id(child) in walking:
            depth = next(index for index, (seen, _) in enumerate(stack) if seen is child)
            return child, tuple(labels[:depth])
        if id(child) not in finished and not isinstance(child, ScalarNode):
            walking.add(id(child))
            labels.append(label)
            stack.append((child, _children(child)))
    return None


def _children(node: Node) -> Iterator[tuple[Label, Node]]:
    if isinstance(node, SequenceNode):
        return enumerate(node.value)
    if isinstance(node, MappingNode):
        return ((key.value if isinstance(key, ScalarNode) else "?", child)
                for key, value in node.value for child in (key, value))
    return iter(())


def _mapping(node: MappingNode) -> dict[str, Any]:
    """A mapping with its merge keys resolved as the merge-key spec (and ruamel.yaml) says: a key
    of its own wins over a merged one, an earlier mapping of `<<: [*a, *b]` over a later one
    (PyYAML 6.0's loader gets that wrong for most keys). Merged keys come first, so a key the
    tool adds beside the merge (a status writeback) keeps the place it was read at and the
    edit verifies. A merge of anything but mappings stays under `<<`, for validation to report."""
    own: dict[str, Any] = {}
    merged: dict[str, Any] | None = None  # most mappings merge nothing: no second dict for them
    for key, key_node, value_node in _pairs(node, _build):
        sources = _merged_mappings(value_node) if is_merge_key(key_node) else None
        if sources is None:
            own[key] = _build(value_node)
            continue
        merged = {} if merged is None else merged
        for source in sources:
            for name, value in _mapping(source).items():
                merged.setdefault(name, value)
    return own if merged is None else {**merged, **own}


def _merged_mappings(node: Node) -> list[MappingNode] | None:
    """The mappings a merge key's value names (one, or a list); None when it names anything else."""
    items = node.value if isinstance(node, SequenceNode) else [node]
    return items if all(isinstance(item, MappingNode) for item in items) else None


def _scalar(node: ScalarNode) -> Any:
    tag = node.tag
    if tag == "tag:yaml.org,2002:str" or tag == "tag:yaml.org,2002:timestamp":
        return node.value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return node.value.lower() in ("true", "yes", "on", "y")
    if tag == "tag:yaml.org,2002:int":
        return _constructor.construct_yaml_int(node)
    if tag == "tag:yaml.org,2002:float":
        return _constructor.construct_yaml_float(node)
    return node.value


_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_./(][A-Za-z0-9 _./:()+@,-]*")
# What YAML 1.1 refuses in a stream (DEL, C1 controls, surrogates, U+FFFE/U+FFFF) or folds
# inside double quotes (NEL, U+2028, U+2029): JSON leaves them as they are.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def flow_json(value: Any) -> str:
    """``value`` (text, a list, a mapping) in JSON's syntax, which YAML's flow style reads, with
    every character YAML cannot hold as it is escaped (a comment's stray DEL, say)."""
    return _YAML_UNSAFE.sub(lambda unsafe: f"\\u{ord(unsafe.group()):04x}", json.dumps(value, ensure_ascii=False))


def emit_scalar(value: Any, quote: str | None = None) -> str:
    """YAML text for one scalar that reads back as exactly ``value``.

    ``quote`` (``'`` or ``"``) keeps the quoting style the human used for the old value.
    """
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if quote == "'" and "\n" not in text and text.isprintable():
        return "'" + text.replace("'", "''") + "'"
    if quote is None and _reads_back_as_plain(text):
        return text
    return flow_json(text)


def _reads_back_as_plain(text: str) -> bool:
    if not _PLAIN_SAFE.fullmatch(text) or text != text.strip() or ": " in text or " #" in text:
        return False
    tag = _resolver.resolve(ScalarNode, text, (True, False))
    # Timestamps read back as the same string (see module docstring), so they may stay plain.
    return tag in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp")


def emit_block(key: str, value: Any, indent: int) -> list[str]:
    """Lines (with newlines) for ``key: value`` at ``indent``, nested values in block style."""
    pad = " " * indent
    if isinstance(value, dict) and value:
        lines = [f"{pad}{key}:\n"]
        for sub_key, sub_value in value.items():
            lines.extend(emit_block(str(sub_key), sub_value, indent + 2))
        return lines
    if isinstance(value, list) and value:
        lines = [f"{pad}{key}:\n"]
        for item in value:
            if isinstance(item, (dict, list)):
                lines.append(f"{pad}  - {flow_json(item)}\n")
            else:
                lines.append(f"{pad}  - {emit_scalar(item)}\n")
        return lines
    if isinstance(value, (dict, list)):
        return [f"{pad}{key}: {'{}' if isinstance(value, dict) else '[]'}\n"]
    return [f"{pad}{key}: {emit_scalar(value)}\n"]
