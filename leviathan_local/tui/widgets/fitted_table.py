"""A DataTable whose columns fit the width it has: named columns give up characters, cut with
an ellipsis, before the last ones would be pushed out of sight (the Review and Discover lists)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable

from leviathan_local.tui.column_fit import cut, fitted_widths


class FittedTable(DataTable):
    DEFAULT_CSS = """
    FittedTable { scrollbar-size-vertical: 1; }
    """

    def __init__(self, columns: Sequence[str], shrink_steps: Sequence[tuple[int, int]], **kwargs) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self.column_names, self.shrink_steps = tuple(columns), tuple(shrink_steps)
        self.rows_shown: dict[str, tuple[str, ...]] = {}  # key -> the cells in full
        self.fitted: list[int] = [len(name) for name in self.column_names]

    def on_mount(self) -> None:
        self.fit()

    def on_resize(self) -> None:
        self.fit()

    def set_rows(self, rows: dict[str, tuple[str, ...]]) -> None:
        """Replace the rows (key -> one text per column), the cursor staying on its key."""
        self.rows_shown = dict(rows)
        self.fit()

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return key.value

    def fit(self) -> None:
        """Lay the columns out again for the width there is now."""
        natural = [max([len(name)] + [len(cells[n]) for cells in self.rows_shown.values()])
                   for n, name in enumerate(self.column_names)]
        overhead = 2 * self.cell_padding * len(natural)
        self.fitted = fitted_widths(natural, self.scrollable_content_region.width, self.shrink_steps, overhead)
        selected = self.selected_key
        self.clear(columns=True)
        for name, width in zip(self.column_names, self.fitted):
            self.add_column(cut(name, width), width=width, key=name)
        for key, cells in self.rows_shown.items():
            self.add_row(*(cut(text, width) for text, width in zip(cells, self.fitted)), key=key)
        if selected in self.rows_shown:
            self.move_cursor(row=self.get_row_index(selected), animate=False)
