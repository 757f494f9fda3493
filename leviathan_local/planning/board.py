"""The backlog as the TUI shows it: one row per task, ranked, with its score and flags.

Engine side (no Textual): the app turns these rows into a table, and tests read them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from leviathan_local.backlog.model import Status, Task
from leviathan_local.backlog.store import load_backlog
from leviathan_local.config.policy import Policy
from leviathan_local.config.policy_load import load_policy
from leviathan_local.events import read_events
from leviathan_local.planning.attempt_history import AttemptSummary, attempts_by_task, last_test_output, task_cost_usd
from leviathan_local.planning.cost import usd_text
from leviathan_local.planning.gc_pause import collector_paused
from leviathan_local.planning.selection import select
from leviathan_local.planning.wsjf import Score, explain, score_task
from leviathan_local.repo_paths import RepoPaths


class BoardRow:
    """One task on the board. A skipped task's score is computed when first read: a screen
    shows some forty rows, and scoring ten thousand tasks up front would delay the first one."""

    __slots__ = ("task", "rank", "skip_reason", "skip_detail", "age_days", "_score", "_policy", "_moment",
                 "ran", "cost_usd")

    def __init__(self, task: Task, score: Score | None, rank: int | None, skip_reason: str | None,
                 skip_detail: str, age_days: int | None, policy: Policy | None = None,
                 moment: datetime | None = None) -> None:
        self.task, self.rank, self.skip_reason, self.skip_detail = task, rank, skip_reason, skip_detail
        self.age_days, self._score, self._policy, self._moment = age_days, score, policy, moment
        self.ran = False  # the event log holds an attempt of it
        self.cost_usd: float | None = None  # all its attempts' known costs; None: none known

    @property
    def cost_text(self) -> str:
        """The board's cost cell: blank for a task never tried, else its cost or "unknown"."""
        return usd_text(self.cost_usd) if self.ran else ""

    @property
    def score(self) -> Score:
        if self._score is None:
            assert self._policy is not None and self._moment is not None
            self._score = score_task(self.task, self._policy, self._moment)
        return self._score

    @property
    def flags(self) -> str:
        """`~` estimated inputs, `/` split suggested, `!` escalated (one character each)."""
        return (("~" if self.score.estimated else " ") + ("/" if self.score.split_suggested else " ")
                + ("!" if self.score.escalations else " ")).rstrip()

    def explanation(self) -> list[str]:
        return explain(self.score)


@dataclass(frozen=True)
class Board:
    rows: list[BoardRow]
    policy: Policy
    paths: RepoPaths
    attempts: dict[str, list[AttemptSummary]] = field(default_factory=dict)

    def row(self, task_id: str) -> BoardRow | None:
        return next((row for row in self.rows if row.task.id == task_id), None)

    def history(self, task_id: str) -> list[AttemptSummary]:
        return self.attempts.get(task_id, [])

    def last_test_output(self, task_id: str) -> str | None:
        """The tail of the test command's output in the task's latest attempt that ran it."""
        for attempt in reversed(self.history(task_id)):
            output = last_test_output(self.paths, attempt.attempt_id, self.policy.tdd.test_command)
            if output is not None:
                return output
        return None


SORT_KEYS = ("rank", "score", "age", "status", "id", "tries", "cost")


def sort_rows(rows: list[BoardRow], key: str) -> list[BoardRow]:
    """The rows in another order; "rank" is the board's own (actionable by rank, then the rest)."""
    if key == "score":
        return sorted(rows, key=lambda row: (-row.score.value, row.task.id))
    if key == "age":
        return sorted(rows, key=lambda row: (-(row.age_days if row.age_days is not None else -1), row.task.id))
    if key == "status":
        return sorted(rows, key=lambda row: (row.task.status.value, row.task.id))
    if key == "id":
        return sorted(rows, key=lambda row: row.task.id)
    if key == "tries":
        return sorted(rows, key=lambda row: (-row.task.attempts, row.task.id))
    if key == "cost":  # the dearest first; unknown costs after every known one, untried tasks last
        return sorted(rows, key=lambda row: (not row.ran, row.cost_usd is None, -(row.cost_usd or 0), row.task.id))
    return list(rows)


def load_board(paths: RepoPaths, moment: datetime) -> Board:
    """Actionable tasks in rank order, then the others by status and id."""
    with collector_paused():
        return _load_board(paths, moment)


def _load_board(paths: RepoPaths, moment: datetime) -> Board:
    policy = load_policy(paths)
    tasks = load_backlog(paths).tasks
    selection = select(tasks, policy, moment)
    rows = [BoardRow(ranked.task, ranked.score, ranked.rank, None, "", _age(ranked.task, moment))
            for ranked in selection.actionable]
    others = [BoardRow(skipped.task, skipped.score, None, skipped.reason, skipped.detail, _age(skipped.task, moment),
                       policy, moment) for skipped in selection.skipped]
    order = {status: index for index, status in enumerate(
        (Status.READY, Status.DOING, Status.REVIEW, Status.BLOCKED, Status.REFINED, Status.NEW, Status.DONE))}
    others.sort(key=lambda row: (order[row.task.status], row.task.id))
    board = Board(rows + others, policy, paths, attempts_by_task(read_events(paths)))
    _add_costs(board)
    return board


def _add_costs(board: Board) -> None:
    """Each tried task's cost so far, from the event log (only tasks with attempts are touched:
    a 10,000-task board pays for the tasks that ran, not for every row)."""
    if not board.attempts:
        return
    for row in board.rows:
        attempts = board.attempts.get(row.task.id)
        if attempts:
            row.ran, row.cost_usd = True, task_cost_usd(attempts)


def _age(task: Task, moment: datetime) -> int | None:
    created = task.created_at
    return None if created is None else max(0, (moment - created).days)
