"""What `leviathan` with no command does before Textual is imported: find the repository and
fork the child that ranks the first screenful (see board_prefetch.py)."""

from __future__ import annotations

from pathlib import Path

from leviathan_local.board_prefetch import Prefetch, start_prefetch
from leviathan_local.clock import now
from leviathan_local.git.locate import locate_quickly
from leviathan_local.repo_paths import RepoPaths


def prepare_app(repo: Path) -> tuple[RepoPaths, Prefetch | None]:
    # Without pygit2 when the layout is plain (its import costs the first frame 60 ms);
    # find_repo gives the errors (no repository, a bare one) their messages.
    paths = locate_quickly(repo.resolve())
    if paths is None:
        from leviathan_local.git.repo import find_repo

        paths = find_repo(repo)
    return paths, start_prefetch(paths, now())  # forked before Textual starts any thread
