"""Ask before an action that cannot be taken back (approving merges a branch): y or Enter goes
ahead, n or Escape does not."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 64; max-width: 90%; height: auto; border: thick $warning; background: $surface;
                               padding: 1 2; }
    ConfirmScreen .detail { width: 1fr; margin-top: 1; }
    ConfirmScreen .keys { width: 1fr; margin-top: 1; color: $text-muted; }
    """
    BINDINGS = [Binding("y,enter", "answer(True)", "Yes", priority=True),
                Binding("n,escape", "answer(False)", "No", priority=True)]

    def __init__(self, question: str, detail: str = "", yes: str = "yes") -> None:
        super().__init__()
        self.question, self.detail, self.yes = question, detail, yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"[b]{self.question}[/b]", markup=True)
            if self.detail:
                yield Label(self.detail, classes="detail", markup=False)
            yield Label(f"y or Enter: {self.yes}   n or Escape: cancel", classes="keys", markup=False)

    def action_answer(self, yes: bool) -> None:
        self.answer(yes)

    def answer(self, yes: bool) -> None:
        self.dismiss(yes)
