"""One error base class for everything a user can cause or fix.

The CLI prints ``message`` and ``hint`` on stderr and exits with ``exit_code``;
the TUI shows ``title`` and ``message`` in a notification or modal.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_WORK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class LeviathanError(Exception):
    """A failure the user can act on: what went wrong and what to do next."""

    title = "Error"
    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class NotARepositoryError(LeviathanError):
    title = "Not a git repository"


class ConfigError(LeviathanError):
    """policy.yaml or contract.yaml is missing, unreadable or invalid."""

    title = "Invalid configuration"


class BacklogError(LeviathanError):
    """backlog.yaml cannot be loaded or a requested change is not allowed."""

    title = "Backlog problem"


class UnknownTaskError(BacklogError):
    title = "Unknown task"


class WorkFailedError(LeviathanError):
    """The work itself failed (as opposed to bad input): exit code 1."""

    title = "Work failed"
    exit_code = EXIT_WORK_FAILED
