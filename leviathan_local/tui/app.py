"""The leviathan-local terminal app: the backlog live, ranked, with its actions, and a tab for
each other job (plan, run, review, discover, status).

Slow work runs in thread workers that answer with messages; a watcher worker reloads when
backlog.yaml or policy.yaml changes on disk, and a file that became invalid keeps the last
good board on screen with its problems listed.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, TabbedContent, TabPane

from leviathan_local.board import Board, load_board
from leviathan_local.clock import now
from leviathan_local.errors import LeviathanError
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.transitions import block, mark_ready, set_wsjf_inputs, unblock
from leviathan_local.tui.messages import BacklogWritten, BoardFailed, BoardLoaded, FilesChanged, RunFinished
from leviathan_local.tui.screens.help import HelpScreen
from leviathan_local.tui.screens.reason import ReasonScreen
from leviathan_local.tui.screens.wsjf import WsjfScreen
from leviathan_local.tui.widgets.backlog_table import BacklogTable
from leviathan_local.tui.widgets.discover_view import DiscoverView
from leviathan_local.tui.widgets.plan_view import PlanView
from leviathan_local.tui.widgets.problem_bar import ProblemBar
from leviathan_local.tui.widgets.review_view import ReviewView
from leviathan_local.tui.widgets.run_view import RunView
from leviathan_local.tui.widgets.status_view import StatusView
from leviathan_local.tui.widgets.task_detail import TaskDetail

TABS = ("backlog", "plan", "run", "review", "discover", "status")


class LeviathanApp(App[None]):
    TITLE = "leviathan-local"
    AUTO_FOCUS = "#backlog"
    # Below 100 columns the task detail goes under the table, so the table keeps every column.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    CSS = """
    #filter { display: none; }
    #filter.-visible { display: block; }
    Screen.-narrow #board { layout: vertical; }
    Screen.-narrow #board TaskDetail { width: 1fr; height: 40%; border-left: none; border-top: solid $primary; }
    """
    BINDINGS = [
        *(Binding(str(number), f"show_tab('{tab}')", tab.title(), show=False) for number, tab in enumerate(TABS, 1)),
        Binding("r", "ready", "Ready"),
        Binding("b", "block", "Block"),
        Binding("u", "unblock", "Unblock"),
        Binding("w", "edit_wsjf", "WSJF"),
        Binding("slash", "filter", "Filter"),
        Binding("o", "cycle_sort", "Sort"),
        Binding("ctrl+r", "reload", "Reload", show=False),
        Binding("t", "toggle_dark", "Theme", show=False),
        Binding("f1,question_mark", "help", "Help", key_display="?"),
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
        with TabbedContent(id="tabs"):
            with TabPane("1 Backlog", id="backlog-tab"), Vertical():
                yield Input(placeholder="filter by id, title or status; Enter applies, Escape clears", id="filter")
                with Horizontal(id="board"):
                    yield BacklogTable(id="backlog")
                    yield TaskDetail(id="detail")
            with TabPane("2 Plan", id="plan-tab"):
                yield PlanView(self.paths, id="plan")
            with TabPane("3 Run", id="run-tab"):
                yield RunView(self.paths, id="run")
            with TabPane("4 Review", id="review-tab"):
                yield ReviewView(self.paths, id="review")
            with TabPane("5 Discover", id="discover-tab"):
                yield DiscoverView(self.paths, id="discover")
            with TabPane("6 Status", id="status-tab"):
                yield StatusView(self.paths, id="status")
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
    @on(BacklogWritten)
    @on(RunFinished)
    def backlog_changed(self) -> None:
        self.reload_board()
        self.refresh_tab(self.query_one(TabbedContent).active.removesuffix("-tab"))

    @on(DataTable.RowHighlighted, "#backlog")
    def show_selected(self) -> None:
        row = self.selected_row()
        self.query_one(TaskDetail).show(self.board, row)

    @on(DataTable.HeaderSelected, "#backlog")
    def header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = self.query_one(BacklogTable).sort_by_column(str(event.column_key.value))
        if key is not None:
            self.sort_backlog(key)

    @on(Input.Submitted, "#filter")
    def apply_filter(self) -> None:
        if self.board:
            self.query_one(BacklogTable).show(self.board, self.query_one("#filter", Input).value)
        self.query_one(BacklogTable).focus()

    @on(TabbedContent.TabActivated)
    def tab_shown(self, event: TabbedContent.TabActivated) -> None:
        tab = (event.pane.id or "").removesuffix("-tab")
        self.refresh_tab(tab)
        focus_target = {"backlog": "#backlog", "review": "#reviews", "discover": "#discover", "run": "#run #output",
                        "status": "#status", "plan": "#plan"}.get(tab)
        if focus_target:
            self.query_one(focus_target).focus()

    def refresh_tab(self, tab: str) -> None:
        if tab == "plan":
            self.query_one(PlanView).refresh_plan()
        elif tab == "review":
            self.query_one(ReviewView).refresh_reviews()
        elif tab == "discover":
            self.query_one(DiscoverView).scan()
        elif tab == "status":
            self.query_one(StatusView).refresh_status()

    # --- actions ------------------------------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = f"{tab}-tab"

    def action_ready(self) -> None:
        self.change_selected(mark_ready)

    def action_unblock(self) -> None:
        self.change_selected(unblock)

    def action_block(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.push_screen(ReasonScreen(f"Why is {row.task.id} blocked?"),
                             lambda reason: reason and self.change_selected(block, reason))

    def action_edit_wsjf(self) -> None:
        row = self.selected_row()
        if row is not None:
            current = {name: row.task.get(name) for name in ("impact", "time_criticality", "risk_reduction", "effort")}
            self.push_screen(WsjfScreen(row.task.id, current),
                             lambda values: values is not None and self.change_selected(set_wsjf_inputs, values))

    def action_cycle_sort(self) -> None:
        self.sort_backlog(self.query_one(BacklogTable).next_sort_key())

    def sort_backlog(self, key: str) -> None:
        table = self.query_one(BacklogTable)
        table.sort_key = key
        self.sub_title = self.paths.root.name + ("" if key == "rank" else f" · sorted by {key}")
        if self.board:
            table.show(self.board, self.query_one("#filter", Input).value)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_sections()))

    def key_sections(self) -> dict[str, list[Binding]]:
        """The app's keys and each tab's own keys, as the help screen lists them."""
        views = {"run": RunView, "review": ReviewView, "discover": DiscoverView, "status": StatusView}
        sections = {"Everywhere": [Binding(",".join(str(n) for n in range(1, len(TABS) + 1)), "", "Show tab 1 to 6")]
                    + [b for b in self.BINDINGS if isinstance(b, Binding) and b.show]}
        sections.update({f"{tab.title()} tab": [b for b in view.BINDINGS if isinstance(b, Binding)]
                         for tab, view in views.items()})
        return sections

    def action_reload(self) -> None:
        self.reload_board()

    def action_filter(self) -> None:
        self.action_show_tab("backlog")
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

    def action_start_run(self) -> None:
        self.action_show_tab("run")
        self.query_one(RunView).start()

    def action_stop_run(self) -> None:
        self.query_one(RunView).request_stop()

    async def action_quit(self) -> None:
        """Quitting stops a run cleanly first: ShutdownRequested, then the halt commit."""
        run_view = self.query_one(RunView)
        if run_view.running:
            run_view.request_stop()
            self.notify("Stopping the run before quitting...")
            await self.workers.wait_for_complete([w for w in self.workers if w.group == "run"])
        self.exit()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action in the command palette (ctrl+p)."""
        yield from super().get_system_commands(screen)
        for tab in TABS:
            yield SystemCommand(f"Show {tab}", f"Switch to the {tab} tab", lambda tab=tab: self.action_show_tab(tab))
        for title, help_text, action in (
            ("Mark ready", "The selected task becomes ready (it needs acceptance criteria)", self.action_ready),
            ("Block", "Block the selected task with a reason", self.action_block),
            ("Unblock", "Return the selected task to its previous status", self.action_unblock),
            ("Edit WSJF inputs", "Impact, time criticality, risk reduction, effort", self.action_edit_wsjf),
            ("Filter", "Filter the backlog by text", self.action_filter),
            ("Sort", "Sort the backlog by the next key (rank, score, age, status, id, tries)", self.action_cycle_sort),
            ("Reload", "Read backlog.yaml and policy.yaml again", self.action_reload),
            ("Start run", "Run the top-ranked tasks until a halt reason", self.action_start_run),
            ("Stop run", "Stop the run cleanly (ShutdownRequested)", self.action_stop_run),
            ("Scan for TODOs", "Discover tagged comments (dry run)", lambda: self.query_one(DiscoverView).scan()),
            ("Promote finding", "The selected finding becomes a ready task",
             lambda: self.query_one(DiscoverView).action_promote()),
            ("Approve review", "Merge the selected review branch", lambda: self.query_one(ReviewView).action_approve()),
            ("Reject review", "Reject the selected review branch with a reason",
             lambda: self.query_one(ReviewView).action_reject()),
            ("New status report", "Write DOCS/status/<timestamp>.*", lambda: self.query_one(StatusView).generate()),
        ):
            yield SystemCommand(title, help_text, action)

    # --- helpers ------------------------------------------------------------------------------

    def selected_row(self):
        task_id = self.query_one(BacklogTable).selected_task_id
        return self.board.row(task_id) if self.board and task_id else None

    @work(thread=True, exclusive=True, group="change")
    def change_selected(self, change, *arguments) -> None:
        """Apply a change to the selected task (same checks and no-loss writes as the CLI)."""
        task_id = self.call_from_thread(lambda: self.query_one(BacklogTable).selected_task_id)
        if task_id is None:
            return
        try:
            transition = change(self.paths, task_id, *arguments)
        except LeviathanError as error:
            self.call_from_thread(self.notify, f"{error.message}\n{error.hint or ''}", title=error.title,
                                  severity="error", timeout=10)
            return
        self.call_from_thread(self.notify, f"{task_id}: {transition.before.value} → {transition.after.value}"
                              if transition.changed else f"{task_id}: {transition.note}")
        self.reload_board()


def run_app(paths: RepoPaths) -> None:
    LeviathanApp(paths).run()
