"""`leviathan status [--format md|json] [--output PATH]`: a status report on demand."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from leviathan_local.atomic import write_atomic
from leviathan_local.errors import EXIT_OK
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.reports.files import export, make_report, write_report
from leviathan_local.reports.markdown import summary


def run_status(paths: RepoPaths, report_format: str | None = None, output: str | None = None,
               out: TextIO | None = None) -> int:
    """Without ``output`` or ``report_format``: write the report under DOCS/status. With
    ``output``: export there only (`-` for standard output; markdown unless ``report_format``),
    leaving DOCS untouched. ``report_format`` alone exports to standard output: asking for one
    format is asking to see the report in it, and a script polling `--format json` must not
    fill DOCS/status (or move the next report's window) with every call."""
    out = out or sys.stdout
    if report_format is not None and output is None:
        output = "-"
    report_format = report_format or "md"
    report = make_report(paths)
    if output is None:
        written = write_report(paths, report)
        out.write(summary(report).replace("**", "") + "\n")
        out.write("".join(f"wrote {name}\n" for name in written.files[:3]))
    elif output == "-":
        out.write(export(report, report_format))
    else:
        target = Path(output)
        write_atomic(target, export(report, report_format).encode("utf-8"))
        out.write(f"wrote {target}\n")
    return EXIT_OK
