"""A run driven from the app: the micro-cycle as a progress strip, live output, the halt (Run tab).

The engine runs in a thread worker; the view follows it by reading the event log and the
current attempt's log as they grow, so the UI never waits on the run.
"""

from __future__ import annotations

import json
import os
import threading

from textual import work
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import RichLog, Static

from leviathan_local.repo_paths import RepoPaths
from leviathan_local.runner import RunOptions, run
from leviathan_local.tui.messages import RunFinished

ATTEMPT_BOUNDARIES = ("attempt.started", "attempt.succeeded", "attempt.failed", "attempt.escalated")
MAX_CHUNK_BYTES = 16_384  # output shown per refresh (0.2 s); more than that is summarised
PHASES = ("red", "green", "refactor", "gates", "commit")
STYLES = {"running": "bold yellow", "passed": "bold green", "failed": "bold red", "skipped": "dim strike",
          "pending": "dim"}


class RunView(Vertical):
    DEFAULT_CSS = """
    RunView #strip { height: 1; padding: 0 1; }
    RunView #run-state { height: auto; padding: 0 1; color: $text-muted; }
    RunView RichLog { height: 1fr; border: round $primary; }
    """
    BINDINGS = [Binding("s", "toggle_run", "Start/stop run")]

    def __init__(self, paths: RepoPaths, **kwargs) -> None:
        super().__init__(**kwargs)
        self.paths = paths
        self.stop: threading.Event | None = None
        self.phases: dict[str, tuple[str, float | None]] = {}
        self.attempt: str | None = None
        self._event_offset = 0
        self._log_offset = 0

    def compose(self):
        yield Static(id="strip")
        yield Static("No run yet. Press s to start one.", id="run-state")
        yield RichLog(id="output", wrap=True, max_lines=2000)

    def on_mount(self) -> None:
        self._draw_strip()
        self.set_interval(0.2, self.follow)

    def shown(self) -> None:
        """Nothing to fetch: the view follows the run on its own."""

    @property
    def running(self) -> bool:
        return self.stop is not None

    def action_toggle_run(self) -> None:
        if self.running:
            self.request_stop()
        else:
            self.start()

    def start(self) -> None:
        if self.running:
            return
        events_file = self.paths.state_dir / "events.ndjson"
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
            report = run(self.paths, RunOptions(), stop)
            outcome = f"Halted: {report.halt_reason.value}" + "".join(f"\nnote: {n}" for n in report.notes)
        except Exception as error:  # noqa: BLE001 - shown, not raised: the app must stay up
            outcome = f"The run failed: {getattr(error, 'message', error)}"
        self.app.call_from_thread(self._finished, outcome)

    def _finished(self, outcome: str) -> None:
        self.follow()
        self.stop = None
        self.query_one("#run-state", Static).update(outcome.replace("[", "\\["))
        self.post_message(RunFinished(outcome))

    def follow(self) -> None:
        """Catch up with the event log and the current attempt's output, in the order they happened."""
        if not self.running and self.attempt is None:
            return
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
        path = self.paths.state_dir / "events.ndjson"
        if not path.exists():
            return []
        with open(path, "rb") as handle:
            handle.seek(self._event_offset)
            data = handle.read()
        complete = data[:data.rfind(b"\n") + 1]
        self._event_offset += len(complete)
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def _apply(self, event: dict) -> None:
        kind, data = event.get("kind"), event.get("data") or {}
        if kind == "attempt.started":
            self.attempt, self._log_offset = data.get("attempt"), 0
            self.phases = {}
            self.query_one(RichLog).write(f"── {event.get('task')}: {self.attempt} on {data.get('branch')}")
        elif kind == "phase.started":
            self.phases[data.get("phase")] = ("running", None)
        elif kind == "phase.finished":
            self.phases[data.get("phase")] = (data.get("verdict"), data.get("seconds"))
        elif kind in ("attempt.succeeded", "attempt.failed", "attempt.escalated"):
            self.query_one(RichLog).write(f"── {event.get('task')}: {kind.split('.')[1]} {data.get('reason') or ''}")
        self._draw_strip()

    def _draw_strip(self) -> None:
        parts = []
        for phase in PHASES:
            state, seconds = self.phases.get(phase, ("pending", None))
            label = f"{phase} {seconds:.2f}s" if seconds is not None else phase
            parts.append(f"[{STYLES.get(state, '')}]{label}[/]")
        self.query_one("#strip", Static).update(" → ".join(parts))
