"""Find a repository's work tree, git dir and common dir with a few `stat` calls (os only).

For `discover`, which must start fast; anything unusual (GIT_DIR set, a bare repository, a
malformed `.git` file) returns None and the caller asks `git.repo.find_repo`, which knows them all.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing itself costs `discover` milliseconds

if TYPE_CHECKING:  # so does pathlib: more than a warm scan takes
    from pathlib import Path

    from leviathan_local.repo_paths import RepoPaths


def locate_strings(start: str) -> tuple[str, str, str] | None:
    """(work tree, git dir, common dir) as strings: what `discover` needs before it imports more."""
    if any(name in os.environ for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR")):
        return None
    candidate = os.path.realpath(start)
    while True:
        dot_git = os.path.join(candidate, ".git")
        if os.path.isdir(dot_git) and os.path.isfile(os.path.join(dot_git, "HEAD")):
            return candidate, dot_git, _common_dir_string(dot_git)
        if os.path.isfile(dot_git):
            with open(dot_git, errors="replace") as handle:
                content = handle.read().strip()
            if not content.startswith("gitdir: "):
                return None
            git_dir = os.path.realpath(os.path.join(candidate, content.removeprefix("gitdir: ")))
            return (candidate, git_dir, _common_dir_string(git_dir)) if os.path.isdir(git_dir) else None
        parent = os.path.dirname(candidate)
        if parent == candidate:
            return None
        candidate = parent


def _common_dir_string(git_dir: str) -> str:
    pointer = os.path.join(git_dir, "commondir")
    if not os.path.isfile(pointer):
        return git_dir
    with open(pointer) as handle:
        return os.path.realpath(os.path.join(git_dir, handle.read().strip()))


def common_dir_of(git_dir: Path) -> Path:
    # A linked worktree's git dir names the shared one in its `commondir` file.
    pointer = git_dir / "commondir"
    if pointer.is_file():
        return (git_dir / pointer.read_text().strip()).resolve()
    return git_dir


def locate_quickly(start: Path) -> RepoPaths | None:
    from pathlib import Path

    from leviathan_local.repo_paths import RepoPaths

    found = locate_strings(str(start))
    return None if found is None else RepoPaths(*map(Path, found))
