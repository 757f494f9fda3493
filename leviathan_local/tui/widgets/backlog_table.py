"""The ranked backlog as a table (the main region).

Virtual: only the lines on screen are drawn, so a 10,000-task backlog costs what a screenful
does (a DataTable measures and stores every cell up front: seconds for 10,000 rows).
Every column fits the width the table has: the title (then the id) gives up characters,
cut with an ellipsis, before any other column would be pushed off the edge.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from leviathan_local.backlog.model import Status
from leviathan_local.planning.board import SORT_KEYS, Board, BoardRow, sort_rows
from leviathan_local.tui.backlog_filter import parse_filter
from leviathan_local.tui.column_fit import cut, fitted_widths

# The task's cost so far (every attempt's known agent costs) sits beside the WSJF effort it was estimated at.
COLUMNS = ("#", "id", "title", "status", "score", "i/e", "cost", "age", "flags", "tries")
SORT_BY_COLUMN = {"#": "rank", "id": "id", "status": "status", "score": "score", "cost": "cost", "age": "age",
                  "tries": "tries"}
MAX_WIDTHS = {"id": 28, "title": 48}
# When the table is narrow, the title and then the id give up characters in these steps,
# each down to its floor; below the last one the table scrolls sideways.
SHRINK_STEPS = ((2, 20), (1, 14), (2, 12), (1, 10))  # (column, floor): title, id, title, id
STATUS_WIDTH = max(len(status.value) for status in Status) + 2  # the badge: " blocked "
GAP = 1  # one space between columns


class BacklogTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    BacklogTable { height: 1fr; scrollbar-gutter: stable; scrollbar-size-vertical: 1; }
    BacklogTable > .backlog-table--header { text-style: bold; background: $panel; }
    BacklogTable > .backlog-table--zebra { background: $surface-lighten-1 10%; }
    BacklogTable > .backlog-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground;
                                            text-style: bold; }
    BacklogTable > .backlog-table--cursor-blurred { background: $block-cursor-blurred-background; }
    BacklogTable > .backlog-table--new { background: $panel-lighten-2; color: $text-muted; }
    BacklogTable > .backlog-table--refined { background: $secondary; color: auto; }
    BacklogTable > .backlog-table--ready { background: $success; color: auto; text-style: bold; }
    BacklogTable > .backlog-table--doing { background: $warning; color: auto; text-style: bold; }
    BacklogTable > .backlog-table--review { background: teal; color: auto; text-style: bold; }
    BacklogTable > .backlog-table--done { background: $success-darken-3; color: auto 80%; }
    BacklogTable > .backlog-table--blocked { background: $error; color: auto; text-style: bold; }
    """
    COMPONENT_CLASSES = {"backlog-table--header", "backlog-table--zebra", "backlog-table--cursor",
                         "backlog-table--cursor-blurred", *(f"backlog-table--{status.value}" for status in Status)}
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False), Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", show=False), Binding("pagedown", "page(1)", show=False),
        Binding("home", "edge(0)", show=False), Binding("end", "edge(1)", show=False),
    ]

    class TaskHighlighted(Message):
        """The cursor is on another task (or the rows changed under it)."""

        def __init__(self, task_id: str | None) -> None:
            super().__init__()
            self.task_id = task_id

    class HeaderClicked(Message):
        def __init__(self, column: str) -> None:
            super().__init__()
            self.column = column

    cursor_row: reactive[int] = reactive(0, always_update=True)
    sort_key = "rank"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._rows: list[BoardRow] = []
        self.shown_board: Board | None = None  # the board the rows come from
        self._cells: dict[int, tuple[str, ...]] = {}  # formatted on first display, then kept
        self._natural_widths: list[int] = [len(name) for name in COLUMNS]  # what the cells would take
        self._widths: list[int] = self._natural_widths  # what they get (the title shrinks to fit)

    # --- content -----------------------------------------------------------------------------

    def show(self, board: Board, text_filter: str = "") -> None:
        """Replace the rows, keeping the cursor on the same task when it is still there.
        ``text_filter`` is the filter box's text (see backlog_filter.py)."""
        selected = self.selected_task_id
        query = parse_filter(text_filter)
        rows = sort_rows(board.rows, self.sort_key)
        if query:
            rows = [row for row in rows if query.matches(row)]
        self._rows, self._cells, self.shown_board = rows, {}, board
        self._natural_widths = _column_widths(rows)
        self._fit_columns()
        index = self.get_row_index(selected) if selected is not None else None
        self.move_cursor(row=index if index is not None else min(self.cursor_row, max(len(rows) - 1, 0)))
        # The scroll range follows the new rows only after this refresh: a cursor far down a list
        # that was just unfiltered would otherwise be scrolled to within the short list's range.
        self.call_after_refresh(self.scroll_to_cursor)
        self.refresh()

    def on_resize(self) -> None:
        self._fit_columns()
        self.refresh()

    def _fit_columns(self) -> None:
        self._widths = _fitted(self._natural_widths, self.scrollable_content_region.width)
        self.virtual_size = Size(_line_width(self._widths), len(self._rows) + 1)

    @property
    def column_widths(self) -> dict[str, int]:
        return dict(zip(COLUMNS, self._widths))

    @property
    def task_ids(self) -> list[str]:
        return [row.task.id for row in self._rows]

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def selected_task_id(self) -> str | None:
        return self._rows[self.cursor_row].task.id if 0 <= self.cursor_row < len(self._rows) else None

    def get_row_index(self, task_id: str) -> int | None:
        return next((index for index, row in enumerate(self._rows) if row.task.id == task_id), None)

    def shows_title(self, title: str) -> bool:
        return any(row.task.title == title for row in self._rows)

    def next_sort_key(self) -> str:
        return SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]

    def sort_by_column(self, column: str) -> str | None:
        """The sort key a click on ``column``'s header selects (None: that column does not sort)."""
        return SORT_BY_COLUMN.get(column)

    # --- cursor ------------------------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        self.cursor_row = max(0, min(row, len(self._rows) - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self.scroll_to_cursor()
        self.refresh()
        self.post_message(self.TaskHighlighted(self.selected_task_id))

    def scroll_to_cursor(self) -> None:
        """Scroll just enough to bring the cursor's row into sight."""
        visible, row = max(self.scrollable_content_region.height - 1, 1), self.cursor_row
        if row < self.scroll_y:
            self.scroll_to(y=row, animate=False)
        elif row >= self.scroll_y + visible:
            self.scroll_to(y=row - visible + 1, animate=False)

    def action_cursor(self, step: int) -> None:
        self.move_cursor(self.cursor_row + step)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor_row + direction * max(self.scrollable_content_region.height - 2, 1))

    def action_edge(self, end: int) -> None:
        self.move_cursor(len(self._rows) - 1 if end else 0)

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            column = _column_at(self._widths, event.x + int(self.scroll_x))
            if column is not None:
                self.post_message(self.HeaderClicked(column))
            return
        self.move_cursor(int(self.scroll_y) + event.y - 1)

    # --- drawing -----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._strip(COLUMNS, self.get_component_rich_style("backlog-table--header"), None, width)
        index = int(self.scroll_y) + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        if index == self.cursor_row:
            name = "backlog-table--cursor" if self.has_focus else "backlog-table--cursor-blurred"
            base = self.rich_style + self.get_component_rich_style(name)
        elif index % 2:
            base = self.rich_style + self.get_component_rich_style("backlog-table--zebra")
        else:
            base = self.rich_style
        cells = self._cells.get(index)
        if cells is None:
            cells = self._cells[index] = _cells(self._rows[index])
        badge = self.get_component_rich_style(f"backlog-table--{self._rows[index].task.status.value}")
        return self._strip(cells, base, badge, width)

    def _strip(self, cells: tuple[str, ...], base: Style, badge: Style | None, width: int) -> Strip:
        """One line; with ``badge``, the status cell is a coloured label (its colour is not the only cue)."""
        segments = [Segment(" ", base)]
        for column, (text, column_width) in enumerate(zip(cells, self._widths)):
            if badge is not None and column == 3:
                label = f" {text} "[:column_width]
                segments += [Segment(label, base + badge), Segment(" " * (column_width - len(label) + GAP), base)]
                continue
            segments.append(Segment(cut(text, column_width).ljust(column_width) + " " * GAP, base))
        strip = Strip(segments).crop(int(self.scroll_x), int(self.scroll_x) + width)
        return strip.extend_cell_length(width, base)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()


