"""Where a target repository keeps what leviathan-local reads and writes (no git library needed).

Finding them is git access: `git.locate` (fast, os only) and `git.repo.find_repo` (thorough).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple


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
