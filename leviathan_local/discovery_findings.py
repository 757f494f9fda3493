"""Tagged comments in one file's bytes: `TODO: text`, with the comment lines that continue it.

A finding does not know its path: the scan caches findings per blob (file content), so the
same content at two paths is read once.
"""

from __future__ import annotations

import re
from functools import lru_cache

from leviathan_local.discovery_comments import CommentLine, comment_lines, syntax_for
from leviathan_local.discovery_scan import RawFinding

BINARY_PROBE = 8000  # git's heuristic: a NUL in the first 8000 bytes means binary


@lru_cache(maxsize=8)
def _tag_pattern(tags: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(map(re.escape, sorted(tags, key=len, reverse=True)))
    return re.compile(rf"(?<![A-Za-z0-9_])({alternatives})(?![A-Za-z0-9_])(?:\([^)]*\))?[:\-\s]*")


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_PROBE]


def findings_in(data: bytes, path: str, tags: tuple[str, ...]) -> tuple[RawFinding, ...]:
    """Each comment line holding one of ``tags`` as a whole word (the first tag of a line)."""
    syntax = syntax_for(path)
    if syntax is None or is_binary(data) or not any(tag.encode() in data for tag in tags):
        return ()
    lines = comment_lines(data.decode("utf-8", errors="replace"), syntax)
    pattern = _tag_pattern(tags)
    found: list[RawFinding] = []
    for index, comment in enumerate(lines):
        hit = pattern.search(comment.text)
        if hit is None or (found and found[-1][0] == comment.line):
            continue
        text = _clean(comment.text[hit.end():])
        more = _continuation(lines, index, pattern)
        found.append((comment.line, hit.group(1), text, " ".join(part for part in (text, *more) if part)))
    return tuple(found)


def _continuation(lines: list[CommentLine], index: int, pattern: re.Pattern[str]) -> list[str]:
    first = lines[index]
    indent = _indent(first.text)
    parts = []
    for following in lines[index + 1:]:
        if following.line != first.line + len(parts) + 1 or pattern.search(following.text):
            break
        text = _clean(following.text)
        if not text:
            break
        if following.group != first.group:
            # separate line comments continue a tag only when indented below it, as in
            # `# TODO: text` / `#   more`, and nothing but the comment is on the line
            if not (following.whole_line and following.column == first.column and _indent(following.text) > indent):
                break
        parts.append(text)
    return parts


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def _clean(text: str) -> str:
    """Comment text without block decoration (`*` gutters, `*/`) and extra space."""
    text = text.strip()
    if text.startswith("*") and not text.startswith("*/"):
        text = text[1:]
    return " ".join(text.split())
