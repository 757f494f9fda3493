"""What every command gets from the global options: the repository it works on."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leviathan_local.repo_paths import RepoPaths


class Context:
    def __init__(self, repo: Path) -> None:
        self.repo_arg = repo

    def paths(self) -> RepoPaths:
        from leviathan_local.git.repo import find_repo  # lazily: a fast command does not pay for git

        return find_repo(self.repo_arg)
