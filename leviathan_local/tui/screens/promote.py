"""Promote a discovered TODO to a ready task: its acceptance criteria and allowed_paths shown and
editable first (ctrl+s promotes, Escape cancels). `leviathan ready` refuses a task without
acceptance criteria, and `plan` skips one without allowed_paths or a scope: this asks for both
rather than making them up, and keeps what was typed when one is missing or wrong."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea

from leviathan_local.backlog.validate import field_problem


@dataclass(frozen=True)
class Promotion:
    """What the dialog starts from (the task as the backlog has it, or as discovery would add it)
    and, dismissed, what the human settled on."""

    task_id: str
    where: str  # `TODO at src/x.py:3: the text`
    acceptance_criteria: tuple[str, ...]
    allowed_paths: tuple[str, ...]
    has_scope: bool = False


class PromoteScreen(ModalScreen[Promotion | None]):
    DEFAULT_CSS = """
    PromoteScreen { align: center middle; }
    PromoteScreen > Vertical { width: 76; max-width: 100%; max-height: 100%; height: auto; border: thick $primary;
                               background: $surface; padding: 0 1; }
    PromoteScreen .where, PromoteScreen .hint { color: $text-muted; width: 1fr; }
    PromoteScreen .heading { margin-top: 1; }
    PromoteScreen #acceptance_criteria { height: 5; }
    PromoteScreen #allowed_paths { height: 4; }
    PromoteScreen TextArea.-invalid { border: tall $error; }
    PromoteScreen .problem { color: $error; width: 1fr; display: none; }
    PromoteScreen .problem.-visible { display: block; }
    """
    AUTO_FOCUS = "#acceptance_criteria"
    BINDINGS = [Binding("ctrl+s", "promote", "Promote", priority=True), Binding("escape", "cancel", "Cancel")]

    def __init__(self, start: Promotion) -> None:
        super().__init__()
        self.start = start

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"[b]Promote {self.start.task_id} to ready[/b]")
            yield Label(self.start.where, classes="where", markup=False)
            yield Label("Acceptance criteria, one a line (what must be true when it is done):", classes="heading")
            yield TextArea("\n".join(self.start.acceptance_criteria), id="acceptance_criteria", soft_wrap=True)
            yield Label("", id="acceptance_criteria-problem", classes="problem", markup=False)
            yield Label("allowed_paths, one a line (globs, or directories ending in /):", classes="heading")
            yield TextArea("\n".join(self.start.allowed_paths), id="allowed_paths")
            yield Label("", id="allowed_paths-problem", classes="problem", markup=False)
            yield Label("ctrl+s promotes · Tab: next field · Escape cancels", classes="hint")

    def lines(self, field: str) -> tuple[str, ...]:
        return tuple(line.strip() for line in self.query_one(f"#{field}", TextArea).text.splitlines() if line.strip())

    def problems(self, criteria: tuple[str, ...], allowed: tuple[str, ...]) -> dict[str, str | None]:
        return {
            "acceptance_criteria": None if criteria else
            "at least one: `leviathan ready` refuses a task without acceptance criteria (nothing could verify it)",
            "allowed_paths": field_problem("allowed_paths", list(allowed)) or (
                None if allowed or self.start.has_scope else
                "at least one: `plan` skips a task with no allowed_paths and no scope, so it could never run"),
        }

    def action_promote(self) -> None:
        self.promote()

    def promote(self) -> None:
        """Close with the fields as settled, or mark what is missing and keep everything typed."""
        criteria, allowed = self.lines("acceptance_criteria"), self.lines("allowed_paths")
        problems = self.problems(criteria, allowed)
        for field, problem in problems.items():
            self.query_one(f"#{field}", TextArea).set_class(problem is not None, "-invalid")
            shown = self.query_one(f"#{field}-problem", Label)
            shown.update(problem or "")
            shown.set_class(problem is not None, "-visible")
        wrong = [field for field, problem in problems.items() if problem]
        if wrong:
            self.query_one(f"#{wrong[0]}", TextArea).focus()
            return
        self.dismiss(Promotion(self.start.task_id, self.start.where, criteria, allowed, self.start.has_scope))

    def action_cancel(self) -> None:
        self.dismiss(None)
