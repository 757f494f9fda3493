"""Where the comments are in a source file, with strings told apart (which syntax a file has
is `languages`' business).

Per comment syntax: line markers (`#`, `//`, `--`, `;`, `%`), block pairs (`/* */`,
`<!-- -->`, `{- -}`) and the string quotes that can hide a marker, compiled into one regex.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple


class Syntax(NamedTuple):
    line: tuple[str, ...] = ()  # the line comment markers
    block: tuple[tuple[str, str], ...] = ()  # the block comment pairs
    strings: tuple[str, ...] = ()  # the quote delimiters (triple quotes span lines)
    marker_needs_space: bool = False  # `#` starts a comment only at a word boundary (shell, YAML)


@lru_cache(maxsize=32)
def _token_pattern(syntax: Syntax) -> re.Pattern[str]:
    """One regex matching, left to right, every string literal and every comment, so that
    finditer does the lexing at C speed. (No named groups: they make it several times slower;
    a match is a string when it starts with a quote.)"""
    parts = []
    for quote in sorted(syntax.strings, key=len, reverse=True):  # `"""` before `"`
        q = re.escape(quote)
        if len(quote) == 3:
            parts.append(rf"{q}[\s\S]*?(?:{q}|\Z)")
        elif quote == "`":
            parts.append(r"`[^`\\]*(?:\\[\s\S][^`\\]*)*`?")
        else:
            parts.append(rf"{q}[^{q}\\\n]*(?:\\.[^{q}\\\n]*)*{q}?")
    parts += [rf"{re.escape(start)}[\s\S]*?(?:{re.escape(end)}|\Z)" for start, end in syntax.block]
    prefix = r"(?<!\S)" if syntax.marker_needs_space else ""
    parts += [rf"{prefix}{re.escape(marker)}[^\n]*" for marker in syntax.line]
    return re.compile("|".join(parts))


class LineStarts:
    """What lies before a line, for lines visited in increasing order: its number, the number
    of each multi-line quote before it, and each block opener's last position before it."""

    def __init__(self, text: str, syntax: Syntax) -> None:
        self.text, self.syntax, self.upto, self.line = text, syntax, 0, 1
        self.quotes = {quote: 0 for quote in syntax.strings if len(quote) == 3 or quote == "`"}
        self.last_opened = {opener: -1 for opener, _ in syntax.block}
        # Looked up once per file rather than at every tag: a cold scan visits thousands.
        self.tokens, self.quote_starts = _token_pattern(syntax), _quote_starts(syntax)

    def advance(self, line_start: int, line_number: int | None = None) -> None:
        # Markers never contain a newline, so none straddles the line starts between visits.
        text, upto = self.text, self.upto
        if line_start <= upto:
            return
        self.line = self.line + text.count("\n", upto, line_start) if line_number is None else line_number
        for quote in self.quotes:
            self.quotes[quote] += text.count(quote, upto, line_start)
        for opener in self.last_opened:
            found = text.rfind(opener, upto, line_start)
            if found >= 0:
                self.last_opened[opener] = found
        self.upto = line_start


def comment_at(position: int, lines: LineStarts, line_start: int | None = None,
               line_number: int | None = None) -> tuple[int, int] | None:
    """The (start, end) of the comment holding ``position``, or None when it is code or a string.

    Only the line of ``position`` is lexed. Whether that line begins inside a construct opened
    on an earlier line is decided without lexing the lines before it: inside a block comment
    when its last opener before the line has no closer yet, inside a multi-line string when
    the line is preceded by an odd number of its quotes. An opener hidden in another construct
    (a `\"\"\"` in a `#` comment, `"/*"` in a string) can mislead that, rarely; the price of
    exact lexing is reading every earlier line, which made a cold scan six times slower.
    """
    text, syntax = lines.text, lines.syntax
    if line_start is None:
        line_start = text.rfind("\n", 0, position) + 1
    lines.advance(line_start, line_number)
    resume = line_start
    for opener, closer in syntax.block:
        opened = lines.last_opened[opener]
        if opened >= 0:
            closed = text.find(closer, opened + len(opener))
            end = len(text) if closed < 0 else closed + len(closer)
            if end > line_start:
                if position < end:
                    return opened, end
                resume = max(resume, end)
    for quote, count in lines.quotes.items():
        if count % 2:
            closed = text.find(quote, line_start)
            end = len(text) if closed < 0 else closed + len(quote)
            if position < end:
                return None
            resume = max(resume, end)
    for token in lines.tokens.finditer(text, resume):
        if token.start() > position:
            return None
        if position < token.end():
            return None if text.startswith(lines.quote_starts, token.start()) else token.span()
    return None


def next_comment(text: str, position: int, syntax: Syntax) -> tuple[int, int] | None:
    """The first comment starting on the line that begins at ``position`` (lexed from there)."""
    line_end = text.find("\n", position)
    line_end = len(text) if line_end < 0 else line_end
    quotes = _quote_starts(syntax)
    for token in _token_pattern(syntax).finditer(text, position):
        if token.start() > line_end:
            return None
        if not text.startswith(quotes, token.start()):
            return token.span()
    return None


def opener_at(text: str, start: int, syntax: Syntax) -> str:
    """The marker a comment starting at ``start`` begins with."""
    for opener in comment_openers(syntax):
        if text.startswith(opener, start):
            return opener
    raise ValueError(f"no comment starts at {start}")


@lru_cache(maxsize=32)
def _quote_starts(syntax: Syntax) -> tuple[str, ...]:
    return tuple({quote[0] for quote in syntax.strings})


@lru_cache(maxsize=32)
def comment_openers(syntax: Syntax) -> tuple[str, ...]:
    """Every marker a comment can begin with, longest first."""
    return tuple(sorted([*(start for start, _ in syntax.block), *syntax.line], key=len, reverse=True))


def block_end(syntax: Syntax, opener: str) -> str | None:
    for start, end in syntax.block:
        if start == opener:
            return end
    return None
