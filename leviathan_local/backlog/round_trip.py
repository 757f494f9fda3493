"""The backlog writer's fallback: a task edit the line editor refused, made by a ruamel.yaml
round trip of the whole file, and kept only where it changed nothing but the edited fields."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from leviathan_local.backlog.edit import untouched_lines
from leviathan_local.backlog.layout import task_mapping
from leviathan_local.config import yamlio
from leviathan_local.errors import BacklogError


def round_trip_edit(text: str, source: str, task_id: str, changes: Mapping[str, Any],
                    removals: tuple[str, ...]) -> str | None:
    """The edit the line editor refused, made by a ruamel.yaml round trip of the whole file.

    Layouts that need it share values between tasks (a task whose last field is an alias of an
    anchor elsewhere, `allowed_paths: *api`).
    The round trip keeps comments, anchors, quoting and key order, though it may respell text
    elsewhere (`~` as nothing, `True` as `true`, `|` as `|-`), and it takes seconds on a large
    file: so it is only the fallback. None unless the result reads, with the tool's own parser,
    as the old document with exactly this task's fields changed, and every line outside the
    edited fields' own is the human's, byte for byte.
    """
    from ruamel.yaml import YAML  # only a refused edit pays for importing it
    from ruamel.yaml.error import YAMLError

    intended = _intended(yamlio.construct(yamlio.compose(text, source, BacklogError)), task_id, changes, removals)
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 1 << 16  # never fold a long line the human wrote on one
    try:
        document = yaml.load(text)
        task = _task_of(document, task_id)
        for name, value in changes.items():
            task[name] = _as_written(value)
        for name in removals:
            task.pop(name, None)
        yaml.indent(**_indentation(text))
        written = io.StringIO()
        yaml.dump(document, written)
    except (YAMLError, KeyError, TypeError, ValueError):
        return None
    result = _same_line_ends(text, written.getvalue())
    try:
        reread = yamlio.construct(yamlio.compose(result, source, BacklogError))
    except BacklogError:
        return None
    if _ordered(reread) != _ordered(intended):
        return None
    edited = set(changes) | set(removals)
    if untouched_lines(text, task_mapping(text, source, task_id), edited) != \
            untouched_lines(result, task_mapping(result, source, task_id), edited):
        return None  # the same data, but the human's spelling of it changed
    return result


def _tasks_of(document: Any) -> list[Any]:
    return document["tasks"] if isinstance(document, dict) else document


def _task_of(document: Any, task_id: str) -> Any:
    for task in _tasks_of(document):
        if isinstance(task, dict) and str(task.get("id", task.get("task_id"))) == task_id:
            return task
    raise KeyError(task_id)


def _intended(document: Any, task_id: str, changes: Mapping[str, Any], removals: tuple[str, ...]) -> Any:
    """The plain data the file must read as after the edit (new keys last, as both editors add them)."""
    tasks = _tasks_of(document)
    index = tasks.index(_task_of(document, task_id))
    edited = {**tasks[index], **changes}
    for name in removals:
        edited.pop(name, None)
    tasks[index] = edited
    return document


def _as_written(value: Any) -> Any:
    """``value`` with every string that YAML 1.1 would misread when plain (`yes`, `on`) quoted the
    way the line editor quotes it: ruamel.yaml writes YAML 1.2, the tool reads YAML 1.1."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

    if isinstance(value, dict):
        return {key: _as_written(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_written(item) for item in value]
    if isinstance(value, str):
        quote = yamlio.emit_scalar(value)[:1]
        if quote == "'":
            return SingleQuotedScalarString(value)
        if quote == '"':
            return DoubleQuotedScalarString(value)
    return value


def _indentation(text: str) -> dict[str, int]:
    """ruamel.yaml's indent settings matching the file's: where a list's `- ` sits under its key
    (offset) and where the item's fields start (sequence); nested mappings by two."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for previous, line in zip(lines, lines[1:]):
        stripped = line.lstrip(" ")
        if previous.rstrip().endswith(":") and stripped.startswith("- "):
            key_column = len(previous) - len(previous.lstrip(" "))
            dash = len(line) - len(stripped) - key_column
            if dash >= 0:
                after_dash = len(stripped) - len(stripped[1:].lstrip(" ")) - 1
                return {"mapping": 2, "sequence": dash + 1 + after_dash, "offset": dash}
    return {"mapping": 2, "sequence": 4, "offset": 2}


def _same_line_ends(original: str, written: str) -> str:
    """ruamel.yaml ends lines with LF and the file with a newline: keep a CRLF file CRLF and a
    file without a final newline without one."""
    if "\r\n" in original and original.count("\n") == original.count("\r\n"):
        written = written.replace("\r\n", "\n").replace("\n", "\r\n")  # comments kept their CR
    if not original.endswith("\n"):
        written = written.rstrip("\r\n")
    return written


def _ordered(value: Any) -> Any:
    """``value`` with every mapping as its list of pairs, so a comparison sees key order too."""
    if isinstance(value, dict):
        return [(key, _ordered(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [_ordered(item) for item in value]
    return value
