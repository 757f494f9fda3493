"""Branches waiting for review: their diff, approve or reject with a reason (Review tab)."""

from __future__ import annotations

from typing import Any, Callable

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from leviathan_local.errors import LeviathanError
from leviathan_local.planning.cost import phase_cost, usd_text
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.review.approve import Approval, approve
from leviathan_local.review.diff import review_patch
from leviathan_local.review.pending import ReviewItem, evidence_lines, list_reviews
from leviathan_local.review.reject import reject
from leviathan_local.review.retry import Retry, retry
from leviathan_local.tui.messages import BacklogWritten
from leviathan_local.tui.screens.confirm import ConfirmScreen
from leviathan_local.tui.screens.reason import ReasonScreen
from leviathan_local.tui.widgets.fitted_table import FittedTable

COLUMNS = ("task", "title", "tries", "cost", "files", "+/-", "branch")
# Narrow, the branch (named in the diff's heading too) gives up characters first, then the title, then the id.
SHRINK_STEPS = ((6, 12), (1, 14), (0, 12), (6, 6), (1, 8))


def approved_message(approval: Approval) -> str:
    """What the app says after an approval: a merge, or none needed (merged by hand already)."""
    if approval.already_merged:
        return (f"{approval.task_id}: {approval.branch} was already merged (in {approval.commit[:12]}): "
                "no commit added; the branch is deleted")
    return f"{approval.task_id}: merged {approval.branch} as {approval.commit[:12]}"


def retried_message(retried: Retry) -> str:
    return (f"{retried.task_id}: back to ready for a fresh attempt from the new base (attempt not counted; "
            f"{retried.branch} conflicted in {', '.join(retried.conflicts)})")


def phase_line(phase: dict[str, Any]) -> str:
    """`green passed 1.93s` and, where an agent ran, what it used: `, $0.0120 (3,500 in / 100 out tokens)`."""
    spent = phase_cost(phase)
    return (f"{phase['name']} {phase['verdict']} {float(phase['seconds'] or 0):.2f}s"
            + (f"  {spent.text()}" if spent is not None else ""))


def review_cells(item: ReviewItem) -> tuple[str, ...]:
    """One line of the list: the task, its title, attempts and cost so far, the branch's change, the branch."""
    added, deleted = sum(f.added for f in item.files), sum(f.deleted for f in item.files)
    return (item.task_id, item.title, str(item.task_attempts), usd_text(item.task_cost_usd), str(len(item.files)),
            f"+{added} -{deleted}", item.branch)


class ReviewView(Vertical):
    # The list above the diff, both the whole width: every column of the list fits, and the code
    # gets the long lines it has.
    DEFAULT_CSS = """
    ReviewView #reviews { height: auto; max-height: 40%; }
    ReviewView #diff-pane { height: 1fr; border-top: solid $primary; }
    """
    BINDINGS = [Binding("a", "approve", "Approve"), Binding("x", "reject", "Reject"),
                Binding("e", "retry", "Rebase & retry")]

    def __init__(self, paths: RepoPaths, **kwargs) -> None:
        super().__init__(**kwargs)
        self.paths = paths
        self.items: dict[str, ReviewItem] = {}

    def compose(self):
        yield FittedTable(COLUMNS, SHRINK_STEPS, id="reviews")
        with VerticalScroll(id="diff-pane"):
            yield Static("Nothing waits for review.", id="diff")

    def shown(self) -> None:
        self.refresh_reviews()

    @work(thread=True, exclusive=True, group="reviews")
    def refresh_reviews(self) -> None:
        try:
            items = list_reviews(self.paths)
        except LeviathanError as error:
            self.app.call_from_thread(self.app.notify, error.message, title=error.title, severity="error")
            return
        self.app.call_from_thread(self._show, items)

    def _show(self, items: list[ReviewItem]) -> None:
        self.items = {item.task_id: item for item in items}
        self.query_one("#reviews", FittedTable).set_rows({item.task_id: review_cells(item) for item in items})
        if not items:
            self.query_one("#diff", Static).update("Nothing waits for review.")

    @property
    def selected(self) -> ReviewItem | None:
        key = self.query_one("#reviews", FittedTable).selected_key
        return None if key is None else self.items.get(key)

    @on(FittedTable.RowHighlighted, "#reviews")
    def show_diff(self) -> None:
        item = self.selected
        if item is not None and item.base and item.head:
            self.load_diff(item)

    @work(thread=True, exclusive=True, group="diff")
    def load_diff(self, item: ReviewItem) -> None:
        header = (f"{item.task_id}: {item.title}\nbranch {item.branch}, attempt {item.attempt_id}\n"
                  + "".join(f"{phase_line(p)}\n" for p in item.phases)
                  + (f"checked: {', '.join(item.gates)}\n" if item.gates else "")
                  + "".join(f"evidence {line}\n" for line in evidence_lines(item))
                  + f"cost: {item.cost_summary()}\n")
        theme = "ansi_dark" if self.app.current_theme.dark else "ansi_light"
        diff = Syntax(review_patch(self.paths, item.base, item.head), "diff", theme=theme, word_wrap=True)
        self.app.call_from_thread(self.query_one("#diff", Static).update, Group(Text(header), diff))

    def action_approve(self) -> None:
        self.ask_approve()

    def ask_approve(self) -> None:
        """Approving merges the branch into the default branch: ask first."""
        item = self.selected
        if item is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.apply(lambda: approve(self.paths, item.task_id), approved_message)

        self.app.push_screen(ConfirmScreen(f"Approve {item.task_id}?", f"Merges {item.branch} into the default "
                                           f"branch and marks {item.task_id} done.", yes="merge"), answered)

    def action_reject(self) -> None:
        item = self.selected
        if item is None:
            return

        def rejected(reason: str | None) -> None:
            if reason:
                self.apply(lambda: reject(self.paths, item.task_id, reason), f"{item.task_id}: rejected")

        self.app.push_screen(ReasonScreen(f"Why is {item.task_id} rejected? (the next attempt reads it)"), rejected)

    def action_retry(self) -> None:
        """Rebase and retry a branch that conflicts with the default branch: back to ready, uncounted."""
        item = self.selected
        if item is not None:
            self.apply(lambda: retry(self.paths, item.task_id), retried_message)

    @work(thread=True, exclusive=True, group="review-change")
    def apply(self, change, done: str | Callable[[Any], str]) -> None:
        """Make the change; then say so: ``done`` is the message, or makes it from the change's result."""
        try:
            result = change()
        except LeviathanError as error:
            self.app.call_from_thread(self.app.notify, f"{error.message}\n{error.hint or ''}", title=error.title,
                                      severity="error", timeout=10)
            return
        self.app.call_from_thread(self.app.notify, done if isinstance(done, str) else done(result))
        self.post_message(BacklogWritten())  # the board and the tab on screen (this one) refresh

