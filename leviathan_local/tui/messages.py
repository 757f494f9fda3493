"""Messages the app's workers post back to the UI thread (past tense: something happened)."""

from __future__ import annotations

from textual.message import Message

from leviathan_local.errors import LeviathanError
from leviathan_local.planning.board import Board
from leviathan_local.planning.prefetch import PrefetchedBoard


class BoardLoaded(Message):
    def __init__(self, board: Board) -> None:
        super().__init__()
        self.board = board


class BoardPrefetched(Message):
    """The first rows, ranked by a forked child (None: it could not; load the usual way)."""

    def __init__(self, board: PrefetchedBoard | None) -> None:
        super().__init__()
        self.board = board


class BoardFailed(Message):
    """The backlog or policy did not load: the last good board stays on screen."""

    def __init__(self, error: LeviathanError) -> None:
        super().__init__()
        self.error = error


class FilesChanged(Message):
    """backlog.yaml or policy.yaml changed on disk."""


class RunFinished(Message):
    """A run started from the app halted (or failed); the backlog changed."""

    def __init__(self, outcome: str) -> None:
        super().__init__()
        self.outcome = outcome


class BacklogWritten(Message):
    """A view changed the backlog (approve, reject, promote...): every view refreshes."""
