"""A run driven from the app: the micro-cycle as a progress strip, live output, the halt (Run tab).

The engine runs in a thread worker; the view follows it by reading the event log and the
current attempt's log as they grow, so the UI never waits on the run. Opened, the view shows
the latest run in the event log (one from the CLI too) the same way: its attempts' phases and
output as they were, and how it ended.

When it polls (every 0.2 s): while its own run is going, and while the last `run.started` it
has read has no `run.halted`/`run.failed` after it (a run in progress in another process, or
one that died). Otherwise it reads nothing until the tab is shown again, which then shows a run
started since (from the CLI or the app) and follows it if it is still going.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from textual import work
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import RichLog, Static

from leviathan_local.engine.runner import RunOptions, run
from leviathan_local.events import log_path
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.reports.files import write_halt_report
from leviathan_local.tui.messages import RunFinished
from leviathan_local.tui.widgets.progress_strip import Phases, ProgressStrip

ATTEMPT_BOUNDARIES = ("attempt.started", "attempt.succeeded", "attempt.failed", "attempt.escalated")
RUN_ENDS = ("run.halted", "run.failed")
MAX_CHUNK_BYTES = 16_384  # output shown per refresh (0.2 s); more than that is summarised


class RunView(Vertical):
    DEFAULT_CSS = """
    RunView #run-state { height: auto; padding: 0 1; color: $text-muted; }
    RunView RichLog { height: 1fr; border: round $primary; }
    """
    BINDINGS = [Binding("s", "toggle_run", "Start/stop run")]

    def __init__(self, paths: RepoPaths, **kwargs) -> None:
        super().__init__(**kwargs)
        self.paths = paths
        self.stop: threading.Event | None = None
        self.phases: Phases = {}
        self.attempt: str | None = None
        self.run_open = False  # the last `run.started` read has no run end after it yet
        self._event_offset = 0
        self._log_offset = 0

    def compose(self):
        yield ProgressStrip(id="strip")
        yield Static("No run yet. Press s to start one.", id="run-state")
        yield RichLog(id="output", wrap=True, max_lines=2000)

    def on_mount(self) -> None:
        self.call_after_refresh(self.show_last_run)  # once the log knows its width, to wrap lines to it
        self.set_interval(0.2, self.follow)

    def show_last_run(self) -> None:
        """The latest run in the event log, from its `run.started` on, unless it is already read
        (nothing: no run yet). Polling follows it from there if it is still going."""
        if self.polling:
            return
        start = last_run_offset(log_path(self.paths))
        if start is not None and start >= self._event_offset:
            self._event_offset = start
            self._catch_up()

    def shown(self) -> None:
        """A run started since the last look (from the CLI or the app), unless polling follows one."""
        self.call_after_refresh(self.show_last_run)

    @property
    def running(self) -> bool:
        return self.stop is not None

    @property
    def polling(self) -> bool:
        """Whether `follow` reads the logs: while a run is going, this view's own or another's."""
        return self.running or self.run_open

    def action_toggle_run(self) -> None:
        if self.running:
            self.request_stop()
        else:
            self.start()

    def start(self) -> None:
        if self.running:
            return
        events_file = log_path(self.paths)
        self._event_offset = events_file.stat().st_size if events_file.exists() else 0
        self.stop = threading.Event()
        self.query_one("#run-state", Static).update("Running... (s stops it cleanly)")
        self.run_engine(self.stop)

    def request_stop(self) -> None:
        if self.stop is not None:
            self.stop.set()
            self.query_one("#run-state", Static).update("Stopping: the running attempt ends, then the halt commit...")

    @work(thread=True, exclusive=True, group="run")
    def run_engine(self, stop: threading.Event) -> None:
        try:
            report = run(self.paths, RunOptions(halt_report=write_halt_report), stop)
            outcome = report.halt_line() + "".join(f"\nnote: {n}" for n in report.notes)
        except Exception as error:  # noqa: BLE001 - shown, not raised: the app must stay up
            outcome = f"The run failed: {getattr(error, 'message', error)}"
        self.app.call_from_thread(self._finished, outcome)

    def _finished(self, outcome: str) -> None:
        self.follow()
        self.stop = None
        self.query_one("#run-state", Static).update(outcome.replace("[", "\\["))
        self.post_message(RunFinished(outcome))

    def follow(self) -> None:
        """Catch up with the event log and the current attempt's output, in the order they happened
        (while polling: see the module's docstring)."""
        if self.polling:
            self._catch_up()

    def _catch_up(self) -> None:
        for event in self._new_events():
            if event.get("kind") in ATTEMPT_BOUNDARIES:
                self._drain_attempt_log()  # the attempt's last output comes before its verdict
            self._apply(event)
        self._drain_attempt_log()

    def _drain_attempt_log(self) -> None:
        if self.attempt is None:
            return
        log = self.paths.state_dir / "attempts" / f"{self.attempt}.log"
        if not log.exists():
            return
        output = self.query_one(RichLog)
        with open(log, "rb") as handle:
            end = handle.seek(0, os.SEEK_END)
            if end - self._log_offset > MAX_CHUNK_BYTES:
                # An agent printing faster than a screen can show: keep the UI responsive and
                # show the latest output; every byte stays in the attempt log.
                start = end - MAX_CHUNK_BYTES
                output.write(f"… {(start - self._log_offset) // 1024} KB not shown (all of it is in {log})")
                handle.seek(start)
                raw = handle.read(MAX_CHUNK_BYTES)
                chunk = raw[raw.find(b"\n") + 1:]  # from the first whole line
                self._log_offset = start + len(raw) - len(chunk)
            else:
                handle.seek(self._log_offset)
                chunk = handle.read(end - self._log_offset)
        # Only whole lines: a line still being written is shown once it is complete.
        chunk = chunk[:chunk.rfind(b"\n") + 1]
        self._log_offset += len(chunk)
        if chunk:
            output.write(chunk.decode("utf-8", errors="replace").rstrip("\n"))

    def _new_events(self) -> list[dict]:
        path = log_path(self.paths)
        if not path.exists():
            return []
        with open(path, "rb") as handle:
            handle.seek(self._event_offset)
            data = handle.read()
        complete = data[:data.rfind(b"\n") + 1]
        self._event_offset += len(complete)
        # A torn line (a run killed mid-write) is skipped: `leviathan events verify` reports it.
        return [event for event in map(_decode, complete.splitlines()) if event is not None]

    def _apply(self, event: dict) -> None:
        kind, data = event.get("kind"), event.get("data") or {}
        output = self.query_one(RichLog)
        if kind == "run.started":
            self.run_open = True
            output.write(f"══ run started {event.get('ts')}")
            self._show_state(f"A run started {event.get('ts')} and has not halted yet (in another process, "
                             "or it died; `leviathan run` says which).")
        elif kind in RUN_ENDS:
            self.run_open = False
            ended = f"{'halted' if kind == 'run.halted' else 'failed'}: {data.get('reason')}" \
                + (f": {data['detail']}" if data.get("detail") else "")
            output.write(f"══ {ended}")
            self._show_state(f"Last run {ended} ({event.get('ts')}). Press s to start one.")
        elif kind == "attempt.started":
            self.attempt, self._log_offset = data.get("attempt"), 0
            self.phases = {}
            output.write(f"── {event.get('task')}: {self.attempt} on {data.get('branch')}")
        elif kind == "phase.started":
            self.phases[data.get("phase")] = ("running", None)
        elif kind == "phase.finished":
            self.phases[data.get("phase")] = (data.get("verdict"), data.get("seconds"))
        elif kind in ("attempt.succeeded", "attempt.failed", "attempt.escalated"):
            output.write(f"── {event.get('task')}: {kind.split('.')[1]} {data.get('reason') or ''}")
            if data.get("failed_output"):
                output.write("   the test run's last lines:\n" + _indented(str(data["failed_output"])))
            for warning in data.get("warnings") or ():
                output.write(f"   warning: {warning}")
        self.query_one(ProgressStrip).show_phases(self.phases)

    def _show_state(self, text: str) -> None:
        """The line under the strip, for a run this view did not start (its own says more when it ends)."""
        if not self.running:
            self.query_one("#run-state", Static).update(text.replace("[", "\\["))


def _indented(text: str) -> str:
    return "\n".join(f"   | {line}" for line in text.splitlines())


def last_run_offset(path: Path, block: int = 1 << 16) -> int | None:
    """Where the event log's latest `run.started` line begins (None: no run yet), read backwards
    from the end a block at a time: a long log costs only its last run."""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return None
    with handle:
        position, data = handle.seek(0, os.SEEK_END), b""
        while position > 0:
            step = min(block, position)
            position -= step
            handle.seek(position)
            data = handle.read(step) + data
            lines = data.split(b"\n")
            for index in range(len(lines) - 1, 0 if position else -1, -1):  # lines[0] may be cut short
                if b"run.started" in lines[index] and _kind(lines[index]) == "run.started":
                    return position + sum(len(line) + 1 for line in lines[:index])
            data = lines[0]
    return None


def _kind(line: bytes) -> str | None:
    event = _decode(line)
    return None if event is None else event.get("kind")


def _decode(line: bytes) -> dict | None:
    """The event on an event log line (None: blank, torn or not an event)."""
    try:
        event = json.loads(line)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError (a character cut in two)
        return None
    return event if isinstance(event, dict) else None
