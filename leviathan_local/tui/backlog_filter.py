"""The backlog filter box: free text plus `field:value` terms, all of which must hold.

    status:ready type:bug login      ready bugs whose id, title or status contains "login"
    status:ready,doing               one of several values (as in `run --only KEY=V1,V2`)
    flag:escalated                   a flag column's mark: estimated (~), split (/), escalated (!)
    skip:scope                       skipped for that reason (see the Plan tab)
    scope:api  tags:discovered       any other field of the task; a list matches on any element

Values are case-insensitive and match whole (`status:read` matches nothing); free words are
substrings of the id, title or status. A field the task does not have never matches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from leviathan_local.planning.board import BoardRow

FLAGS: dict[str, Callable[[BoardRow], bool]] = {
    "estimated": lambda row: bool(row.score.estimated),
    "split": lambda row: row.score.split_suggested,
    "escalated": lambda row: bool(row.score.escalations),
}
FLAG_ALIASES = {"~": "estimated", "/": "split", "!": "escalated"}
FIELD_ALIASES = {"tag": "tags", "flags": "flag", "skipped": "skip"}
# Shown in the help screen: (term, what it keeps).
SYNTAX = (
    ("login api", "id, title or status contains every word"),
    ("status:ready,doing", "one of the values (any field: type:bug, scope:api, tags:discovered)"),
    ("flag:escalated", "flags: estimated (~), split (/), escalated (!)"),
    ("skip:scope", "skipped for that reason (status, not_ready, deps, scope, ...)"),
)


@dataclass(frozen=True)
class BacklogFilter:
    words: tuple[str, ...] = ()
    fields: tuple[tuple[str, frozenset[str]], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.words or self.fields)

    def matches(self, row: BoardRow) -> bool:
        task = row.task
        if self.words:
            text = f"{task.id} {task.title} {task.status.value}".lower()
            if not all(word in text for word in self.words):
                return False
        return all(_field_matches(row, name, values) for name, values in self.fields)


def parse_filter(text: str) -> BacklogFilter:
    words, fields = [], []
    for term in text.lower().split():
        name, colon, value = term.partition(":")
        if colon and name and value:
            name = FIELD_ALIASES.get(name, name)
            values = frozenset(FLAG_ALIASES.get(v, v) if name == "flag" else v for v in value.split(",") if v)
            fields.append((name, values))
        else:
            words.append(term)
    return BacklogFilter(tuple(words), tuple(fields))


def _field_matches(row: BoardRow, name: str, values: frozenset[str]) -> bool:
    if name == "flag":
        return any(FLAGS[value](row) for value in values if value in FLAGS)
    if name == "skip":
        return (row.skip_reason or "").lower() in values
    task = row.task
    value = task.status.value if name == "status" else task.id if name == "id" else task.get(name)
    candidates = value if isinstance(value, list) else [value]
    return any(str(item).lower() in values for item in candidates if item is not None)
