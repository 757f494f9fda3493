"""Tagged comments in one file's bytes: `TODO: text`, with the comment lines that continue it.

A finding here (`cache.RawFinding`) has no id and does not know its path: the scan may cache
findings per blob and comment syntax, so the same content at two paths of one kind is read
once. Which spans are comments is `comments`' business.
"""

from __future__ import annotations

import re
from functools import lru_cache

from leviathan_local.discovery.cache import RawFinding
from leviathan_local.discovery.comments import (
    LineStarts, Syntax, block_end, comment_at, comment_openers, next_comment, opener_at,
)
from leviathan_local.discovery.languages import language_of, syntax_of

BINARY_PROBE = 8000  # git's heuristic: a NUL in the first 8000 bytes means binary


@lru_cache(maxsize=8)
def _tag_pattern(tags: tuple[str, ...]) -> re.Pattern[str]:
    """A tag as a whole word, with an optional `(qualifier)` (an owner, a topic: group 2) and the
    `:` or `-` after it."""
    alternatives = "|".join(map(re.escape, sorted(tags, key=len, reverse=True)))
    return re.compile(rf"(?<![A-Za-z0-9_])({alternatives})(?![A-Za-z0-9_])(?:\(([^)\n]*)\))?[:\-\t ]*")


def _tags_between(text: str, start: int, end: int, tags: tuple[str, ...], pattern: re.Pattern[str]
                  ) -> list[re.Match[str]]:
    """The tags between ``start`` and ``end``, found with str.find (a regex opening with a
    look-behind tries every position, several times slower), then confirmed by ``pattern``."""
    positions = []
    for tag in tags:
        found = text.find(tag, start, end)
        while found >= 0:
            positions.append(found)
            found = text.find(tag, found + len(tag), end)
    if len(positions) > 1:
        positions = sorted(set(positions))
    hits = []
    for position in positions:
        hit = pattern.match(text, position)
        if hit is not None and _word_start(text, hit):
            hits.append(hit)
    return hits


def _hits_on_lines(text: str, tags: tuple[str, ...], pattern: re.Pattern[str], hit_lines: list[tuple[int, str]]
                   ) -> list[tuple[re.Match[str], int, int]] | None:
    """(tag, its line's start, its line's number) on the given lines of ``text``; None when
    ``text`` does not have those lines."""
    hits: list[tuple[re.Match[str], int, int]] = []
    position, number = 0, 1  # the start of line `number`
    for line_number, line in hit_lines:
        wanted = line_number - number  # newlines between `position` and that line's start
        found, counted, passed = text.find(line, position), position, 0
        while found >= 0:
            passed += text.count("\n", counted, found)  # counted once: the text may recur often
            counted = found
            if passed >= wanted:
                break
            found = text.find(line, found + 1)  # the same text on an earlier line
        end = found + len(line)
        if (found < 0 or passed != wanted or (found and text[found - 1] != "\n")
                or (end < len(text) and text[end] != "\n")):
            return None
        hits += [(hit, found, line_number) for hit in _tags_between(text, found, end, tags, pattern)]
        position, number = end + 1, line_number + 1
    return hits


def _word_start(text: str, hit: re.Match[str]) -> bool:
    before = hit.start() - 1  # the pattern's look-behind knows ASCII letters only
    return before < 0 or not (text[before].isalnum() or text[before] == "_")


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_PROBE]


def findings_in(data: bytes, path: str, tags: tuple[str, ...], hit_lines: list[tuple[int, str]] | None = None,
                language: str | None = None) -> tuple[RawFinding, ...]:
    """Each comment line holding one of ``tags`` as a whole word (the first tag of a line).

    ``hit_lines``: the (number, text) of every line holding a tag, as `git grep -n -w` found
    them; only those lines are looked at then (the whole text is searched if they no longer
    match it: the file changed after git read it). ``language``: the file's, when the caller
    has decided it (`languages.language_of`)."""
    syntax = syntax_of(language_of(path, data) if language is None else language)
    if syntax is None or is_binary(data):
        return ()
    if hit_lines is None and not any(tag.encode() in data for tag in tags):
        return ()
    text = data.decode("utf-8", errors="replace")
    pattern = _tag_pattern(tags)
    found: list[RawFinding] = []
    last_line = 0
    lines = LineStarts(text, syntax)
    hits = None if hit_lines is None else _hits_on_lines(text, tags, pattern, hit_lines)
    if hits is None:  # no lines from git, or not this text's: search it all
        hits = [(hit, None, None) for hit in _tags_between(text, 0, len(text), tags, pattern)]
    for hit, line_start, line_number in hits:
        span = comment_at(hit.start(), lines, line_start, line_number)
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
        found.append((line, hit.group(1), first, " ".join(part for part in (first, *more) if part),
                      " ".join((hit.group(2) or "").split())))
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
    openers = comment_openers(syntax)
    # Only a line whose comment starts at the same column, after blanks, can continue: checked
    # before lexing the line, which most of the time it spares.
    while end < len(text) and text.startswith(openers, end + 1 + column) and not text[end + 1:end + 1 + column].strip():
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
