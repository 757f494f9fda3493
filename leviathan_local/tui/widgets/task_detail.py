"""The selected task in full: fields, acceptance criteria, the score term by term (side region)."""

from __future__ import annotations

from typing import Any

from textual.containers import VerticalScroll
from textual.widgets import Static

from leviathan_local.planning.attempt_history import task_cost_usd
from leviathan_local.planning.board import Board, BoardRow
from leviathan_local.planning.cost import usd_text
from leviathan_local.wording import plural

SHOWN_FIELDS = ("type", "scope", "allowed_paths", "dependencies", "attempts", "branch_name", "last_attempt_id",
                "blocked_type", "blocked_reason", "review_feedback", "completed_at", "source")
INLINE_LIST_WIDTH = 60  # a longer list reads better one item a line
SHOWN_ELSEWHERE = {"id", "task_id", "title", "status", "ready", "description", "acceptance_criteria", "impact",
                   "time_criticality", "risk_reduction", "effort"}


class TaskDetail(VerticalScroll):
    DEFAULT_CSS = """
    TaskDetail {
        width: 35%;
        min-width: 30;
        border-left: solid $primary;
        padding: 0 1;
    }
    TaskDetail > Static {
        width: 1fr;
    }
    """

    def compose(self):
        yield Static("Select a task.", id="detail-body")

    def show(self, board: Board | None, row: BoardRow | None) -> None:
        body = describe(row, board) if board is not None and row is not None else "Select a task."
        self.query_one("#detail-body", Static).update(body)


def describe(row: BoardRow, board: Board) -> str:
    task = row.task
    lines = [f"status: {task.status.value}" + (f" (skipped: {row.skip_reason})" if row.skip_reason
                                               else f" (rank {row.rank})")]
    if row.skip_detail:
        lines.append(f"  {row.skip_detail}")
    if task.description:
        lines += ["", task.description]
    for name in SHOWN_FIELDS:
        lines += field_lines(name, task.get(name))
    # Every other field the human (or a tool) wrote, in the file's order.
    for name, value in task.data.items():
        if name not in SHOWN_FIELDS and name not in SHOWN_ELSEWHERE:
            lines += field_lines(name, value)
    lines += ["", "[b]Acceptance criteria[/b]"] + ([f"- {item}" for item in task.acceptance_criteria] or ["(none)"])
    lines += ["", "[b]Score[/b]"] + row.explanation()
    history = board.history(task.id)
    if history:
        lines += ["", "[b]Attempts[/b]", f"cost so far: {usd_text(task_cost_usd(history))} over "
                  f"{plural(len(history), 'attempt')}"] + [attempt.line() for attempt in reversed(history)]
        output = board.last_test_output(task.id)
        if output is not None:
            lines += ["", "[b]Last test output[/b]", output]
    # The id and title in one bold run, a colon between: no rendering or copy can run them together.
    heading = f"[b]{_escape(task.id)}: {_escape(task.title)}[/b]"
    return "\n".join([heading] + [_escape(line) if not line.startswith("[b]") else line for line in lines])


def field_lines(name: str, value: Any, indent: str = "") -> list[str]:
    """One field as people read it: `name: value`; a list of short items comma-separated, a long
    or nested one as `- item` lines; a mapping as indented `key: value` lines. Empty: no line."""
    if value is None or value == "" or value == [] or value == {}:
        return []
    if isinstance(value, dict):
        return [f"{indent}{name}:"] + [line for key, item in value.items()
                                       for line in field_lines(str(key), item, indent + "  ")]
    if isinstance(value, list):
        if all(_is_scalar(item) for item in value):
            inline = ", ".join(map(_scalar, value))
            if len(inline) <= INLINE_LIST_WIDTH and not any("," in _scalar(item) for item in value):
                return [f"{indent}{name}: {inline}"]
        return [f"{indent}{name}:"] + [line for item in value for line in _item_lines(item, indent + "  ")]
    return [f"{indent}{name}: {_scalar(value)}"]


def _item_lines(item: Any, indent: str) -> list[str]:
    if _is_scalar(item):
        return [f"{indent}- {_scalar(item)}"]
    nested = field_lines("-", item, indent)  # `-:` then the item's lines, folded into `- first: ...`
    return [f"{indent}- {nested[1].lstrip()}"] + nested[2:] if len(nested) > 1 else nested


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def _scalar(value: Any) -> str:
    """As the backlog file spells it: `true`, not Python's `True`."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _escape(text: str) -> str:
    return text.replace("[", "\\[")
