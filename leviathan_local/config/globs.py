"""Path patterns for allowed_paths, forbidden patterns, scopes and escalation paths.

A pattern is a directory prefix ending in `/` (everything under it), a plain file path, or a
glob where `**` spans any number of directories (zero included) and `*`/`?` stay inside one.
"""

from __future__ import annotations

import re
from functools import lru_cache

_WILDCARDS = re.compile(r"[*?\[]")


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern.endswith("/"):
        return re.compile(re.escape(pattern) + ".*", re.DOTALL)
    regex, position = [], 0
    while position < len(pattern):
        if pattern.startswith("**/", position):
            regex.append("(?:.*/)?")
            position += 3
        elif pattern.startswith("**", position):
            regex.append(".*")
            position += 2
        elif pattern[position] == "*":
            regex.append("[^/]*")
            position += 1
        elif pattern[position] == "?":
            regex.append("[^/]")
            position += 1
        else:
            regex.append(re.escape(pattern[position]))
            position += 1
    return re.compile("".join(regex), re.DOTALL)


def matches(path: str, pattern: str) -> bool:
    """Whether repository-relative ``path`` is matched by ``pattern``."""
    return _compiled(_normal(pattern)).fullmatch(_normal(path)) is not None


def escapes_repo(pattern: str) -> bool:
    """Absolute, drive-qualified, or climbing out with a `..` segment."""
    return pattern.startswith(("/", "\\")) or bool(re.match(r"[A-Za-z]:[\\/]", pattern)) or \
        ".." in re.split(r"[\\/]", pattern)


def literal_prefix(pattern: str) -> str:
    """The part of ``pattern`` before its first wildcard."""
    found = _WILDCARDS.search(pattern)
    return pattern if found is None else pattern[:found.start()]


@lru_cache(maxsize=8192)  # pure, and asked for every task and pattern on every load
def within(inner: str, outer: str) -> bool:
    """Conservatively: everything ``inner`` can match is matched by ``outer``.

    True when inner is a literal path that outer matches, or when outer is a directory
    (`dir/`, `dir/**`) containing inner's literal prefix. Anything subtler answers False,
    so a task is never granted more than its scope grants.
    """
    inner, outer = _normal(inner), _normal(outer)
    if not _WILDCARDS.search(inner) and not inner.endswith("/"):
        return matches(inner, outer)
    directory = _directory_of(outer)
    return directory is not None and literal_prefix(inner).startswith(directory)


@lru_cache(maxsize=8192)
def overlaps(first: str, second: str) -> bool:
    """Conservatively: some path could match both (used for escalation paths, parallel runs)."""
    first, second = _normal(first), _normal(second)
    if within(first, second) or within(second, first):
        return True
    a, b = literal_prefix(first), literal_prefix(second)
    return a.startswith(b) or b.startswith(a)


def _directory_of(pattern: str) -> str | None:
    if pattern.endswith("/"):
        return pattern
    if pattern.endswith("/**") and not _WILDCARDS.search(pattern[:-3]):
        return pattern[:-2]
    if pattern == "**":
        return ""
    return None


def _normal(pattern: str) -> str:
    return pattern[2:] if pattern.startswith("./") else pattern
