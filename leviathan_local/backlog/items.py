"""The shape of one parsed task entry: its value as written and where each field is.
Parsing makes these and validation reads them; both import this module, never each other's
internals (validation must not depend on how the text was split)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class ParsedItem:
    """One task entry as written. Positions are relative to the item's first line."""

    value: Any
    line_in_chunk: int  # 0-based line of the item inside its chunk (or the whole file)
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)  # field -> (line offset, column)
    duplicate_keys: list[tuple[str, int, int]] = field(default_factory=list)
    # What is wrong with this item on its own, found once per distinct text and cached:
    # (line offset, column, field, message).
    problems: list[tuple[int, int, str | None, str]] = field(default_factory=list)
    warnings: list[tuple[int, int, str | None, str]] = field(default_factory=list)


@dataclass(slots=True)
class LocatedItem:
    item: ParsedItem
    line: int  # 1-based line of the item in the file
    start: int  # character span of the item's text (chunked layouts only; -1 otherwise)
    end: int
