"""Parsed items → Tasks, with every problem of the file collected at once.

Each problem names the line, column, task id and field, so one run of the command shows the
human everything to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from leviathan_local.backlog.items import LocatedItem, ParsedItem
from leviathan_local.backlog.model import (
    BLOCKED_TYPES, FIELD_ALIASES, KNOWN_FIELDS, PENDING, STATUS_ALIASES, TASK_TYPES, WSJF_INPUTS, Status, Task,
    parse_status,
)
from leviathan_local.clock import parse_timestamp
from leviathan_local.config import globs, yamlio
from leviathan_local.git.refnames import component_problem
from leviathan_local.wording import did_you_mean, suggestion

ID_PATTERN = re.compile(r"[A-Za-z0-9._-]+")
# An id names a branch (`agent/<id>-<short>`) and files (`attempt-<id>-<short>-refactor.prompt.md`,
# the longest, 34 characters more): 128 leaves room below a file name's 255 bytes.
MAX_ID_LENGTH = 128
PRIORITIES = ("high", "medium", "low")
SIZES = ("xs", "s", "m", "l", "xl", "small", "medium", "large")
TIMESTAMP_FIELDS = ("created_at", "updated_at", "completed_at", "escalation_approved_at")
LIST_FIELDS = ("allowed_paths", "acceptance_criteria", "dependencies", "tags", "links")


@dataclass(frozen=True)
class Problem:
    line: int
    column: int
    task_id: str | None
    field: str | None
    message: str

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}:{self.column}"
        task = f" task {self.task_id!r}" if self.task_id else ""
        field = f" field {self.field!r}" if self.field else ""
        return f"{where}:{task}{field}: {self.message}"


def build_tasks(items: list[LocatedItem]) -> tuple[list[Task], list[Problem], list[Problem]]:
    """Tasks in file order, the problems that make the file invalid, and mere warnings."""
    tasks: list[Task] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    first_seen: dict[str, Task] = {}
    for located in items:
        item = located.item
        task_id = _task_id(item.value) if isinstance(item.value, dict) else None
        problems.extend(Problem(located.line + offset, column, task_id, field, message)
                        for offset, column, field, message in item.problems)
        warnings.extend(Problem(located.line + offset, column, task_id, field, message)
                        for offset, column, field, message in item.warnings)
        if task_id is None:
            continue
        status = parse_status(item.value.get("status"), item.value.get("ready")) or Status.NEW
        task = Task(task_id, item.value, status, located.line, item.positions)
        if task_id in first_seen:
            problems.append(Problem(*task.position("id"), task_id, "id",
                                    f"duplicate id: already used by the task on line {first_seen[task_id].line}"))
            continue
        first_seen[task_id] = task
        tasks.append(task)
    _check_dependencies(tasks, first_seen, problems)
    return tasks, problems, warnings


def value_without_unreadable_fields(item: ParsedItem, node: yamlio.Node) -> dict[str, Any] | None:
    """The task's value once reading it whole failed (a recursive alias, `&a [*a]`, an integer
    too long): each field that cannot be read is reported where it fails and left out, so the
    task's other problems are listed too. Only called on that failure: the pairs are read one
    by one here."""
    if not isinstance(node, yamlio.MappingNode):
        _reads(item, None, node)
        return None
    kept = []
    for key_node, value_node in node.value:
        field = key_node.value if isinstance(key_node, yamlio.ScalarNode) else None
        if _reads(item, field, key_node) and _reads(item, field, value_node):
            kept.append((key_node, value_node))
    return yamlio.construct(yamlio.MappingNode(node.tag, kept, node.start_mark, node.end_mark))


def _reads(item: ParsedItem, field: str | None, node: yamlio.Node) -> bool:
    """Whether ``node`` reads; if not, the problem is recorded on ``item`` at its anchor."""
    try:
        yamlio.construct(node)
    except yamlio.YamlValueError as error:
        item.problems.append((error.line - 1 - item.line_in_chunk, error.column, field, error.reason))
        return False
    return True


def check_item(item: ParsedItem) -> None:
    """Record on ``item`` what is wrong with it on its own (cross-task checks come later)."""
    if not isinstance(item.value, dict):
        item.problems.append((0, 1, None, "a task must be a mapping of fields (`id: ...`)"))
        return
    data: dict[str, Any] = item.value

    def report(field: str, message: str) -> None:
        offset, column = item.positions.get(field) or next(iter(item.positions.values()), (0, 1))
        item.problems.append((offset, column, field, message))

    for key, offset, column in item.duplicate_keys:
        item.problems.append((offset, column, key, "field appears twice"))
    task_id = _task_id(data)
    if task_id is None:
        report("id", "missing `id` (or `task_id`)")
    else:
        problem = id_problem(task_id)
        if problem:
            report("id" if "id" in data else "task_id", problem)
    if "id" in data and "task_id" in data and str(data["id"]) != str(data["task_id"]):
        report("task_id", f"`id` ({data['id']}) and `task_id` ({data['task_id']}) disagree")
    if parse_status(data.get("status"), data.get("ready")) is None:
        report("status", _unknown_status(data.get("status")))
    for field, value in data.items():
        message = field_problem(field, value)
        if message:
            report(field, message)
    for field in data:
        if field not in KNOWN_FIELDS:
            close = did_you_mean(field, KNOWN_FIELDS, cutoff=0.8)
            if close and close not in data:
                offset, column = item.positions.get(field, (0, 1))
                item.warnings.append((offset, column, field,
                                      f"unknown field (did you mean `{close}`?); it is kept and ignored"))


def _unknown_status(raw: Any) -> str:
    """The canonical statuses, in the state machine's order, are what a human should write; the
    other tools' names the loader also reads are said apart, so none looks like a second choice."""
    canonical = [status.value for status in Status]
    close = suggestion(str(raw).strip().lower(), [*STATUS_ALIASES, PENDING])
    others = [name for name in [PENDING, *STATUS_ALIASES] if name not in canonical]
    return (f"unknown status {raw!r}{close}; a status is one of {', '.join(canonical)} "
            f"(read too, from other tools' backlogs: {', '.join(others)})")


