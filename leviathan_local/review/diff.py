"""The diff a reviewer reads: the code first, the tool's own bookkeeping (`.leviathan/`) last."""

from __future__ import annotations

from leviathan_local.git.merge import file_patches
from leviathan_local.repo_paths import RepoPaths


def review_patch(paths: RepoPaths, base: str, head: str) -> str:
    """The branch's changes, its files in git's order except that the `.leviathan/` files (the
    attempt's status writeback, which no agent may write) come after everything else."""
    bookkeeping = paths.leviathan_dir.relative_to(paths.root).as_posix() + "/"
    patches = file_patches(paths, base, head)
    return "".join(text for path, text in sorted(patches, key=lambda patch: patch[0].startswith(bookkeeping)))
