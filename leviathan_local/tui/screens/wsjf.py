"""Edit a task's WSJF inputs (1..13 each; an empty field goes back to the estimate); Escape cancels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from leviathan_local.backlog.model import WSJF_INPUTS


class WsjfScreen(ModalScreen[dict[str, int | None] | None]):
    DEFAULT_CSS = """
    WsjfScreen { align: center middle; }
    WsjfScreen > Vertical { width: 64; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    WsjfScreen .hint { color: $text-muted; width: 1fr; }
    WsjfScreen .field { height: 3; }
    WsjfScreen .field Label { width: 18; padding: 1 0; }
    WsjfScreen .field Input { width: 1fr; }
    """
    AUTO_FOCUS = "Input"  # the app's own AUTO_FOCUS names a widget this screen does not have
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, task_id: str, current: dict[str, object]) -> None:
        super().__init__()
        self.task_id, self.current = task_id, current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"[b]WSJF inputs of {self.task_id}[/b]")
            yield Label("1 to 13 each; an empty field is estimated. Enter moves on and saves in the last "
                        "field; Escape cancels.", classes="hint")
            for name in WSJF_INPUTS:
                value = self.current.get(name)
                with Horizontal(classes="field"):
                    yield Label(name)
                    yield Input(value="" if value is None else str(value), placeholder="estimated", id=name,
                                restrict=r"\d*")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != WSJF_INPUTS[-1]:
            self.focus_next()
            return
        fields = {name: self.query_one(f"#{name}", Input).value for name in WSJF_INPUTS}
        self.dismiss({name: int(text) if text else None for name, text in fields.items()})

    def action_cancel(self) -> None:
        self.dismiss(None)
