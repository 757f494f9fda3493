"""The leviathan-local terminal app: the backlog live, ranked, with its actions.

Slow work (loading and scoring the backlog, writing a status change) runs in thread workers
that answer with messages; a watcher worker reloads the board when backlog.yaml or
policy.yaml changes on disk, and a file that became invalid keeps the last good board on
screen with its problems listed.
"""

from __future__ import annotations

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input

from leviathan_local.board import Board, load_board
from leviathan_local.clock import now
from leviathan_local.errors import LeviathanError
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.transitions import mark_ready, unblock
from leviathan_local.tui.messages import BoardFailed, BoardLoaded, FilesChanged
from leviathan_local.tui.widgets.backlog_table import BacklogTable
from leviathan_local.tui.widgets.problem_bar import ProblemBar
from leviathan_local.tui.widgets.task_detail import TaskDetail


class LeviathanApp(App[None]):
    TITLE = "leviathan-local"
    AUTO_FOCUS = "#backlog"
    CSS = """
    #filter { display: none; }
    #filter.-visible { display: block; }
    """
    BINDINGS = [
        Binding("r", "ready", "Mark ready"),
        Binding("u", "unblock", "Unblock"),
        Binding("slash", "filter", "Filter"),
        Binding("ctrl+r", "reload", "Reload"),
        Binding("t", "toggle_dark", "Theme"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, paths: RepoPaths, watch_files: bool = True) -> None:
        super().__init__()
        self.paths = paths
        self.watch_files = watch_files
        self.board: Board | None = None
        self.sub_title = paths.root.name

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="filter by id, title or status; Enter to apply, Escape to clear", id="filter")
        with Horizontal():
            yield BacklogTable(id="backlog")
            yield TaskDetail(id="detail")
        yield ProblemBar(id="problems")
        yield Footer()

    def on_mount(self) -> None:
        self.reload_board()
        if self.watch_files:
            self.watch_backlog()

    # --- workers ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load")
    def reload_board(self) -> None:
        try:
            self.post_message(BoardLoaded(load_board(self.paths, now())))
        except LeviathanError as error:
            self.post_message(BoardFailed(error))

    @work(exclusive=True, group="watch")
    async def watch_backlog(self) -> None:
        from watchfiles import awatch  # imported here: only a watching app pays for it

        # The directory is watched, not the files: atomic saves replace the files' inodes.
        names = {self.paths.backlog.name, self.paths.policy.name}
        async for changes in awatch(self.paths.leviathan_dir, debounce=100, step=20):
            if any(path.rsplit("/", 1)[-1] in names for _, path in changes):
                self.post_message(FilesChanged())

    # --- messages -----------------------------------------------------------------------------

    @on(BoardLoaded)
    def show_board(self, message: BoardLoaded) -> None:
        self.board = message.board
        self.query_one(ProblemBar).show_problem(None)
        self.query_one(BacklogTable).show(message.board, self.query_one("#filter", Input).value)
        self.show_selected()

    @on(BoardFailed)
    def show_failure(self, message: BoardFailed) -> None:
        problem = message.error.message + (f"\nhint: {message.error.hint}" if message.error.hint else "")
        self.query_one(ProblemBar).show_problem(problem)

    @on(FilesChanged)
    def files_changed(self) -> None:
        self.reload_board()

    @on(DataTable.RowHighlighted)
    def show_selected(self) -> None:
        task_id = self.query_one(BacklogTable).selected_task_id
        row = self.board.row(task_id) if self.board and task_id else None
        self.query_one(TaskDetail).show(row)

    @on(Input.Submitted, "#filter")
    def apply_filter(self) -> None:
        if self.board:
            self.query_one(BacklogTable).show(self.board, self.query_one("#filter", Input).value)
        self.query_one(BacklogTable).focus()

    # --- actions ------------------------------------------------------------------------------

    def action_ready(self) -> None:
        self.change_selected(mark_ready)

    def action_unblock(self) -> None:
        self.change_selected(unblock)

    def action_reload(self) -> None:
        self.reload_board()

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.add_class("-visible")
        field.focus()

    def key_escape(self) -> None:
        field = self.query_one("#filter", Input)
        if field.has_class("-visible"):
            field.value = ""
            field.remove_class("-visible")
            self.apply_filter()

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    @work(thread=True, exclusive=True, group="change")
    def change_selected(self, change) -> None:
        """Apply a status change to the selected task (same checks and no-loss writes as the CLI)."""
        task_id = self.query_one(BacklogTable).selected_task_id
        if task_id is None:
            return
        try:
            transition = change(self.paths, task_id)
        except LeviathanError as error:
            self.call_from_thread(self.notify, error.message, title=error.title, severity="error")
            return
        self.call_from_thread(self.notify, f"{task_id}: {transition.before.value} → {transition.after.value}"
                              if transition.changed else f"{task_id}: {transition.note}")
        self.reload_board()


def run_app(paths: RepoPaths) -> None:
    LeviathanApp(paths).run()
