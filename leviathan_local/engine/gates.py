"""Policy gates on an attempt's changes: scope (allowed and forbidden paths) and secrets.

Pure functions over the change list, so the executor, `review` and tests share them.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from leviathan_local.config import globs
from leviathan_local.git.attempt_tree import Change
from leviathan_local.wording import article


@dataclass(frozen=True)
class Violation:
    path: str
    reason: str


def scope_violations(changes: list[Change], allowed: list[str], forbidden: tuple[str, ...]) -> list[Violation]:
    """Every changed, added, deleted or renamed path must be allowed and not forbidden; a
    symlink must also point inside the repository and inside the allowed paths. Each reason
    says what the change did (deleted, renamed to ..., mode ...), so a human sees why at once."""
    found = []
    for change in changes:
        for path in change.paths:
            found.extend(Violation(path, f"{change.describe(path)}, {problem}")
                         for problem in _path_problems(path, allowed, forbidden))
        if change.symlink_target is not None:
            found.extend(_symlink_violations(change, allowed, forbidden))
    return found


def _symlink_violations(change: Change, allowed: list[str], forbidden: tuple[str, ...]) -> list[Violation]:
    link = f"symlink to {change.symlink_target}"
    target = posixpath.normpath(posixpath.join(posixpath.dirname(change.path), change.symlink_target))
    if change.symlink_target.startswith("/") or target.startswith("../") or target == "..":
        return [Violation(change.path, f"{link} points outside the repository")]
    return [Violation(change.path, f"{link}: its target {target} {problem}")
            for problem in _path_problems(target, allowed, forbidden)]


def _path_problems(path: str, allowed: list[str], forbidden: tuple[str, ...]) -> list[str]:
    hits = [pattern for pattern in forbidden if globs.matches(path, pattern)]
    if hits:
        return [f"matches forbidden pattern {hits[0]}"]
    if not any(globs.matches(path, pattern) for pattern in allowed):
        return [f"outside allowed_paths ({', '.join(allowed) or 'none'})"]
    return []


SECRET_PATTERNS = {
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(r"aws_secret_access_key\s*[:=]\s*['\"]?[A-Za-z0-9/+=]{40}"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY-----"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "Stripe secret key": re.compile(r"\b[sr]k_live_[0-9A-Za-z]{20,}"),
    "hard-coded credential": re.compile(
        r"(?i)\b(?:password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)\b\s*[:=]\s*"
        r"['\"](?=[^'\"]*[0-9])(?=[^'\"]*[A-Za-z])[^'\"\s]{16,}['\"]"),
}


def secret_findings(added: dict[str, list[str]]) -> list[Violation]:
    """Secrets in added lines, by the usual key formats; the value itself is never repeated."""
    found = []
    for path, lines in added.items():
        for line in lines:
            for kind, pattern in SECRET_PATTERNS.items():
                if pattern.search(line):
                    found.append(Violation(path, f"adds what looks like {article(kind)}"))
                    break
    return found
