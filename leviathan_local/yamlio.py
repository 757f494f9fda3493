"""All YAML parsing and scalar emitting (no other module imports a YAML library).

Reading uses PyYAML's C composer: it is fast and gives every node a line and column, which
validation needs for its messages. Values are built from nodes here, with one deliberate
difference from PyYAML's loader: timestamps stay strings, so a value is written back exactly
as it was read and time zones are handled in one place (``clock.parse_timestamp``). Merge keys
(`<<: *defaults`) are resolved here too, so every reader sees the merged fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
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
           "YamlSyntaxError"]


class YamlSyntaxError(LeviathanError):
    title = "YAML syntax error"

    def __init__(self, message: str, hint: str | None, line: int, column: int) -> None:
        super().__init__(message, hint)
        self.line = line
        self.column = column


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
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, ScalarNode) else str(construct(key_node))
        yield str(key), key_node, value_node


def is_merge_key(node: Node) -> bool:
    """Whether ``node`` is a YAML merge key (a plain `<<`; a quoted one is an ordinary key)."""
    return isinstance(node, ScalarNode) and node.tag == MERGE_TAG


def construct(node: Node | None) -> Any:
    """Plain Python values from nodes; the last of duplicate keys wins (validators report them)."""
    if node is None:
        return None
    if isinstance(node, ScalarNode):
        return _scalar(node)
    if isinstance(node, SequenceNode):
        return [construct(item) for item in node.value]
    return _mapping(node)


def _mapping(node: MappingNode) -> dict[str, Any]:
    """A mapping with its merge keys resolved as the merge-key spec (and ruamel.yaml) says: a key
    of its own wins over a merged one, an earlier mapping of `<<: [*a, *b]` over a later one
    (PyYAML 6.0's loader gets that wrong for most keys). Merged keys come first, so a key the
    tool adds beside the merge (a status writeback) keeps the place it was read at and the
    edit verifies. A merge of anything but mappings stays under `<<`, for validation to report."""
    own: dict[str, Any] = {}
    merged: dict[str, Any] | None = None  # most mappings merge nothing: no second dict for them
    for key, key_node, value_node in mapping_pairs(node):
        sources = _merged_mappings(value_node) if is_merge_key(key_node) else None
        if sources is None:
            own[key] = construct(value_node)
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
    return json.dumps(text, ensure_ascii=False)


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
                lines.append(f"{pad}  - {json.dumps(item, ensure_ascii=False)}\n")
            else:
                lines.append(f"{pad}  - {emit_scalar(item)}\n")
        return lines
    if isinstance(value, (dict, list)):
        return [f"{pad}{key}: {'{}' if isinstance(value, dict) else '[]'}\n"]
    return [f"{pad}{key}: {emit_scalar(value)}\n"]
