"""Validate a YAML config mapping (policy.yaml, contract.yaml) from nodes, every problem at once.

A spec maps each allowed key to a checker. Checkers see the node, so problems carry the
line and column of the offending value; unknown keys get a "did you mean" hint.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from leviathan_local.config import globs, yamlio
from leviathan_local.wording import did_you_mean


@dataclass(frozen=True)
class Problem:
    line: int
    column: int
    field: str
    message: str


Checker = Callable[[yamlio.Node, str, list[Problem]], None]
Spec = dict[str, Checker]


def check_mapping(node: yamlio.Node | None, spec: Spec, path: str, problems: list[Problem]) -> None:
    if node is None or _is_null(node):
        return
    if not isinstance(node, yamlio.MappingNode):
        _add(problems, node, path or "(top level)", f"expected a mapping of keys, found {_kind(node)}")
        return
    seen: set[str] = set()
    for key, key_node, value_node in yamlio.mapping_pairs(node):
        field = f"{path}.{key}" if path else key
        if key in seen:
            _add(problems, key_node, field, "key appears twice")
        seen.add(key)
        if key in spec:
            spec[key](value_node, field, problems)
            continue
        allowed = [name for name, checker in spec.items() if not getattr(checker, "refused", False)]
        close = did_you_mean(key, allowed)
        hint = f"did you mean `{close}`?" if close else f"allowed keys: {', '.join(allowed)}"
        _add(problems, key_node, field, f"unknown key ({hint})")


def mapping(spec: Spec) -> Checker:
    return lambda node, field, problems: check_mapping(node, spec, field, problems)


def mapping_of(spec: Spec) -> Checker:
    """A mapping from free names (scope names) to mappings following ``spec``."""
    def check(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
        if _is_null(node):
            return
        if not isinstance(node, yamlio.MappingNode):
            _add(problems, node, field, f"expected a mapping of names, found {_kind(node)}")
            return
        for key, _, value in yamlio.mapping_pairs(node):
            check_mapping(value, spec, f"{field}.{key}", problems)
    return check


def list_of(spec: Spec, required: tuple[str, ...] = ()) -> Checker:
    """A list of mappings following ``spec``, each holding every key in ``required``."""
    def check(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
        if not isinstance(node, yamlio.SequenceNode):
            _add(problems, node, field, f"expected a list, found {_kind(node)}")
            return
        for number, item in enumerate(node.value):
            check_mapping(item, spec, f"{field}[{number}]", problems)
            if isinstance(item, yamlio.MappingNode):
                present = {key for key, _, _ in yamlio.mapping_pairs(item)}
                for key in (key for key in required if key not in present):
                    _add(problems, item, f"{field}[{number}]", f"no `{key}` (write `{key}: ...`)")
    return check


def refused(message: str) -> Checker:
    """A key that is never allowed, with the reason why; left out of the "allowed keys" hint."""
    def check(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
        _add(problems, node, field, message)
    check.refused = True  # type: ignore[attr-defined]
    return check


def matching(pattern: str, description: str) -> Checker:
    """Text that fully matches ``pattern`` (a Kubernetes name, an environment variable's)."""
    compiled = re.compile(pattern)

    def check(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
        text(node, field, problems)
        value = yamlio.construct(node)
        if isinstance(value, str) and not compiled.fullmatch(value):
            _add(problems, node, field, f"expected {description}, found {value!r}")
    return check


def command_list(spec: Spec, required: str) -> Checker:
    """A list of shell commands, each text or a mapping following ``spec`` that has ``required``
    (`setup: ["make deps", {name: install, run: "pip install -e ."}]`); null is an empty list."""
    def check(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
        if _is_null(node):
            return
        if not isinstance(node, yamlio.SequenceNode):
            _add(problems, node, field, f"expected a list of commands, found {_kind(node)}")
            return
        for number, item in enumerate(node.value):
            where = f"{field}[{number}]"
            if isinstance(item, yamlio.MappingNode):
                check_mapping(item, spec, where, problems)
                if required not in {key for key, _, _ in yamlio.mapping_pairs(item)}:
                    _add(problems, item, where, f"no `{required}` command (write `{required}: <shell command>`)")
            elif not isinstance(command := yamlio.construct(item), str) or not command.strip():
                _add(problems, item, where, f"expected a shell command or a mapping with `{required}`, "
                                            f"found {_kind(item)}")
    return check


def text(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
    if not isinstance(node, yamlio.ScalarNode) or _is_null(node):
        _add(problems, node, field, f"expected text, found {_kind(node)}")


def boolean(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
    if not isinstance(yamlio.construct(node), bool):
        _add(problems, node, field, f"expected true or false, found {_shown(node)}")


def number(minimum: float, whole: bool = True) -> Checker:
    def check(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
        value = yamlio.construct(node)
        kinds = (int,) if whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or value < minimum:
            expected = "an integer" if whole else "a number"
            _add(problems, node, field, f"expected {expected} >= {minimum:g}, found {_shown(node)}")
    return check


def one_of(*choices: str) -> Checker:
    def check(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
        if yamlio.construct(node) not in choices:
            _add(problems, node, field, f"expected one of {', '.join(choices)}, found {_shown(node)}")
    return check


def text_list(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
    value = yamlio.construct(node)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        _add(problems, node, field, f"expected a list of text, found {_shown(node)}")


def path_list(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
    """A list of globs or directory prefixes that stay inside the repository."""
    text_list(node, field, problems)
    value = yamlio.construct(node)
    if isinstance(value, list):
        escaping = [str(item) for item in value if globs.escapes_repo(str(item))]
        if escaping:
            _add(problems, node, field,
                 f"paths must stay inside the repository (no `..`, not absolute): {', '.join(escaping)}")


def command_template(*placeholders: str) -> Checker:
    """A shell command in which `{name}` may only name one of ``placeholders`` (`${VAR}`, `{}`
    and brace expansions such as `{a,b}` are the shell's own and left alone)."""
    def check(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
        text(node, field, problems)
        value = yamlio.construct(node)
        unknown = sorted(set(_PLACEHOLDER.findall(value)) - set(placeholders)) if isinstance(value, str) else []
        if unknown:
            known = ", ".join(f"{{{name}}}" for name in placeholders)
            _add(problems, node, field, f"unknown placeholder {', '.join(f'{{{n}}}' for n in unknown)} "
                                        f"(allowed: {known})")
    return check


def repo_path(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
    """One path inside the repository."""
    text(node, field, problems)
    value = yamlio.construct(node)
    if isinstance(value, str) and globs.escapes_repo(value):
        _add(problems, node, field, f"the path must stay inside the repository (no `..`, not absolute): {value}")


_PLACEHOLDER = re.compile(r"(?<!\$)\{(\w+)\}")


def _is_null(node: yamlio.Node) -> bool:
    return isinstance(node, yamlio.ScalarNode) and node.tag.endswith(":null")


def _kind(node: yamlio.Node) -> str:
    if isinstance(node, yamlio.MappingNode):
        return "a mapping"
    if isinstance(node, yamlio.SequenceNode):
        return "a list"
    return _shown(node)


def _shown(node: yamlio.Node) -> str:
    value: Any = yamlio.construct(node)
    return repr(value) if not isinstance(value, (dict, list)) else ("a mapping" if isinstance(value, dict) else "a list")


def _add(problems: list[Problem], node: yamlio.Node, field: str, message: str) -> None:
    line, column = yamlio.position(node)
    problems.append(Problem(line, column, field, message))


def add_problem(problems: list[Problem], node: yamlio.Node, field: str, message: str) -> None:
    """A problem found by a check across keys (a key one value makes required), at ``node``."""
    _add(problems, node, field, message)
