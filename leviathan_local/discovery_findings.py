"""Tagged comments in one file's bytes: `TODO: text`, with the comment lines that continue it.

A finding does not know its path: the scan caches findings per blob and comment syntax, so the
same content at two paths of one kind is read once.
"""

from __future__ import annotations

import re
from functools import lru_cache

from leviathan_local.discovery_comments import (
    LineStarts, Syntax, block_end, comment_at, next_comment, opener_at, syntax_for,
)
from leviathan_local.discovery_scan import RawFinding

BINARY_PROBE = 8000  # git's heuristic: a NUL in the first 8000 bytes means binary


@lru_cache(maxsize=8)
def _tag_pattern(tags: tuple[str, ...]) -> re.Pattern[str]:
    """A tag as a whole word, with an optional `(owner)` and the `:` or `-` after it."""
    alternatives = "|".join(map(re.escape, sorted(tags, key=len, reverse=True)))
    return re.compile(rf"(?<![A-Za-z0-9_])({alternatives})(?![A-Za-z0-9_])(?:\([^)\n]*\))?[:\-\t ]*")


def _tag_hits(text: str, tags: tuple[str, ...], pattern: re.Pattern[str]) -> list[re.Match[str]]:
    """Every tag occurrence, found with str.find (memchr speed: a regex with a look-behind
    cannot skip ahead), then confirmed by ``pattern`` at that spot."""
    positions = []
    for tag in tags:
        found = text.find(tag)
        while found >= 0:
            positions.append(found)
            found = text.find(tag, found + len(tag))
    hits = []
    for position in sorted(set(positions)):
        hit = pattern.match(text, position)
        if hit is not None and (position == 0 or not (text[position - 1].isalnum() or text[position - 1] == "_")):
            hits.append(hit)
    return hits


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_PROBE]


def findings_in(data: bytes, path: str, tags: tuple[str, ...]) -> tuple[RawFinding, ...]:
    """Each comment line holding one of ``tags`` as a whole word (the first tag of a line)."""
    syntax = syntax_for(path)
    if syntax is None or is_binary(data) or not any(tag.encode() in data for tag in tags):
        return ()
    text = data.decode("utf-8", errors="replace")
    pattern = _tag_pattern(tags)
    found: list[RawFinding] = []
    last_line = 0
    lines = LineStarts(text, syntax)
    for hit in _tag_hits(text, tags, pattern):
        span = comment_at(hit.start(), lines)
        if span is None:
            continue  # in code or in a string
        start, end = span
        opener = opener_at(text, start, syntax)
        line = lines.line
        if hit.start() < start + len(opener) or line == last_line:
            continue
        last_line = line
        first = _clean(_segment(text, hit.end(), end, syntax, opener))
        more = _continuation(text, span, opener, hit, syntax, pattern)
        found.append((line, hit.group(1), first, " ".join(part for part in (first, *more) if part)))
    return tuple(found)


def _segment(text: str, position: int, span_end: int, syntax: Syntax, opener: str) -> str:
    """The comment's text from ``position`` to the end of its line (a block's closer removed)."""
    newline = text.find("\n", position, span_end)
    piece = text[position:span_end if newline < 0 else newline]
    closer = block_end(syntax, opener)
    if closer and newline < 0 and piece.endswith(closer):
        piece = piece[:-len(closer)]
    return piece


def _continuation(text: str, span: tuple[int, int], opener: str, hit: re.Match[str], syntax: Syntax,
                  pattern: re.Pattern[str]) -> list[str]:
    start, end = span
    parts: list[str] = []
    if block_end(syntax, opener):  # the following lines of the same block comment
        position = text.find("\n", hit.start(), end)
        while position >= 0 and not pattern.search(line := _segment(text, position + 1, end, syntax, opener)):
            if not (cleaned := _clean(line)):
                break
            parts.append(cleaned)
            position = text.find("\n", position + 1, end)
        return parts
    # Separate line comments continue a tag only when indented below it, as in
    # `# TODO: text` / `#   more`, each alone on the next line at the same column.
    line_start = text.rfind("\n", 0, start) + 1
    column, indent = start - line_start, _indent(text[start + len(opener):hit.start()])
    while end < len(text):
        following = next_comment(text, end + 1, syntax)
        if following is None:
            break
        following_start, following_end = following
        body = text[following_start + len(opener_at(text, following_start, syntax)):following_end]
        if (text[end + 1:following_start].strip() or following_start - end - 1 != column
                or _indent(body) <= indent or pattern.search(body) or not (cleaned := _clean(body))):
            break
        parts.append(cleaned)
        end = following_end
    return parts


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def _clean(text: str) -> str:
    """Comment text without block decoration (`*` gutters, `*/`) and extra space."""
    text = text.strip()
    if text.startswith("*") and not text.startswith("*/"):
        text = text[1:]
    return " ".join(text.split())
