"""What is wrong with the files on disk, shown while the last good board stays (bottom region)."""

from __future__ import annotations

from textual.widgets import Static


class ProblemBar(Static):
    DEFAULT_CSS = """
    ProblemBar {
        display: none;
        height: auto;
        max-height: 8;
        background: $error 20%;
        color: $text;
        padding: 0 1;
    }
    ProblemBar.-visible {
        display: block;
    }
    """

    def show_problem(self, message: str | None) -> None:
        self.set_class(message is not None, "-visible")
        self.update((message or "").replace("[", "\\["))
