"""All YAML parsing and scalar emitting (no other module imports a YAML library).

Reading uses PyYAML's C composer: it is fast and gives every node a line and column, which
validation needs for its messages. Values are built from nodes here, with one deliberate
difference from PyYAML's loader: timestamps stay strings, so a value is written back exactly
as it was read and time zones are handled in one place (``clock.parse_timestamp``). Merge keys
(`<<: *defaults`) are resolved here too, so every reader sees the merged fields.

Hostile documents are bad input, never a hang or a crash: an alias's value is built once and
reused; a document whose aliases would add more than ALIAS_EXPANSION_LIMIT nodes written out
(a "billion laughs") is refused when composed; an integer beyond MAX_INTEGER_DIGITS, or a value
that never ends (an alias inside its own anchor, `&a [*a]`), is a YamlValueError naming its line.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from leviathan_local.config.yamlgraph import alias_expansion, find_cycle, path_to
from leviathan_local.errors import LeviathanError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MERGE_TAG = "tag:yaml.org,2002:merge"  # what the resolver tags a plain `<<` key with
_constructor = yaml.constructor.SafeConstructor()
_resolver = yaml.resolver.Resolver()

__all__ = ["MappingNode", "Node", "ScalarNode", "SequenceNode", "compose", "construct",
           "position", "mapping_pairs", "is_merge_key", "emit_scalar", "emit_block",
           "YamlSyntaxError", "YamlValueError", "YamlRecursionError", "find_cycle", "path_to", "has_aliases",
           "ALIAS_EXPANSION_LIMIT", "MAX_INTEGER_DIGITS"]

# The documented limits (README, "Limits on what the files may hold"). A document may hold what
# it likes; what its aliases add is bounded, since every reader walks the value written out.
ALIAS_EXPANSION_LIMIT = 1_000_000  # nodes the aliases of one document may add
MAX_INTEGER_DIGITS = 4300  # Python's own limit for turning an integer into text and back
# A literal this long is refused before it is converted: a sexagesimal one (`1:02:03`, YAML 1.1)
# of a million parts would take minutes of big-number arithmetic.
_MAX_INTEGER_TEXT = 2 * MAX_INTEGER_DIGITS
# What may precede an alias's `*` (a node's start); text without it has no alias to count.
_ALIAS_SYNTAX = re.compile(r"(?:^|[\s\[{,:])\*")


class YamlSyntaxError(LeviathanError):
    title = "YAML syntax error"

    def __init__(self, message: str, hint: str | None, line: int, column: int) -> None:
        super().__init__(message, hint)
        self.line = line
        self.column = column


RECURSIVE_REASON = ("a recursive alias: the anchor here holds an alias to itself (as in `&a [*a]`), "
                    "so its value never ends; write the value out, or point the alias at another anchor")
TOO_DEEP_REASON = "nested too deeply to read (hundreds of levels); flatten the value"


class YamlValueError(LeviathanError):
    """A value that cannot be built from ``node``, for ``reason``. Callers add the file and the
    field (``line`` and ``column`` are the node's)."""

    title = "YAML value cannot be read"

    def __init__(self, node: Node, reason: str) -> None:
        self.node = node
        self.line, self.column = position(node)
        self.reason = reason
        super().__init__(f"line {self.line}, column {self.column}: {reason}",
                         hint="fix the YAML at that position; nothing was written")


class YamlRecursionError(YamlValueError):
    """``node`` is the anchor an alias inside it names (``recursive``), else the value nested too deeply."""

    title = "YAML value never ends"

    def __init__(self, node: Node, recursive: bool) -> None:
        super().__init__(node, RECURSIVE_REASON if recursive else TOO_DEEP_REASON)


INTEGER_TOO_LONG_REASON = (f"an integer of more than {MAX_INTEGER_DIGITS} digits, more than the tool reads; "
                           "quote it to keep it as text")


def compose(text: str, source: str, error_cls: type[LeviathanError] = LeviathanError) -> Node | None:
    """Parse one YAML document into nodes; a syntax error, or aliases that would add more than
    ALIAS_EXPANSION_LIMIT nodes, is ``error_cls`` naming ``source``, line and column."""
    root = _composed(text, source, error_cls)
    if root is not None and _may_alias(text):
        _check_expansion(root, source, error_cls)
    return root


def has_aliases(text: str, root: Node | None) -> bool:
    """Whether ``root`` (composed from ``text``) holds an alias."""
    return root is not None and _may_alias(text) and alias_expansion(root, 0)[0] > 0


def _may_alias(text: str) -> bool:
    # `in` first: a plain scan for `*`, many times faster than the pattern on text without one.
    return "*" in text and _ALIAS_SYNTAX.search(text) is not None


def _check_expansion(root: Node, source: str, error_cls: type[LeviathanError]) -> None:
    _, node = alias_expansion(root, ALIAS_EXPANSION_LIMIT)
    if node is None:
        return
    line, column = position(node)
    error = error_cls(
        f"{source}:{line}:{column}: the aliases of this document stand for more than {ALIAS_EXPANSION_LIMIT:,} "
        f"values written out (the anchor here is repeated through aliases of aliases: a \"billion laughs\")",
        hint="write the values out, or alias fewer times; nothing was written",
    )
    error.line, error.column = line, column  # type: ignore[attr-defined]
    raise error


def _composed(text: str, source: str, error_cls: type[LeviathanError]) -> Node | None:
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
    An alias's value is built once and shared. A value that cannot be built raises YamlValueError
    (YamlRecursionError when it never ends) instead of RecursionError or ValueError."""
    try:
        return _build(node, {})
    except RecursionError:
        # Looked for only now: a check on every node would slow every load of a large backlog,
        # and a try costs nothing until it catches.
        cycle = find_cycle(node) if node is not None else None
        raise YamlRecursionError(cycle[0] if cycle else node, recursive=cycle is not None) from None


Built = dict[int, Any]  # the value built for each collection node so far, by the node's id


def _build(node: Node | None, built: Built) -> Any:
    if node is None:
        return None
    if isinstance(node, ScalarNode):
        return _scalar(node)
    value = built.get(id(node))
    if value is not None:  # an alias of a node built already: the same value, not a copy
        return value
    value = [_build(item, built) for item in node.value] if isinstance(node, SequenceNode) else _mapping(node, built)
    built[id(node)] = value
    return value


def _mapping(node: MappingNode, built: Built) -> dict[str, Any]:
    """A mapping with its merge keys resolved as the merge-key spec (and ruamel.yaml) says: a key
    of its own wins over a merged one, an earlier mapping of `<<: [*a, *b]` over a later one
    (PyYAML 6.0's loader gets that wrong for most keys). Merged keys come first, so a key the
    tool adds beside the merge (a status writeback) keeps the place it was read at and the
    edit verifies. A merge of anything but mappings stays under `<<`, for validation to report."""
    own: dict[str, Any] = {}
    merged: dict[str, Any] | None = None  # most mappings merge nothing: no second dict for them
    for key, key_node, value_node in _pairs(node, lambda key_node: _build(key_node, built)):
        sources = _merged_mappings(value_node) if is_merge_key(key_node) else None
        if sources is None:
            own[key] = _build(value_node, built)
            continue
        merged = {} if merged is None else merged
        for source in sources:
            for name, value in _build(source, built).items():
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
        return _integer(node)
    if tag == "tag:yaml.org,2002:float":
        return _constructor.construct_yaml_float(node)
    return node.value


def _integer(node: ScalarNode) -> int:
    if len(node.value) > _MAX_INTEGER_TEXT:
        raise YamlValueError(node, INTEGER_TOO_LONG_REASON)
    try:
        value: int = _constructor.construct_yaml_int(node)
    except ValueError:  # a decimal beyond Python's digit limit
        raise YamlValueError(node, INTEGER_TOO_LONG_REASON) from None
    digits = min(MAX_INTEGER_DIGITS, sys.get_int_max_str_digits() or MAX_INTEGER_DIGITS)
    if value.bit_length() * 0.30103 >= digits:  # log10(2): a hexadecimal too long to print in decimal
        raise YamlValueError(node, INTEGER_TOO_LONG_REASON)
    return value


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
