"""A tagged comment as a backlog task: stable id, title, type, impact, security, default scope.

The tag's parenthesised qualifier (`TODO(ann)`, `FIXME(security)`: an owner or a topic) is kept
in the title and `source.qualifier`; `security` among its words files the task as security.
"""

from __future__ import annotations

import re
from hashlib import sha1
from typing import Any, NamedTuple

from leviathan_local.discovery.cache import RawFinding
from leviathan_local.discovery.settings import DEFAULT_TEST_GLOBS

TYPE_BY_TAG = {"FIXME": "bug", "BUG": "bug", "HACK": "refactor", "XXX": "refactor"}
# Matched against lowered text: cheaper than re.IGNORECASE, which defeats the regex's literal scan.
FEATURE_WORDS = re.compile(r"(?:add|implement|support|allow|enable|introduce|expose|provide)\b")
SECURITY_WORDS = ("auth", "crypto", "secret", "password", "token", "injection", "vulnerab")
_SECURITY = re.compile(r"\b(?:" + "|".join(SECURITY_WORDS) + ")")
IMPACT_BY_WORDS = (
    (8, ("crash", "data loss", "corrupt", "leak", "race", "deadlock", "security", "outage")),
    (5, ("bug", "error", "fail", "broken", "wrong", "incorrect", "slow", "performance", "timeout")),
    (2, ("cleanup", "clean up", "refactor", "typo", "rename", "docs", "comment", "style")),
)
IMPACT_BY_TAG = {"FIXME": 5, "BUG": 5, "TODO": 3, "HACK": 3, "XXX": 3}
# Each level's words as one pattern: a search finds any of them as a substring, as `in` would.
_IMPACT_PATTERNS = tuple((value, re.compile("|".join(map(re.escape, words)))) for value, words in IMPACT_BY_WORDS)


def classify(tag: str, text: str, description: str, qualifier: str = "") -> tuple[str, int, bool]:
    """(type, impact, security) of a finding, from its tag, its qualifier and its words."""
    lowered = description.lower()
    if "security" in re.split(r"[^a-z0-9_-]+", qualifier.lower()) or _SECURITY.search(lowered):
        return "security", 8, True
    kind = TYPE_BY_TAG.get(tag) or ("feature" if FEATURE_WORDS.match(text.lower()) else "chore")
    for value, words in _IMPACT_PATTERNS:
        if words.search(lowered):
            return kind, value, False
    return kind, IMPACT_BY_TAG.get(tag, 3), False


class Finding(NamedTuple):
    id: str
    tag: str
    path: str  # as shown: a name that is not UTF-8 has its odd bytes escaped (`shown_path`)
    line: int
    text: str  # after the tag, on its line
    description: str  # with the comment lines that continue it
    type: str
    impact: int
    security: bool
    qualifier: str = ""  # what the tag's parentheses held: `ann` of `TODO(ann)`

    def source(self) -> dict[str, Any]:
        source = {"kind": "todo", "tag": self.tag, "path": self.path, "line": self.line, "text": self.text}
        # Only when there is one: the sources of tasks discovered before qualifiers were kept stay equal.
        return {**source, "qualifier": self.qualifier} if self.qualifier else source

    def as_task(self, created_at: str, test_globs: tuple[str, ...] = DEFAULT_TEST_GLOBS) -> dict[str, Any]:
        """The task discovery adds; ``test_globs``: policy's `tdd.test_globs` (`reconcile.apply` passes them)."""
        tag = f"{self.tag}({self.qualifier})" if self.qualifier else self.tag
        title = f"{tag}: {self.text}" if self.text else f"{tag} in {self.path}"
        return {
            "id": self.id, "title": title if len(title) <= 90 else title[:87] + "...",
            "description": f"{self.description or '(no text)'} ({self.path}:{self.line}"
                           + (f", {tag})" if self.qualifier else ")"),
            "type": self.type, "status": "new", "impact": self.impact,
            "tags": ["discovered", self.tag.lower(), *(["security"] if self.security else [])],
            "allowed_paths": default_allowed_paths(self.path, test_globs),
            "created_at": created_at, "source": self.source(),
        }

    def as_json(self) -> dict[str, Any]:
        return self._asdict()


def named_findings(files: dict[str, tuple[RawFinding, ...]]) -> list[Finding]:
    """A scan's findings (`ScanResult.files`) with their task ids, in path and line order."""
    return [finding for path in sorted(files) for finding in finding_ids(path, list(files[path]))]


def finding_ids(path: str, raw: list[RawFinding]) -> list[Finding]:
    """Findings of one file with ids from path and normalized text (not the line): a moved
    line keeps its id; the n-th identical text in a file gets `-n`."""
    seen: dict[str, int] = {}
    findings = []
    shown = shown_path(path)
    for line, tag, text, description, qualifier in raw:
        normalized = " ".join(f"{tag} {text}".lower().split())
        # A file name that is not UTF-8 hashes as its own bytes: two names that only look alike
        # once shown (`\\xff` escaped, or the four characters written out) get distinct ids.
        digest = sha1(f"{path}\0{normalized}".encode("utf-8", "surrogateescape")).hexdigest()[:10]
        count = seen[digest] = seen.get(digest, 0) + 1
        task_id = f"todo-{digest}" + (f"-{count}" if count > 1 else "")
        findings.append(Finding(task_id, tag, shown, line, text, description,
                                *classify(tag, text, description, qualifier), qualifier))
    return findings


def default_allowed_paths(path: str, test_globs: tuple[str, ...]) -> list[str]:
    """Where a discovered task may change files until a human says otherwise: the directory of
    the comment's file (the file itself at the top: the directory would be the whole tree), and
    where tests go (policy's `tdd.test_globs`: red must change a test, inside the scope)."""
    directory = path.rpartition("/")[0]
    own = directory + "/" if directory else path
    return [own, *(pattern for pattern in test_globs if pattern != own)]


def shown_path(path: str) -> str:
    """``path`` as text the backlog can hold: a file name that is not UTF-8 (git hands its bytes
    over as they are) keeps its other bytes as `\\xff` escapes, the same at every scan."""
    try:
        path.encode()
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return path
