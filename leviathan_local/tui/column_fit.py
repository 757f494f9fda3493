"""Columns narrowed to the width a table has: named columns give up characters in steps, each
down to its floor, before any other column is pushed off the edge (the backlog table, and the
Review and Discover lists)."""

from __future__ import annotations

from collections.abc import Sequence


def fitted_widths(widths: Sequence[int], available: int, steps: Sequence[tuple[int, int]], overhead: int) -> list[int]:
    """``widths`` narrowed so that their sum plus ``overhead`` (padding, gaps) fits ``available``
    cells (0: not laid out yet), by ``steps`` of (column index, floor) in order."""
    fitted = list(widths)
    over = sum(widths) + overhead - available
    for column, floor in steps:
        if available <= 0 or over <= 0:
            break
        cut = min(over, max(fitted[column] - floor, 0))
        fitted[column] -= cut
        over -= cut
    return fitted


def cut(text: str, width: int) -> str:
    """``text`` in ``width`` cells, an ellipsis where it was cut."""
    return text if len(text) <= width else text[:max(width - 1, 0)] + "…"
