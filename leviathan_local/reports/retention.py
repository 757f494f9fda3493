"""Which timestamped status reports are beyond policy's `reports.keep` (for `leviathan prune`).

A report is the files that share one timestamp stem (`20261202T021157Z.json`, `.md`, `.svg`;
`-2` and on for a second one in the same second). `latest.*` and every file whose name is no
report stem (a human's notes) are never counted nor deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from leviathan_local.repo_paths import RepoPaths
from leviathan_local.reports.files import STATUS_DIR, status_dir

_REPORT_FILE = re.compile(r"^(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<number>\d+))?\.(?:json|md|svg)$")


@dataclass(frozen=True)
class Retention:
    keep: int
    kept: list[str]  # report stems, oldest first
    beyond: list[str]  # the older ones, oldest first
    files: list[str]  # the beyond reports' files, repository-relative


def reports_beyond(paths: RepoPaths, keep: int) -> Retention:
    by_stem: dict[tuple[str, int], list[str]] = {}
    directory = status_dir(paths)
    for path in directory.iterdir() if directory.is_dir() else ():
        found = _REPORT_FILE.match(path.name)
        if found and path.is_file():
            key = (found["stamp"], int(found["number"] or 1))
            by_stem.setdefault(key, []).append((STATUS_DIR / path.name).as_posix())
    ordered = sorted(by_stem)
    cut = max(len(ordered) - keep, 0)
    return Retention(keep, [_stem_text(key) for key in ordered[cut:]], [_stem_text(key) for key in ordered[:cut]],
                     sorted(file for key in ordered[:cut] for file in by_stem[key]))


def _stem_text(key: tuple[str, int]) -> str:
    stamp, number = key
    return stamp if number == 1 else f"{stamp}-{number}"
