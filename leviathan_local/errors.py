"""One error base class for everything a user can cause or fix.

The CLI prints ``message`` and ``hint`` on stderr and exits with ``exit_code``;
the TUI shows ``title`` and ``message`` in a notification or modal.
"""

from __future__ import annotations

import os

EXIT_OK = 0
EXIT_WORK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_REVIEW_LIMIT = 3  # a run halted with tasks still ready: the branches waiting for review fill max_open_reviews
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


class FileAccessError(LeviathanError):
    """A file or directory the tool needs is of the wrong kind or cannot be read or written."""

    title = "File problem"


# os.path only (no pathlib): `discover`'s warm start imports this module and must stay light.
def file_error(error: OSError, path: str | os.PathLike[str] | None = None, root: str | os.PathLike[str] | None = None,
               hint: str | None = None) -> FileAccessError:
    """The user-facing form of an OSError on ``path`` (default: the exception's own filename),
    shown relative to ``root`` when inside it; ``hint`` replaces the generic advice."""
    target = os.fspath(path if path is not None else error.filename if error.filename is not None else "")
    if not target:  # no file to name (a full disk, say)
        message, advice = str(error.strerror or error), "check the disk and the repository's files, then try again"
    else:
        message, advice = _describe(error, target, _shown(target, root), root)
    return FileAccessError(message, hint=hint or advice)


def _describe(error: OSError, target: str, shown: str, root: str | os.PathLike[str] | None) -> tuple[str, str]:
    again = "then run the command again"
    if isinstance(error, IsADirectoryError):
        return f"{shown} is a directory, where a file is expected", f"move or rename that directory, {again}"
    if isinstance(error, NotADirectoryError):
        blocker = _file_in_the_way(target)
        if blocker is not None:
            return (f"{shown} cannot be reached: {_shown(blocker, root)} is a file, not a directory",
                    f"move or rename {_shown(blocker, root)}, {again}")
        return f"{shown}: not a directory", f"check the path, {again}"
    if isinstance(error, FileExistsError) and os.path.lexists(target) and not os.path.isdir(target):
        return f"{shown} is a file, where a directory is expected", f"move or rename that file, {again}"
    if isinstance(error, PermissionError):
        return (f"permission denied: {shown}",
                f"check its permissions and owner (`ls -l {shown}`), or run as a user who may access it")
    return f"{shown}: {error.strerror or error}", f"check that path and the disk, {again}"


def _file_in_the_way(path: str) -> str | None:
    """The nearest existing ancestor of ``path`` when it is not a directory (what ENOTDIR meant)."""
    parent = os.path.dirname(path)
    while parent and parent != os.path.dirname(parent):
        if os.path.lexists(parent):
            return None if os.path.isdir(parent) else parent
        parent = os.path.dirname(parent)
    return None


def _shown(path: str, root: str | os.PathLike[str] | None) -> str:
    if root is not None:
        base = os.fspath(root).rstrip(os.sep) + os.sep
        if path.startswith(base):
            return path[len(base):]
    return path
