"""A tagged comment as a backlog task: stable id, title, type, impact, security."""

from __future__ import annotations

import hashlib
import re
from typing import Any, NamedTuple

TYPE_BY_TAG = {"FIXME": "bug", "BUG": "bug", "HACK": "refactor", "XXX": "refactor"}
FEATURE_WORDS = re.compile(r"^(add|implement|support|allow|enable|introduce|expose|provide)\b", re.IGNORECASE)
SECURITY_WORDS = ("auth", "crypto", "secret", "password", "token", "injection", "vulnerab")
IMPACT_BY_WORDS = (
    (8, ("crash", "data loss", "corrupt", "leak", "race", "deadlock", "security", "outage")),
    (5, ("bug", "error", "fail", "broken", "wrong", "incorrect", "slow", "performance", "timeout")),
    (2, ("cleanup", "clean up", "refactor", "typo", "rename", "docs", "comment", "style")),
)
IMPACT_BY_TAG = {"FIXME": 5, "BUG": 5, "TODO": 3, "HACK": 3, "XXX": 3}


class Finding(NamedTuple):
    id: str
    tag: str
    path: str
    line: int
    text: str
    description: str

    @property
    def security(self) -> bool:
        lowered = self.description.lower()
        return any(re.search(rf"\b{word}", lowered) for word in SECURITY_WORDS)

    @property
    def type(self) -> str:
        if self.security:
            return "security"
        if self.tag in TYPE_BY_TAG:
            return TYPE_BY_TAG[self.tag]
        return "feature" if FEATURE_WORDS.match(self.text) else "chore"

    @property
    def impact(self) -> int:
        lowered = self.description.lower()
        if self.security:
            return 8
        for value, words in IMPACT_BY_WORDS:
            if any(word in lowered for word in words):
                return value
        return IMPACT_BY_TAG.get(self.tag, 3)

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
        return {"id": self.id, "tag": self.tag, "path": self.path, "line": self.line, "text": self.text,
                "description": self.description, "type": self.type, "impact": self.impact,
                "security": self.security}


def finding_ids(path: str, raw: list[tuple[int, str, str, str]]) -> list[Finding]:
    """Findings of one file with ids from path and normalized text (not the line): a moved
    line keeps its id; the n-th identical text in a file gets `-n`."""
    seen: dict[str, int] = {}
    findings = []
    for line, tag, text, description in raw:
        normalized = " ".join(f"{tag} {text}".lower().split())
        digest = hashlib.sha1(f"{path}\0{normalized}".encode()).hexdigest()[:10]
        count = seen[digest] = seen.get(digest, 0) + 1
        task_id = f"todo-{digest}" + (f"-{count}" if count > 1 else "")
        findings.append(Finding(task_id, tag, path, line, text, description))
    return findings
