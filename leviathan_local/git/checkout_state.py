"""What the main checkout holds, as a fingerprint two moments can be compared by (pygit2).

An attempt's agent works in its own worktree; the fingerprint of the main checkout taken before
its first phase and again after each one tells whether anything else changed there. It covers
every tracked file that differs from HEAD or the index and every untracked one (by content, so a
file the human had already changed and the agent changes again shows), a whole directory such as
`.leviathan/` even where it is ignored, and git's own `config` and `hooks/` (a hook written there
runs on the human's next commit). Clean tracked files are not read: a change to one shows in the
status. Where HEAD is (``checkout_head``) is told apart: the tool itself moves it when a review is
approved meanwhile.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pygit2

from leviathan_local.git.repo import open_repository
from leviathan_local.repo_paths import RepoPaths

Fingerprint = dict[str, str]  # path (relative to the root, or `.git/...`) -> status and content id
GIT_WATCHED = ("config", "hooks")  # in the common dir: nothing the tool runs writes them


def checkout_fingerprint(paths: RepoPaths, skipped: Callable[[str], bool], whole: tuple[str, ...]) -> Fingerprint:
    """The main checkout's changed and untracked files, every file under the directories ``whole``
    (ignored or not), and git's own config and hooks; none of the paths ``skipped`` says to skip."""
    repo = open_repository(paths.git_dir)
    found: Fingerprint = {}
    # Read only: libgit2 refreshes no index on disk here, so the human's git sees nothing of it.
    for path, flags in repo.status(untracked_files="all", ignored=False).items():
        if not skipped(path):
            found[path] = f"{flags}:{_content_id(paths.root / path)}"
    for directory in whole:
        for path in _files_under(paths.root, paths.root / directory):
            if not skipped(path):
                found.setdefault(path, f"file:{_content_id(paths.root / path)}")
    for name in GIT_WATCHED:
        for path in _files_under(paths.common_dir, paths.common_dir / name):
            found[f".git/{path}"] = f"file:{_content_id(paths.common_dir / path)}"
    return found


def checkout_head(paths: RepoPaths) -> tuple[str, str | None]:
    """The main checkout's HEAD: the branch it is on (`HEAD` when detached) and its commit."""
    repo = open_repository(paths.git_dir)
    head = repo.references["HEAD"]
    on = str(head.target) if head.type == pygit2.enums.ReferenceType.SYMBOLIC else "HEAD"
    return on.removeprefix("refs/heads/"), None if repo.head_is_unborn else str(repo.head.target)


def _files_under(root: Path, start: Path) -> list[str]:
    if start.is_file() or start.is_symlink():
        return [start.relative_to(root).as_posix()]
    found = []
    for directory, _, names in os.walk(start):
        found.extend((Path(directory) / name).relative_to(root).as_posix() for name in names)
    return found


def _content_id(file: Path) -> str:
    """The blob id of the file's content (a symlink's target, a directory's absence), or `gone`."""
    try:
        if file.is_symlink():
            return "link:" + os.readlink(file)
        if file.is_dir():
            return "directory"  # a nested repository shows as one untracked directory
        return str(pygit2.hashfile(str(file)))
    except (FileNotFoundError, NotADirectoryError):
        return "gone"
    except OSError as error:  # unreadable: still a state two moments can compare
        return f"unreadable:{error.errno}"
