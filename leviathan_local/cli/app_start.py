"""What `leviathan` with no command does before Textual is imported: find the repository and
fork the child that ranks the first screenful (see planning/prefetch.py)."""

from __future__ import annotations

from pathlib import Path

from leviathan_local.clock import now
from leviathan_local.git.locate import locate_quickly
from leviathan_local.planning.prefetch import Prefetch, start_prefetch
from leviathan_local.repo_paths import RepoPaths

# Below this size the app loads the backlog faster itself than a child can hand it over
# (bench/tui_bench.py: 1,000 tasks, 0.44 MB, first frame 0.67 s alone, 0.75 s with the child;
# 10,000 tasks, 4.4 MB: 1.32 s alone, 0.75 s with it).
PREFETCH_FROM_BYTES = 1 << 20


def prepare_app(repo: Path, prefetch_from_bytes: int = PREFETCH_FROM_BYTES) -> tuple[RepoPaths, Prefetch | None]:
    # Without pygit2 when the layout is plain (its import costs the first frame 60 ms);
    # find_repo gives the errors (no repository, a bare one) their messages.
    paths = locate_quickly(repo.resolve())
    if paths is None:
        from leviathan_local.git.repo import find_repo

        paths = find_repo(repo)
    try:
        large = paths.backlog.stat().st_size >= prefetch_from_bytes
    except OSError:
        large = False  # no backlog: the app's own load says what is wrong
    return paths, start_prefetch(paths, now()) if large else None  # forked before Textual starts any thread
