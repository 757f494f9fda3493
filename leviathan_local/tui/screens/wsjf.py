"""Edit a task's WSJF inputs (1..13 each; an empty field goes back to the estimate); Escape cancels.

An empty field shows the estimate the score will use and why; a value out of range keeps every
field as typed and says what is wrong under the field.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from leviathan_local.backlog.model import WSJF_INPUTS
from leviathan_local.backlog.validate import field_problem


class WsjfScreen(ModalScreen[dict[str, int | None] | None]):
    DEFAULT_CSS = """
    WsjfScreen { align: center middle; }
    WsjfScreen > Vertical { width: 64; max-height: 100%; height: auto; border: thick $primary; background: $surface;
                            padding: 0 2; }
    WsjfScreen .hint { color: $text-muted; width: 1fr; }
    WsjfScreen .field { height: 3; }
    WsjfScreen .field Label { width: 18; padding: 1 0; }
    WsjfScreen .field Input { width: 1fr; }
    WsjfScreen .problem { color: $error; width: 1fr; padding-left: 18; display: none; }
    WsjfScreen .problem.-visible { display: block; }
    """
    AUTO_FOCUS = "Input"  # the app's own AUTO_FOCUS names a widget this screen does not have
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, task_id: str, current: dict[str, object],
                 estimates: dict[str, tuple[object, str]] | None = None) -> None:
        """``estimates``: for each input the task leaves out, the value its score uses and why."""
        super().__init__()
        self.task_id, self.current, self.estimates = task_id, current, estimates or {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"[b]WSJF inputs of {self.task_id}[/b]")
            yield Label("1 to 13 each; an empty field is estimated. Enter moves on and saves in the last "
                        "field; Escape cancels.", classes="hint")
            for name in WSJF_INPUTS:
                value = self.current.get(name)
                with Horizontal(classes="field"):
                    yield Label(name)
                    yield Input(value="" if value is None else str(value), placeholder=self.placeholder(name),
                                id=name, restrict=r"\d*")
                yield Label("", id=f"{name}-problem", classes="problem", markup=False)

    def placeholder(self, name: str) -> str:
        """What an empty field stands for: `5 (estimated: no keyword matched)`."""
        if name not in self.estimates:
            return "estimated"
        value, reason = self.estimates[name]
        return f"{value} (estimated: {reason})"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != WSJF_INPUTS[-1]:
            self.focus_next()
            return
        self.save()

    def save(self) -> None:
        """Close with the values, or, when one is out of range, mark it and keep every field as typed."""
        fields = {name: self.query_one(f"#{name}", Input).value for name in WSJF_INPUTS}
        values = {name: int(text) if text else None for name, text in fields.items()}
        problems = {name: field_problem(name, value) for name, value in values.items()}
        for name, problem in problems.items():
            self.query_one(f"#{name}", Input).set_class(problem is not None, "-invalid")
            shown = self.query_one(f"#{name}-problem", Label)
            shown.update(f"{name} {problem}" if problem else "")
            shown.set_class(problem is not None, "-visible")
        wrong = [name for name, problem in problems.items() if problem]
        if wrong:
            self.query_one(f"#{wrong[0]}", Input).focus()
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)
