"""The selected task in full: fields, acceptance criteria, the score term by term (side region)."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Static

from leviathan_local.planning.attempt_history import task_cost_usd
from leviathan_local.planning.board import Board, BoardRow
from leviathan_local.planning.cost import usd_text

SHOWN_FIELDS = ("type", "scope", "allowed_paths", "dependencies", "attempts", "branch_name", "last_attempt_id",
                "blocked_type", "blocked_reason", "review_feedback", "completed_at", "source")
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
    lines = [f"[b]{task.id}[/b]  {task.title}", f"status: {task.status.value}"
             + (f" (skipped: {row.skip_reason})" if row.skip_reason else f" (rank {row.rank})")]
    if row.skip_detail:
        lines.append(f"  {row.skip_detail}")
    if task.description:
        lines += ["", task.description]
    lines += [f"{name}: {task.get(name)}" for name in SHOWN_FIELDS if task.get(name) not in (None, [], "")]
    # Every other field the human (or a tool) wrote, in the file's order.
    lines += [f"{name}: {value}" for name, value in task.data.items()
              if name not in SHOWN_FIELDS and name not in SHOWN_ELSEWHERE and value not in (None, [], "")]
    lines += ["", "[b]Acceptance criteria[/b]"] + ([f"- {item}" for item in task.acceptance_criteria] or ["(none)"])
    lines += ["", "[b]Score[/b]"] + row.explanation()
    history = board.history(task.id)
    if history:
        lines += ["", "[b]Attempts[/b]", f"cost so far: {usd_text(task_cost_usd(history))} over {len(history)}"
                  f" attempt(s)"] + [attempt.line() for attempt in reversed(history)]
        output = board.last_test_output(task.id)
        if output is not None:
            lines += ["", "[b]Last test output[/b]", output]
    return "\n".join(_escape(line) if not line.startswith("[b]") else line for line in lines)


def _escape(text: str) -> str:
    return text.replace("[", "\\[")
