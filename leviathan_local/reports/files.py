"""Status reports on disk: `DOCS/status/<UTC timestamp>.{json,md,svg}` and `latest.*`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leviathan_local.atomic import write_atomic
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.reports.data import SCHEMA_VERSION, build_report, is_run_report
from leviathan_local.reports.markdown import render_markdown
from leviathan_local.reports.svg import RUNS_DRAWN, render_svg

STATUS_DIR = Path("DOCS") / "status"


@dataclass(frozen=True)
class WrittenReport:
    report: dict[str, Any]
    files: tuple[str, ...]  # repository-relative paths, the timestamped ones first


def status_dir(paths: RepoPaths) -> Path:
    return paths.root / STATUS_DIR


def previous_report(paths: RepoPaths) -> dict[str, Any] | None:
    """`latest.json`, if it is a report this version can read."""
    return _read(status_dir(paths) / "latest.json")


def run_history(paths: RepoPaths, count: int = RUNS_DRAWN) -> list[dict[str, Any]]:
    """The last ``count`` reports that runs wrote at their halt, oldest first (see `is_run_report`)."""
    found: list[dict[str, Any]] = []
    for path in reversed(_timestamped(paths)):
        report = _read(path)
        if report is not None and is_run_report(report):
            found.append(report)
            if len(found) == count:
                break
    return found[::-1]


def make_report(paths: RepoPaths, halt_reason: str | None = None, run_window: bool = False) -> dict[str, Any]:
    return build_report(paths, halt_reason, previous_report(paths), run_window)


def write_halt_report(paths: RepoPaths, halt_reason: str) -> tuple[str, ...]:
    """A run's report at its halt, over the run's window of the event log: the files written."""
    return write_report(paths, make_report(paths, halt_reason, run_window=True)).files


def write_report(paths: RepoPaths, report: dict[str, Any]) -> WrittenReport:
    """Write the report's JSON, markdown and chart, then point `latest.*` at them."""
    directory = status_dir(paths)
    directory.mkdir(parents=True, exist_ok=True)
    stem = _free_stem(directory, report["timestamp"].replace("-", "").replace(":", ""))
    svg = render_svg(report, run_history(paths))
    written = []
    for name, chart in ((stem, f"{stem}.svg"), ("latest", "latest.svg")):
        files = {f"{name}.svg": svg, f"{name}.md": render_markdown(report, chart),
                 f"{name}.json": json.dumps(report, indent=2, ensure_ascii=False) + "\n"}
        for file_name, content in files.items():
            write_atomic(directory / file_name, content.encode("utf-8"))
            written.append(str((STATUS_DIR / file_name).as_posix()))
    return WrittenReport(report, tuple(written))


def export(report: dict[str, Any], report_format: str) -> str:
    """One report as text: markdown (without the chart, which is a separate file) or JSON."""
    if report_format == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    return render_markdown(report, None)


def _timestamped(paths: RepoPaths) -> list[Path]:
    """The timestamped reports' JSON files, oldest first: `<stamp>-2` (a second report in the
    same second, see `_free_stem`) after `<stamp>`, which plain name order would not give."""
    def order(path: Path) -> tuple[str, int]:
        stamp, _, number = path.stem.partition("-")
        return stamp, int(number) if number.isdigit() else 1

    return sorted((p for p in status_dir(paths).glob("*.json") if p.name != "latest.json"), key=order)


def _free_stem(directory: Path, stem: str) -> str:
    # Two reports in one second (a run, then `leviathan status`) must not overwrite each other.
    candidate, number = stem, 1
    while (directory / f"{candidate}.json").exists():
        number += 1
        candidate = f"{stem}-{number}"
    return candidate


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("schema_version") == SCHEMA_VERSION else None
