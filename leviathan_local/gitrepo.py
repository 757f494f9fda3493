"""All git access goes through this module (pygit2 first, the git CLI only where pygit2 cannot)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pygit2

from leviathan_local.errors import NotARepositoryError


@dataclass(frozen=True)
class RepoPaths:
    """Where a target repository keeps what leviathan-local reads and writes."""

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


def find_repo(start: Path | str) -> RepoPaths:
    """The repository containing ``start``; a clear error when there is none or it is bare."""
    start_path = Path(start).resolve()
    if not start_path.exists():
        raise NotARepositoryError(
            f"{start_path} does not exist",
            hint="pass an existing directory with --repo PATH",
        )
    found = pygit2.discover_repository(str(start_path))
    if found is None:
        raise NotARepositoryError(
            f"{start_path} is not inside a git repository",
            hint="run `git init` there first, or pass the repository with --repo PATH",
        )
    repo = pygit2.Repository(found)
    if repo.is_bare or repo.workdir is None:
        raise NotARepositoryError(
            f"{found} is a bare repository: there is no work tree to operate on",
            hint="clone it (`git clone`) and run leviathan in the clone",
        )
    git_dir = Path(repo.path).resolve()
    return RepoPaths(root=Path(repo.workdir).resolve(), git_dir=git_dir, common_dir=_common_dir(git_dir))


def _common_dir(git_dir: Path) -> Path:
    # A linked worktree's git dir names the shared one in its `commondir` file.
    pointer = git_dir / "commondir"
    if pointer.is_file():
        return (git_dir / pointer.read_text().strip()).resolve()
    return git_dir


def current_branch(paths: RepoPaths) -> str | None:
    """The checked-out branch's short name, or None on a detached HEAD."""
    repo = pygit2.Repository(str(paths.git_dir))
    if repo.head_is_unborn:
        target = repo.references["HEAD"].target
        return str(target).removeprefix("refs/heads/")
    if repo.head_is_detached:
        return None
    return repo.head.shorthand