def id_problem(task_id: str) -> str | None:
    """Why ``task_id`` cannot be an id; None when it can. An id must be usable as it is in a git
    branch name, a file name and a command line: these are checked here, at load time, so a
    run never fails on one halfway (git's rules are decided in Python: no process per id)."""
    if not ID_PATTERN.fullmatch(task_id):
        return "id may hold only letters, digits, `.`, `_` and `-`"
    if len(task_id) > MAX_ID_LENGTH:
        return f"id is {len(task_id)} characters long; at most {MAX_ID_LENGTH} (it names a git branch and files)"
    if task_id.startswith("-"):
        return "id may not start with `-` (a command line would read it as an option)"
    problem = "it may not contain `..`" if ".." in task_id else component_problem(task_id, called="it")
    if problem is None and task_id.endswith("."):
        problem = "it may not end with `.`"
    return f"id must be valid in a git branch name (`agent/<id>-...`): {problem}" if problem else None


def _task_id(data: dict[str, Any]) -> str | None:
    value = data.get("id", data.get("task_id"))
    return None if value is None else str(value)


def field_problem(field: str, value: Any) -> str | None:
    """What is wrong with one field's value, worded as loading the backlog words it (None: nothing);
    the app checks a dialog's fields with it before anything is written."""
    canonical = FIELD_ALIASES.get(field, field)
    if field == "<<":  # a merge key whose value is no mapping: the reader left it as it was
        return f"a merge key takes a mapping or a list of mappings (`<<: *defaults`), found {value!r}"
    if canonical in WSJF_INPUTS:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 13):
            return f"must be a whole number from 1 to 13 (Fibonacci 1, 2, 3, 5, 8, 13 advised), found {value!r}"
    elif canonical == "type" and value is not None and str(value).lower() not in TASK_TYPES:
        return f"unknown type {value!r} (known: {', '.join(TASK_TYPES)})"
    elif canonical == "priority" and value is not None and str(value).lower() not in PRIORITIES:
        return f"unknown priority {value!r} (known: high, medium, low)"
    elif canonical == "estimated_size" and value is not None and str(value).lower() not in SIZES:
        return f"unknown size {value!r} (known: {', '.join(SIZES)})"
    elif canonical in LIST_FIELDS and value is not None and not _is_list_of_scalars(value):
        return _list_problem(value)
    elif canonical == "allowed_paths" and value:
        escaping = [p for p in value if globs.escapes_repo(str(p))]
        if escaping:
            return f"paths must stay inside the repository (no `..`, not absolute): {', '.join(map(str, escaping))}"
    elif canonical == "ready" and value is not None and not isinstance(value, bool):
        return f"must be true or false, found {value!r}"
    elif canonical == "attempts" and value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        return f"must be a whole number >= 0, found {value!r}"
    elif canonical == "blocked_type" and value is not None and value not in BLOCKED_TYPES:
        return f"unknown blocked_type {value!r} (known: {', '.join(BLOCKED_TYPES)})"
    elif canonical in TIMESTAMP_FIELDS and value is not None and not _is_timestamp(value):
        return f"must be an ISO 8601 timestamp such as 2026-01-30T23:15:00Z, found {value!r}"
    elif canonical == "steps" and value is not None and not _valid_steps(value):
        return "must map red/green/refactor to lists of shell commands"
    return None


