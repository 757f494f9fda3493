"""The board's first screenful, computed on the second core while the app starts.

Opening the app imports Textual and builds the screen (a third of a second of CPU) and loads
and ranks the backlog (as much again at 10,000 tasks). Both hold the GIL, so a thread does
not help; a forked child does. The child sends the rows the table shows, as plain values;
the app shows them, then loads the real board (tasks, scores, history) for everything else.
Anything that goes wrong in the child only means the app loads the board the usual way.
"""

from __future__ import annotations

import marshal
import os
from dataclasses import dataclass
from datetime import datetime

from leviathan_local.backlog.model import Status
from leviathan_local.repo_paths import RepoPaths

SCORED_ROWS = 200  # skipped tasks' scores are lazy: the child computes those a screen shows first


@dataclass(frozen=True)
class PrefetchedTask:
    id: str
    title: str
    status: Status
    attempts: int


@dataclass(frozen=True)
class PrefetchedScore:
    value: float
    terms: dict[str, object]


@dataclass(frozen=True)
class PrefetchedRow:
    """What the backlog table reads from a board row, and nothing else."""

    task: PrefetchedTask
    score: PrefetchedScore
    rank: int | None
    age_days: int | None
    flags: str
    cost_text: str = ""


@dataclass(frozen=True)
class PrefetchedBoard:
    rows: list[PrefetchedRow]


class Prefetch:
    def __init__(self, pid: int, descriptor: int) -> None:
        self.pid, self.descriptor = pid, descriptor

    def board(self) -> PrefetchedBoard | None:
        """The child's rows (waits for them), or None when it could not make them."""
        chunks = []
        try:
            while chunk := os.read(self.descriptor, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(self.descriptor)
            os.waitpid(self.pid, 0)
        try:
            return PrefetchedBoard([_row(values) for values in marshal.loads(b"".join(chunks))])
        except (EOFError, ValueError, TypeError):
            return None


def start_prefetch(paths: RepoPaths, moment: datetime) -> Prefetch | None:
    """Fork a child that ranks the backlog; call before Textual starts any thread."""
    if not hasattr(os, "fork"):
        return None
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        try:
            payload = marshal.dumps(_compact_rows(paths, moment))
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
        finally:
            os._exit(0)
    os.close(write_end)
    return Prefetch(pid, read_end)


def _compact_rows(paths: RepoPaths, moment: datetime) -> list[tuple]:
    from leviathan_local.planning.board import load_board

    rows = []
    for index, row in enumerate(load_board(paths, moment).rows):
        scored = row.rank is not None or index < SCORED_ROWS
        score = row.score if scored else None
        rows.append((row.task.id, row.task.title, row.task.status.value, row.task.attempts, row.rank,
                     row.age_days, score.value if score else None,
                     {k: v for k, v in score.terms.items() if k in ("impact", "effort")} if score else {},
                     row.flags if score else "", row.cost_text))
    return rows


def _row(values: tuple) -> PrefetchedRow:
    task_id, title, status, attempts, rank, age, value, terms, flags, cost_text = values
    return PrefetchedRow(PrefetchedTask(task_id, title, Status(status), attempts),
                         PrefetchedScore(float("nan") if value is None else value, terms), rank, age, flags,
                         cost_text)
