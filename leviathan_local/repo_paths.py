"""Where a target repository keeps what leviathan-local reads and writes (no git library needed).

`locate_quickly` finds the usual layouts (a `.git` directory, or a `.git` file pointing to a
linked worktree's git dir) with a few `stat` calls, for commands that must start fast;
anything unusual returns None and the caller asks `gitrepo.find_repo`, which knows them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from leviathan_local.repo_locate import locate_strings


class RepoPaths(NamedTuple):  # not a dataclass: `dataclasses` costs a fast command ~8 ms to import
    root: Path
    git_dir: Path
    common_dir: Path

    @property
    def leviathan_dir(self) -> Path:
        return self.root / ".leviathan"

    @property
    def backlog(self) -> Path:
        return self.leviathan_dir / "backlog.yaml"

    @property
    def policy(self) -> Path:
        return self.leviathan_dir / "policy.yaml"

    @property
    def contract(self) -> Path:
        return self.leviathan_dir / "contract.yaml"

    @property
    def state_dir(self) -> Path:
        """Runtime state shared by every worktree and never committable: inside the git common dir."""
        return self.common_dir / "leviathan"


def common_dir_of(git_dir: Path) -> Path:
    # A linked worktree's git dir names the shared one in its `commondir` file.
    pointer = git_dir / "commondir"
    if pointer.is_file():
        return (git_dir / pointer.read_text().strip()).resolve()
    return git_dir


def locate_quickly(start: Path) -> RepoPaths | None:
    found = locate_strings(str(start))
    return None if found is None else RepoPaths(*map(Path, found))
