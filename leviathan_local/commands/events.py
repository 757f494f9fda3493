"""`leviathan events [--task ID] [--json]` and `leviathan events verify`."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from leviathan_local.errors import EXIT_OK, EXIT_WORK_FAILED
from leviathan_local.events import log_path, read_events, verify_chain
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.wording import suggestion


def run_events(paths: RepoPaths, task_id: str | None = None, as_json: bool = False,
               out: TextIO | None = None) -> int:
    out = out or sys.stdout
    events = read_events(paths, task_id=task_id)
    if as_json:
        for event in events:
            out.write(json.dumps(event.as_dict(), ensure_ascii=False) + "\n")
        return EXIT_OK
    if not events and task_id is None:
        out.write("no events yet\n")
    elif not events:  # a mistyped id, most likely: the log knows every task that ever had events
        logged = {event.task for event in read_events(paths) if event.task}
        out.write(f"no events for task {task_id}{suggestion(task_id, logged)}\n")
    for event in events:
        details = " ".join(f"{key}={value}" for key, value in event.data.items() if value not in (None, ""))
        out.write(f"{event.seq:>5}  {event.ts}  {event.kind:<16} {event.task or '-':<20} {details}\n".rstrip() + "\n")
    return EXIT_OK


def run_verify(paths: RepoPaths, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    report = verify_chain(paths)
    if report.ok:
        out.write(f"event log OK: {report.count} events, chain intact\n")
        return EXIT_OK
    seq = f" (seq {report.broken_seq})" if report.broken_seq is not None else ""
    out.write(f"event log BROKEN at line {report.broken_line}{seq}: {report.reason}\n"
              f"{report.count} events before it are intact; the log is {log_path(paths)}\n")
    return EXIT_WORK_FAILED
