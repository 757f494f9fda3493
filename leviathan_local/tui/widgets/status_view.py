"""The latest status report, with a small chart of completions (Status tab)."""

from __future__ import annotations

from textual import work
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Label, Markdown

from leviathan_local.errors import LeviathanError
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.reports.files import make_report, previous_report, run_history, write_report
from leviathan_local.reports.markdown import render_markdown
from leviathan_local.tui.widgets.run_trend import RunTrend
from leviathan_local.wording import plural

NO_RUNS = "Tasks completed per run: no run has halted yet"


class StatusView(VerticalScroll):
    DEFAULT_CSS = """
    StatusView Label { padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [Binding("g", "generate", "New report")]

    def __init__(self, paths: RepoPaths, **kwargs) -> None:
        super().__init__(**kwargs)
        self.paths = paths

    def compose(self):
        yield Label(NO_RUNS, id="trend")
        yield RunTrend(id="completions")
        yield Markdown("No report yet. Press g to write one (runs write one when they halt).", id="report")

    def shown(self) -> None:
        self.refresh_status()

    @work(thread=True, exclusive=True, group="status")
    def refresh_status(self) -> None:
        # The runs' reports only: one written on demand covers the time since the last report,
        # often nothing, and would read as runs that completed nothing.
        report, runs = previous_report(self.paths), run_history(self.paths)
        self.app.call_from_thread(self._show, report, [int(r.get("items_completed") or 0) for r in runs])

    def _show(self, report: dict | None, completions: list[int]) -> None:
        self.query_one(RunTrend).show(completions)
        self.query_one("#trend", Label).update(
            f"Tasks completed per run (last {plural(len(completions), 'run')}): {', '.join(map(str, completions))}"
            if completions else NO_RUNS)
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
