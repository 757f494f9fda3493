"""Scan the repository and name the findings: the light half of discovery (no YAML, no git library)."""

from __future__ import annotations

from leviathan_local import globs
from leviathan_local.discovery_scan import ScanResult, scan
from leviathan_local.discovery_settings import Settings
from leviathan_local.discovery_tasks import Finding, finding_ids
from leviathan_local.repo_paths import RepoPaths


def collect(paths: RepoPaths, settings: Settings) -> ScanResult:
    def excluded(path: str) -> bool:
        return any(globs.matches(path, pattern) for pattern in settings.exclude)

    return scan(paths.root, paths.git_dir, paths.state_dir, settings.tags, excluded if settings.exclude else None)


def named_findings(result: ScanResult) -> list[Finding]:
    """The scan's findings with their task ids, in path and line order."""
    return [finding for path in sorted(result.files) for finding in finding_ids(path, list(result.files[path]))]
