"""The ranked backlog as a table (the main region)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from leviathan_local.board import SORT_KEYS, Board, BoardRow, sort_rows

STATUS_STYLES = {"new": "dim", "refined": "magenta", "ready": "bold blue", "doing": "bold yellow",
                 "review": "bold cyan", "done": "green", "blocked": "bold red"}
COLUMNS = ("#", "id", "title", "status", "score", "i/e", "age", "flags", "tries")
SORT_BY_COLUMN = {"#": "rank", "id": "id", "status": "status", "score": "score", "age": "age", "tries": "tries"}


class BacklogTable(DataTable):
    DEFAULT_CSS = """
    BacklogTable {
        height: 1fr;
    }
    """

    sort_key = "rank"

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for column in COLUMNS:
            self.add_column(column, key=column)

    def sort_by_column(self, column: str) -> str | None:
        """The sort key a click on ``column``'s header selects (None: that column does not sort)."""
        return SORT_BY_COLUMN.get(column)

    def show(self, board: Board, text_filter: str = "") -> None:
        """Replace the rows, keeping the cursor on the same task when it is still there."""
        selected = self.selected_task_id
        self.clear()
        needle = text_filter.lower()
        for row in sort_rows(board.rows, self.sort_key):
            if needle and needle not in f"{row.task.id} {row.task.title} {row.task.status.value}".lower():
                continue
            self.add_row(*_cells(row), key=row.task.id)
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected))

    def next_sort_key(self) -> str:
        return SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]

    @property
    def selected_task_id(self) -> str | None:
        if not self.row_count:
            return None
        key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return key.value


def _cells(row: BoardRow) -> tuple[object, ...]:
    terms = row.score.terms
    status = row.task.status.value
    return (
        "" if row.rank is None else str(row.rank),
        row.task.id,
        row.task.title,
        Text(status, style=STATUS_STYLES.get(status, "")),
        f"{row.score.value:.2f}",
        f"{terms.get('impact')}/{terms.get('effort')}",
        "" if row.age_days is None else f"{row.age_days}d",
        row.flags,
        str(row.task.attempts or ""),
    )
