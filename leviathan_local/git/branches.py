"""Local branches for upkeep (`leviathan prune`): which exist, what they hold, who has them out."""

from __future__ import annotations

from leviathan_local.git.merge import worktrees_on
from leviathan_local.git.repo import RepoPaths, current_branch, open_repository


def branches_under(paths: RepoPaths, prefix: str) -> dict[str, str]:
    """Every local branch whose name starts with ``prefix``, with the commit it points at."""
    repo = open_repository(paths.git_dir)
    found = {}
    for name in repo.branches.local:
        if name.startswith(prefix):
            found[name] = str(repo.branches.local[name].target)
    return dict(sorted(found.items()))


def commits_ahead(paths: RepoPaths, tip: str, base: str) -> int:
    """How many commits ``tip`` holds that ``base`` does not."""
    return open_repository(paths.git_dir).ahead_behind(tip, base)[0]


def checked_out_at(paths: RepoPaths, branch: str) -> str | None:
    """Where ``branch`` is checked out (the main checkout or a linked worktree), None if nowhere."""
    if current_branch(paths) == branch:
        return str(paths.root)
    found = worktrees_on(paths, branch)
    return str(found[0]) if found else None
