"""Tasks completed per run, one narrow bar a run (Status tab): one run is one bar, not a band
across the screen, and a run that completed nothing is a dot on the baseline, not a gap."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

BARS = " ▁▂▃▄▅▆▇█"
HEIGHT = 3  # lines
BAR_WIDTH = 3  # cells a run, and one between runs


class RunTrend(Static):
    DEFAULT_CSS = """
    RunTrend { height: 3; margin: 0 1; display: none; }
    """

    def show(self, completions: list[int]) -> None:
        self.display = bool(completions)
        self.update(bars(completions))


def bars(completions: list[int]) -> Text:
    """``HEIGHT`` lines of bars scaled from 0 to the most completed, eighths of a line each."""
    highest = max(completions, default=0)
    levels = [round(n / highest * HEIGHT * 8) if highest else 0 for n in completions]
    lines = []
    for row in reversed(range(HEIGHT)):
        line = Text()
        for count, level in zip(completions, levels):
            filled = min(max(level - row * 8, 0), 8)
            if count == 0:
                line.append(("·" if row == 0 else " ").center(BAR_WIDTH), style="dim")
            else:
                line.append(BARS[filled] * BAR_WIDTH, style="green")
            line.append(" ")
        lines.append(line)
    return Text("\n").join(lines)
