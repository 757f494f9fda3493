"""`leviathan run`: the headless loop, stopped cleanly by SIGINT or SIGTERM."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TextIO

from leviathan_local.commands.attempt import render_attempt
from leviathan_local.engine.runner import RunOptions, run
from leviathan_local.engine.signals import stop_on_signals
from leviathan_local.errors import BacklogError
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.reports.files import write_halt_report


def run_headless(paths: RepoPaths, max_tasks: int | None = None, targets: tuple[str, ...] = (),
                 only: tuple[str, ...] = (), watch: bool = False, out: TextIO | None = None,
                 stop: threading.Event | None = None) -> int:
    out = out or sys.stdout
    options = RunOptions(max_tasks, tuple(targets), parse_only(only), watch, halt_report=write_halt_report,
                         on_waiting=_say_waiting(paths, out))
    stop = stop or threading.Event()
    with stop_on_signals(stop):
        report = run(paths, options, stop)
    for result in report.attempts:
        out.write(render_attempt(result, paths))
    for note in report.notes:
        out.write(f"note: {note}\n")
    if report.report_files:
        out.write(f"Report: {report.report_files[1]}\n")
    if report.halt_commit:
        out.write(f"Committed .leviathan/backlog.yaml ({report.halt_commit[:12]})\n")
    out.write(report.halt_line() + "\n")
    return report.exit_code


def _say_waiting(paths: RepoPaths, out: TextIO) -> Callable[[str], None]:
    """Say once what a --watch run waits for: again only when that changes (a file turned
    invalid, or valid again), never at every poll."""
    watched = " and ".join(str(path.relative_to(paths.root)) for path in (paths.backlog, paths.policy))
    said: list[str] = []

    def say(why: str) -> None:
        if said and said[-1] == why:
            return
        said.append(why)
        out.write(f"{why}: watching {watched} for changes; Ctrl-C stops the run\n")
        out.flush()

    return say


def parse_only(filters: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """`--only type=bug,docs --only scope=api` → {type: {bug, docs}, scope: {api}} (values lower-cased)."""
    parsed: dict[str, frozenset[str]] = {}
    for item in filters:
        key, separator, values = item.partition("=")
        if not separator or not key.strip() or not values.strip():
            raise BacklogError(f"--only {item!r} is not KEY=V1,V2", hint="for example: --only type=bug,docs")
        chosen = frozenset(v.strip().lower() for v in values.split(",") if v.strip())
        parsed[key.strip()] = parsed.get(key.strip(), frozenset()) | chosen
    return parsed
