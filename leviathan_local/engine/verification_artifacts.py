"""What the executor's own verification commands leave in the worktree is not the agent's work.

The test command and the invariants run in the worktree, on the agent's tree as staged just
before. A file they add there (bytecode where PYTHONPYCACHEPREFIX is not honoured, a coverage
file, a tool's cache, in a repository whose `.gitignore` does not list it) would otherwise be
staged with the next phase and committed as if the agent made it. Such files are removed as soon
as the command ends, and the attempt log names them. A file the agent made and a check then
changed is not removed: the gates refuse that ("the commit would hold what no check saw").
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from leviathan_local.git.attempt_tree import Worktree, unstaged_paths


def remove_verification_artifacts(git: Worktree, command: str, log: IO[str]) -> list[str]:
    """Remove the files ``command`` (just run) added beside the staged tree; their paths."""
    added = unstaged_paths(git, only_untracked=True)
    for relative in added:
        _remove(git.location, relative)
    if added:
        log.write(f"note: removed what `{command}` left in the worktree, not the agent's work: "
                  f"{', '.join(added[:10])}" + (f" and {len(added) - 10} more" if len(added) > 10 else "") + "\n")
        log.flush()
    return added


def _remove(root: Path, relative: str) -> None:
    file = root / relative
    file.unlink(missing_ok=True)
    parent = file.parent
    while parent != root and not any(parent.iterdir()):  # directories the command made for them
        parent.rmdir()
        parent = parent.parent
