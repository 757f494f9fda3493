"""TODO/FIXME findings in the code, and promoting one to a ready task, its acceptance criteria and
allowed_paths settled in a dialog first (Discover tab)."""

from __future__ import annotations

from textual import work
from textual.binding import Binding

from leviathan_local.backlog.store import load_backlog, update_task
from leviathan_local.backlog.transitions import mark_ready
from leviathan_local.clock import format_timestamp, now
from leviathan_local.discovery.reconcile import Reconciliation, apply, run_discovery
from leviathan_local.discovery.tasks import Finding
from leviathan_local.errors import LeviathanError
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.tui.messages import BacklogWritten
from leviathan_local.tui.screens.promote import PromoteScreen, Promotion
from leviathan_local.tui.widgets.fitted_table import FittedTable

COLUMNS = ("id", "tag", "where", "text", "backlog")
# A narrow tab cuts the comment's text, then its place, before the backlog column goes out of sight.
SHRINK_STEPS = ((3, 16), (2, 16), (3, 8), (2, 10))


class DiscoverView(FittedTable):
    BINDINGS = [Binding("d", "scan", "Scan"), Binding("p", "promote", "Promote to ready")]

    def __init__(self, paths: RepoPaths, **kwargs) -> None:
        super().__init__(COLUMNS, SHRINK_STEPS, **kwargs)
        self.paths = paths
        self.findings: dict[str, Finding] = {}

    def shown(self) -> None:
        self.scan()

    def action_scan(self) -> None:
        self.scan()

    @work(thread=True, exclusive=True, group="discover")
    def scan(self) -> None:
        try:
            result, findings = run_discovery(self.paths, dry_run=True)
        except LeviathanError as error:
            self.app.call_from_thread(self.app.notify, error.message, title=error.title, severity="error")
            return
        new = {finding.id for finding in result.new}
        statuses = {task.id: task.status.value for task in load_backlog(self.paths).tasks}
        self.app.call_from_thread(self._show, findings, new, statuses)

    def _show(self, findings: list[Finding], new: set[str], statuses: dict[str, str]) -> None:
        self.findings = {finding.id: finding for finding in findings}
        self.set_rows({finding.id: (finding.id, finding.tag, f"{finding.path}:{finding.line}", finding.text,
                                    "not yet" if finding.id in new else statuses.get(finding.id, "?"))
                       for finding in findings})

    def action_promote(self) -> None:
        key = self.selected_key
        if key is not None:
            self.ask_promote(self.findings[key])

    @work(thread=True, exclusive=True, group="promote-ask")
    def ask_promote(self, finding: Finding) -> None:
        """Show the acceptance criteria and allowed_paths the task would be promoted with (the
        backlog's, or as discovery would add it), for the human to settle before anything is written."""
        try:
            start = promotion_start(self.paths, finding)
        except LeviathanError as error:
            self.app.call_from_thread(self.app.notify, f"{error.message}\n{error.hint or ''}", title=error.title,
                                      severity="error", timeout=10)
            return
        self.app.call_from_thread(self.app.push_screen, PromoteScreen(start),
                                  lambda settled: settled is not None and self.promote(finding, settled))

    @work(thread=True, exclusive=True, group="promote")
    def promote(self, finding: Finding, settled: Promotion) -> None:
        """Into the backlog if it is not there yet, with the fields as the human settled them, then ready."""
        try:
            tasks = load_backlog(self.paths).tasks
            if finding.id not in {task.id for task in tasks}:
                # This finding alone: a reconciliation against it alone would take every other
                # discovered task for one whose comment is gone, and block it.
                apply(self.paths, Reconciliation(new=[finding]))
            task = load_backlog(self.paths).task(finding.id)
            changes = {name: list(value) for name, value in (("acceptance_criteria", settled.acceptance_criteria),
                                                             ("allowed_paths", settled.allowed_paths))
                       if value and list(value) != task.get(name)}
            removals = () if settled.allowed_paths or "allowed_paths" not in task.data else ("allowed_paths",)
            if changes or removals:
                update_task(self.paths, finding.id, changes, removals)
            transition = mark_ready(self.paths, finding.id)
        except LeviathanError as error:
            self.app.call_from_thread(self.app.notify, f"{error.message}\n{error.hint or ''}", title=error.title,
                                      severity="error", timeout=10)
            return
        moved = f"{finding.id}: {transition.before.value} → {transition.after.value}"
        self.app.call_from_thread(self.app.notify, moved)
        self.post_message(BacklogWritten())  # the board and the tab on screen (this one) refresh


def promotion_start(paths: RepoPaths, finding: Finding) -> Promotion:
    """The task's acceptance criteria and allowed_paths as they are; for a finding not in the
    backlog yet, as discovery would add it, with the comment's words as a first criterion to edit."""
    task = load_backlog(paths).by_id.get(finding.id)
    data = task.data if task is not None else finding.as_task(format_timestamp(now()))
    criteria = tuple(task.acceptance_criteria) if task is not None else ()
    return Promotion(finding.id, f"{finding.tag} at {finding.path}:{finding.line}: {finding.text}",
                     criteria or (finding.description or finding.text,),
                     tuple(str(path) for path in data.get("allowed_paths") or ()), bool(data.get("scope")))
