"""Scan the repository and name the findings: the light half of discovery (no YAML, no git library)."""

from __future__ import annotations

import os

from leviathan_local.discovery.scan import ScanResult, scan
from leviathan_local.discovery.settings import Settings

TYPE_CHECKING = False  # collections.abc costs every `discover` a millisecond and more
if TYPE_CHECKING:
    from collections.abc import Callable


def collect(located: tuple[str, str, str], settings: Settings) -> ScanResult:
    """Scan the work tree of ``located`` (work tree, git dir, common dir)."""
    root, git_dir, common_dir = located
    return scan(root, git_dir, os.path.join(common_dir, "leviathan"), settings.tags, _excluder(settings.exclude),
                settings.exclude)


def named_findings(result: ScanResult) -> list:
    """The scan's findings as `Finding`s with their task ids, in path and line order."""
    from leviathan_local.discovery.tasks import finding_ids

    return [finding for path in sorted(result.files) for finding in finding_ids(path, list(result.files[path]))]


def _excluder(patterns: tuple[str, ...]) -> Callable[[str], bool] | None:
    if not patterns:
        return None
    from leviathan_local.config import globs

    return lambda path: any(globs.matches(path, pattern) for pattern in patterns)
