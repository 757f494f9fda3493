"""A tagged comment as a backlog task: stable id, title, type, impact, security."""

from __future__ import annotations

import re
from hashlib import sha1
from typing import Any, NamedTuple

from leviathan_local.discovery.cache import RawFinding

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


def classify(tag: str, text: str, description: str) -> tuple[str, int, bool]:
    """(type, impact, security) of a finding, from its tag and its words."""
    lowered = description.lower()
    if _SECURITY.search(lowered):
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

    def source(self) -> dict[str, Any]:
        return {"kind": "todo", "tag": self.tag, "path": self.path, "line": self.line, "text": self.text}

    def as_task(self, created_at: str) -> dict[str, Any]:
        title = f"{self.tag}: {self.text}" if self.text else f"{self.tag} in {self.path}"
        return {
            "id": self.id, "title": title if len(title) <= 90 else title[:87] + "...",
            "description": f"{self.description or '(no text)'} ({self.path}:{self.line})",
            "type": self.type, "status": "new", "impact": self.impact,
            "tags": ["discovered", self.tag.lower(), *(["security"] if self.security else [])],
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
    for line, tag, text, description in raw:
        normalized = " ".join(f"{tag} {text}".lower().split())
        # A file name that is not UTF-8 hashes as its own bytes: two names that only look alike
        # once shown (`\\xff` escaped, or the four characters written out) get distinct ids.
        digest = sha1(f"{path}\0{normalized}".encode("utf-8", "surrogateescape")).hexdigest()[:10]
        count = seen[digest] = seen.get(digest, 0) + 1
        task_id = f"todo-{digest}" + (f"-{count}" if count > 1 else "")
        findings.append(Finding(task_id, tag, shown, line, text, description, *classify(tag, text, description)))
    return findings


def shown_path(path: str) -> str:
    """``path`` as text the backlog can hold: a file name that is not UTF-8 (git hands its bytes
    over as they are) keeps its other bytes as `\\xff` escapes, the same at every scan."""
    try:
        path.encode()
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return path