def _list_problem(value: Any) -> str:
    if not isinstance(value, list):
        return f"must be a list of strings, found {type(value).__name__} {value!r}"
    number, item = next((n, v) for n, v in enumerate(value, 1) if not isinstance(v, (str, int, float)))
    if isinstance(item, dict) and item:
        return (f"item {number} reads as a mapping, not text: quote it if it contains `: ` "
                f"(e.g. - \"{next(iter(item))}: ...\")")
    return f"item {number} must be text, found {_KINDS.get(type(item), type(item).__name__)}"


_KINDS = {dict: "an empty mapping `{}`", list: "a list", type(None): "nothing (null)", bool: "true or false"}


def _is_list_of_scalars(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value)


def _is_timestamp(value: Any) -> bool:
    try:
        parse_timestamp(str(value))
    except ValueError:
        return False
    return True


def _valid_steps(value: Any) -> bool:
    if not isinstance(value, dict) or not set(value) <= {"red", "green", "refactor"}:
        return False
    return all(isinstance(cmds, list) and all(isinstance(c, str) for c in cmds) for cmds in value.values())


def _dependency_ids(task: Task) -> list[str]:
    """The task's dependencies; none when the field is no list (that problem is reported with
    the task's own)."""
    return task.dependencies if isinstance(task.get("dependencies"), list) else []


def _check_dependencies(tasks: list[Task], by_id: dict[str, Task], problems: list[Problem]) -> None:
    for task in tasks:
        for dependency in _dependency_ids(task):
            if dependency not in by_id:
                problems.append(Problem(*task.position("dependencies"), task.id, "dependencies",
                                        f"depends on unknown task {dependency!r}{suggestion(dependency, by_id)}"))
    for cycle in _cycles(tasks, by_id):
        first = by_id[cycle[0]]
        problems.append(Problem(*first.position("dependencies"), first.id, "dependencies",
                                "dependency cycle: " + " -> ".join([*cycle, cycle[0]])))


def _cycles(tasks: list[Task], by_id: dict[str, Task]) -> list[list[str]]:
    """Each dependency cycle once (iterative DFS: deep chains must not hit the recursion limit)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    found: list[list[str]] = []
    for root in tasks:
        if root.id in state or not _dependency_ids(root):
            continue
        path: list[str] = []
        stack = [(root.id, iter(_dependency_ids(root)))]
        state[root.id] = 1
        path.append(root.id)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif child in by_id and state.get(child) == 1:
                found.append(path[path.index(child):])
            elif child in by_id and child not in state:
                state[child] = 1
                path.append(child)
                stack.append((child, iter(_dependency_ids(by_id[child]))))
    return found
