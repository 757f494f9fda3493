"""The dry-run plan: the ranked queue and every skipped task with its reason (Plan tab)."""

from __future__ import annotations

from textual import work
from textual.containers import VerticalScroll
from textual.widgets import Static

from leviathan_local.backlog.store import load_backlog
from leviathan_local.clock import now
from leviathan_local.commands.plan import render_plan
from leviathan_local.config.policy_load import load_policy
from leviathan_local.errors import LeviathanError
from leviathan_local.planning.selection import select
from leviathan_local.repo_paths import RepoPaths


class PlanView(VerticalScroll):
    DEFAULT_CSS = """
    PlanView { padding: 0 1; }
    """

    def __init__(self, paths: RepoPaths, **kwargs) -> None:
        super().__init__(**kwargs)
        self.paths = paths

    def compose(self):
        yield Static("Loading the plan...", id="plan-body")

    def shown(self) -> None:
        self.refresh_plan()

    @work(thread=True, exclusive=True, group="plan")
    def refresh_plan(self) -> None:
        try:
            selection = select(load_backlog(self.paths).tasks, load_policy(self.paths), now())
            text = render_plan(selection, None, with_explanation=True)
        except LeviathanError as error:
            text = f"{error.message}\n{error.hint or ''}"
        self.app.call_from_thread(self.query_one("#plan-body", Static).update, text.replace("[", "\\["))