def _cells(row: BoardRow) -> tuple[str, ...]:
    terms, value = row.score.terms, row.score.value
    scored = value == value  # NaN: a prefetched row whose score comes with the full board
    return ("" if row.rank is None else str(row.rank), row.task.id, row.task.title, row.task.status.value,
            f"{value:.2f}" if scored else "…", f"{terms.get('impact')}/{terms.get('effort')}" if scored else "",
            row.cost_text, "" if row.age_days is None else f"{row.age_days}d", row.flags, str(row.task.attempts or ""))


def _column_widths(rows: list[BoardRow]) -> list[int]:
    """Wide enough for the widest cell, capped for ids and titles (cheap: lengths of strings only)."""
    widths = [len(name) for name in COLUMNS]
    widths[3] = STATUS_WIDTH
    if rows:
        widths[0] = max(widths[0], len(str(len(rows))))
        widths[1] = max(widths[1], min(max(len(row.task.id) for row in rows), MAX_WIDTHS["id"]))
        widths[2] = max(widths[2], min(max(len(row.task.title) for row in rows), MAX_WIDTHS["title"]))
        widths[4] = 6  # "999.99": reading every score here would compute the lazy ones
        widths[5] = max(widths[5], 5)
        widths[6] = max(widths[6], max(len(row.cost_text) for row in rows))
        oldest = max((row.age_days for row in rows if row.age_days is not None), default=0)
        widths[7] = max(widths[7], len(f"{oldest}d"))
    return widths


def _fitted(widths: list[int], available: int) -> list[int]:
    """``widths`` narrowed to ``available`` cells (0: not laid out yet) by SHRINK_STEPS."""
    return fitted_widths(widths, available, SHRINK_STEPS, _line_width([0] * len(widths)))


def _line_width(widths: list[int]) -> int:
    return 1 + sum(widths) + GAP * len(widths)  # a space before the first column, a gap after each


def _column_at(widths: list[int], x: int) -> str | None:
    left = 1
    for name, width in zip(COLUMNS, widths):
        if left <= x < left + width + GAP:
            return name
        left += width + GAP
    return None
