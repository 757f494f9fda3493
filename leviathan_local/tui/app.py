"""The leviathan-local terminal app: the backlog live, ranked, with its actions, and a tab for
each other job (plan, run, review, discover, status).

Slow work runs in thread workers that answer with messages; a watcher worker reloads when
backlog.yaml or policy.yaml changes on disk, and a file that became invalid keeps the last
good board on screen with its problems listed.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Input, TabbedContent, TabPane

from leviathan_local.backlog.model import WSJF_INPUTS
from leviathan_local.backlog.transitions import block, mark_ready, set_wsjf_inputs, unblock
from leviathan_local.clock import now
from leviathan_local.errors import LeviathanError
from leviathan_local.planning.board import Board, load_board
from leviathan_local.planning.prefetch import Prefetch
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.tui.messages import (
    BacklogWritten, BoardFailed, BoardLoaded, BoardPrefetched, FilesChanged, RunFinished,
)
from leviathan_local.tui.palette import palette_commands
from leviathan_local.tui.screens.reason import ReasonScreen
from leviathan_local.tui.screens.wsjf import WsjfScreen
from leviathan_local.tui.views import TABS, VIEWS, focus_target, make_view, view_bindings
from leviathan_local.tui.widgets.backlog_table import BacklogTable
from leviathan_local.tui.widgets.problem_bar import ProblemBar
from leviathan_local.tui.widgets.task_detail import TaskDetail

__all__ = ["TABS", "LeviathanApp", "run_app"]


class LeviathanApp(App[None]):
    TITLE = "leviathan-local"
    AUTO_FOCUS = "#backlog"
    # Below 100 columns the task detail goes under the table, so the table keeps every column.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    CSS = """
    #tabs { height: 1fr; }
    #tabs > ContentSwitcher, #tabs TabPane { height: 1fr; }
    #filter { display: none; }
    #filter.-visible { display: block; }
    Footer.-compact FooterKey .footer-key--description { padding: 0 0 0 1; }
    Screen.-narrow #board { layout: vertical; }
    Screen.-narrow #board TaskDetail { width: 1fr; height: 40%; border-left: none; border-top: solid $primary; }
    """
    # The footer shows these in this order, after the focused tab's own keys: help and quit
    # first, so they stay in sight at 80 columns.
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        *(Binding(str(number), f"show_tab('{tab}')", tab.title(), show=False) for number, tab in enumerate(TABS, 1)),
        Binding("slash", "filter", "Filter"),
        Binding("r", "ready", "Ready"),
        Binding("b", "block", "Block"),
        Binding("u", "unblock", "Unblock"),
        Binding("w", "edit_wsjf", "WSJF"),
        Binding("o", "cycle_sort", "Sort"),
        Binding("ctrl+r", "reload", "Reload", show=False),
        Binding("t", "toggle_dark", "Theme", show=False),
    ]
    # Keys that act on the backlog's selected task: hidden (and inactive) on the other tabs,
    # where that task is not on screen.
    BACKLOG_ACTIONS = frozenset({"ready", "block", "unblock", "edit_wsjf", "cycle_sort"})

    def __init__(self, paths: RepoPaths, watch_files: bool = True, prefetch: Prefetch | None = None) -> None:
        super().__init__()
        self.paths, self.prefetch = paths, prefetch
        self.watch_files = watch_files
        self.board: Board | None = None
        self.sub_title = paths.root.name

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tabs"):
            with TabPane("1 Backlog", id="backlog-tab"), Vertical():
                yield Input(placeholder="words, status:ready type:bug flag:escalated (F1: all terms); Enter applies, "
                                        "Escape clears", id="filter")
                with Horizontal(id="board"):
                    yield BacklogTable(id="backlog")
                    yield TaskDetail(id="detail")
            for number, tab in enumerate(TABS[1:], 2):
                yield TabPane(f"{number} {tab.title()}", id=f"{tab}-tab")  # filled when first shown
        yield ProblemBar(id="problems")
        yield Footer()

    def on_mount(self) -> None:
        self.fit_footer(self.size.width)
        if self.prefetch is not None:
            self.receive_prefetch(self.prefetch)
        else:
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

    @work(thread=True, group="prefetch")
    def receive_prefetch(self, prefetch: Prefetch) -> None:
        self.post_message(BoardPrefetched(prefetch.board()))

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

    @on(BoardPrefetched)
    def show_prefetched(self, message: BoardPrefetched) -> None:
        """The first screenful from the forked child; the real board loads after this frame."""
        if message.board is not None and self.board is None:
            self.query_one(BacklogTable).show(message.board)  # type: ignore[arg-type]
            self.call_after_refresh(self.reload_board)
        elif self.board is None:
            self.reload_board()

    @on(BoardFailed)
    def show_failure(self, message: BoardFailed) -> None:
        problem = message.error.message + (f"\nhint: {message.error.hint}" if message.error.hint else "")
        self.query_one(ProblemBar).show_problem(problem)

    @on(FilesChanged)
    @on(BacklogWritten)
    @on(RunFinished)
    def backlog_changed(self) -> None:
        self.reload_board()
        self.refresh_tab(self.active_tab)

    @on(BacklogTable.TaskHighlighted)
    def show_selected(self) -> None:
        row = self.selected_row()
        self.query_one(TaskDetail).show(self.board, row)

    @on(BacklogTable.HeaderClicked)
    def header_clicked(self, event: BacklogTable.HeaderClicked) -> None:
        key = self.query_one(BacklogTable).sort_by_column(event.column)
        if key is not None:
            self.sort_backlog(key)

    @on(Input.Submitted, "#filter")
    def apply_filter(self) -> None:
        if self.board:
            self.query_one(BacklogTable).show(self.board, self.query_one("#filter", Input).value)
        self.query_one(BacklogTable).focus()

    def on_resize(self, event: events.Resize) -> None:
        self.fit_footer(event.size.width)

    @on(TabbedContent.TabActivated)
    async def tab_shown(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()  # the backlog's keys show on its tab only
        if event.pane.id != self.query_one(TabbedContent).active:
            return  # a late message about a tab that is no longer shown: focusing it would switch back
        tab = (event.pane.id or "").removesuffix("-tab")
        view = await self.view(tab)
        if view is not None:
            view.shown()  # type: ignore[attr-defined]
        # A click on the tab bar arrives here with the focus still outside the pane.
        if event.pane.id == self.query_one(TabbedContent).active and (
                self.focused is None or event.pane not in self.focused.ancestors_with_self):
            self.screen.set_focus(self.query_one(focus_target(tab)))

    async def view(self, tab: str) -> Widget | None:
        """The tab's view, built and mounted the first time it is needed (None for the backlog)."""
        if tab not in VIEWS:
            return None
        found = self.query(f"#{tab}")
        if found:
            return found.first()
        panes = self.query(f"#{tab}-tab")
        if not panes:
            return None  # the app is closing
        view = make_view(tab, self.paths)
        await panes.first().mount(view)
        return view

    async def in_view(self, tab: str, method: str) -> None:
        """Show ``tab`` and call one of its view's methods (palette entries for view actions)."""
        view = await self.view(tab)
        await self.action_show_tab(tab)
        getattr(view, method)()

    @property
    def active_tab(self) -> str:
        """The tab on screen ("backlog" before the tabs exist)."""
        try:
            return self.screen_stack[0].query_one(TabbedContent).active.removesuffix("-tab") or "backlog"
        except (NoMatches, IndexError):
            return "backlog"

    def fit_footer(self, width: int) -> None:
        """Below 100 columns the footer drops its padding, so every key of a tab fits in 80."""
        for footer in self.query(Footer):
            footer.compact = width < 100

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.active_tab == "backlog" if action in self.BACKLOG_ACTIONS else True

    def refresh_tab(self, tab: str) -> None:
        found = self.query(f"#{tab}") if tab in VIEWS else None
        if found:
            found.first().shown()  # type: ignore[attr-defined]

    # --- actions ------------------------------------------------------------------------------

    async def action_show_tab(self, tab: str) -> None:
        await self.view(tab)  # built before its pane is shown
        # Focus moves first: hiding the pane that holds the focus would hand it to a hidden
        # neighbour, and a focused widget in a hidden pane switches the tabs back to it.
        self.screen.set_focus(self.query_one(focus_target(tab)))
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
            current = {name: row.task.get(name) for name in WSJF_INPUTS}
            estimates = {name: (row.score.terms.get(name, "?"), reason)
                         for name, reason in row.score.estimate_reasons.items() if name in WSJF_INPUTS}
            self.push_screen(WsjfScreen(row.task.id, current, estimates),
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
        from leviathan_local.tui.screens.help import HelpScreen  # Markdown costs 50 ms at start

        self.push_screen(HelpScreen(self.key_sections()))

    def key_sections(self) -> dict[str, list[Binding]]:
        """The app's keys and each tab's own keys, as the help screen lists them."""
        tabs = Binding(",".join(str(n) for n in range(1, len(TABS) + 1)), "", f"Show tab 1 to {len(TABS)}")
        keys = [b for b in self.BINDINGS if isinstance(b, Binding) and not b.action.startswith("show_tab")]
        sections = {"Everywhere": [tabs] + [b for b in keys if b.action not in self.BACKLOG_ACTIONS],
                    "Backlog tab": [b for b in keys if b.action in self.BACKLOG_ACTIONS]}
        sections.update({f"{tab.title()} tab": bindings for tab, bindings in view_bindings().items() if bindings})
        return sections

    def action_reload(self) -> None:
        self.reload_board()

    async def action_filter(self) -> None:
        await self.action_show_tab("backlog")
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

    async def action_quit(self) -> None:
        """Quitting stops a run cleanly first: ShutdownRequested, then the halt commit."""
        for run_view in self.query("#run"):
            if getattr(run_view, "running", False):
                run_view.request_stop()  # type: ignore[attr-defined]
                self.notify("Stopping the run before quitting...")
                await self.workers.wait_for_complete([w for w in self.workers if w.group == "run"])
        self.exit()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from palette_commands(self)

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
        moved = transition.changed and transition.before is not transition.after
        self.call_from_thread(self.notify, f"{task_id}: {transition.before.value} → {transition.after.value}"
                              if moved else f"{task_id}: {transition.note}")
        self.reload_board()


def run_app(paths: RepoPaths, prefetch: Prefetch | None = None) -> None:
    LeviathanApp(paths, prefetch=prefetch).run()
