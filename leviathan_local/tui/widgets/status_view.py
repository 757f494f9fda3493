"""The latest status report, with a small chart of completions (Status tab)."""

from __future__ import annotations

from textual import work
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Label, Markdown, Sparkline

from leviathan_local.errors import LeviathanError
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.reports.files import history, make_report, previous_report, write_report
from leviathan_local.reports.markdown import render_markdown


class StatusView(VerticalScroll):
    DEFAULT_CSS = """
    StatusView Sparkline { height: 3; margin: 0 1; display: none; }
    StatusView Label { padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [Binding("g", "generate", "New report")]

    def __init__(self, paths: RepoPaths, **kwargs) -> None:
        super().__init__(**kwargs)
        self.paths = paths

    def compose(self):
        yield Label("Completed per report: no reports yet", id="trend")
        yield Sparkline([], id="completions")
        yield Markdown("No report yet. Press g to write one (runs write one when they halt).", id="report")

    def shown(self) -> None:
        self.refresh_status()

    @work(thread=True, exclusive=True, group="status")
    def refresh_status(self) -> None:
        report, reports = previous_report(self.paths), history(self.paths)
        self.app.call_from_thread(self._show, report, [float(r["items_completed"]) for r in reports])

    def _show(self, report: dict | None, completions: list[float]) -> None:
        # An empty sparkline draws full bars, which would read as "lots done": hide it instead.
        chart = self.query_one(Sparkline)
        chart.data, chart.display = completions, bool(completions)
        self.query_one("#trend", Label).update(
            f"Completed per report (last {len(completions)}): {', '.join(f'{n:g}' for n in completions[-12:])}"
            if completions else "Completed per report: no reports yet")
        if report is not None:
            self.query_one(Markdown).update(render_markdown(report, None))

    def action_generate(self) -> None:
        self.generate()

    @work(thread=True, exclusive=True, group="status-write")
    def generate(self) -> None:
        try:
            written = write_report(self.paths, make_report(self.paths))
        except LeviathanError as error:
            self.app.call_from_thread(self.app.notify, error.message, title=error.title, severity="error")
            return
        self.app.call_from_thread(self.app.notify, f"wrote {written.files[1]}")
        self.refresh_status()
