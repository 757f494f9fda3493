"""Reusable attempt worktrees: `worktrees/slot-N`, reset to a pristine base for each attempt.

Creating a worktree checks out every file (0.2–0.5 s on a 3,000-file repository); resetting
one that exists touches only what the last attempt changed (~0.03 s). Each attempt still gets
a tree identical to its base commit, on its own new branch: the reset removes changed,
untracked and ignored files alike, but the git-ignored outputs of policy's `setup:` while they
were made for this base by these commands (engine/setup_cache.py). When the attempt ends, its
slot is cleaned the same way and left detached at the base: nothing of a finished attempt is
visible in `worktrees/`, only on its branch. A slot is held with an flock, so parallel attempts
and separate processes never share one.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from leviathan_local.engine.setup_cache import clean_slot, drop_marker, kept_outputs
from leviathan_local.git.repo import RepoPaths, add_worktree, list_worktrees, remove_worktree, reset_worktree

SLOT_PREFIX = "slot-"
MAX_SLOTS = 64


@contextmanager
def attempt_worktree(paths: RepoPaths, branch: str, base: str,
                     claimed: Callable[[Path], None] = lambda _slot: None, setup: str | None = None,
                     ) -> Iterator[Path]:
    """A worktree on new branch ``branch`` at ``base``, held until the block ends, then left
    clean at ``base`` with its HEAD detached (the branch keeps whatever was committed on it).
    ``claimed`` is told the slot once it is held, before its branch or files change: a process
    killed mid-checkout has then already said which slot it left half made. ``setup``: the
    policy's setup_key (None: no setup), whose outputs for ``base`` the slot keeps."""
    known = {name for name, _ in list_worktrees(paths)}
    for number in range(MAX_SLOTS):
        name = f"{SLOT_PREFIX}{number}"
        with _held(paths, name) as held:
            if not held:
                continue  # another attempt holds this slot
            location = paths.root / "worktrees" / name
            claimed(location)
            if name in known and location.is_dir():
                reset_worktree(location, branch, base, kept_outputs(paths, location, base, setup))
            else:
                if name in known:  # registered, but its directory was deleted by hand
                    remove_worktree(paths, name, location)
                drop_marker(paths, location)  # a new checkout holds no setup output
                add_worktree(paths, name, location, branch, base)
            try:
                yield location
            finally:
                clean_slot(paths, location, base, setup)
            return
    raise RuntimeError(f"all {MAX_SLOTS} worktree slots are busy")


@contextmanager
def held_slot(paths: RepoPaths, location: Path) -> Iterator[bool]:
    """Whether this process got the slot at ``location`` (a dead attempt's, to clean it): held
    until the block ends, so no new attempt takes it meanwhile."""
    with _held(paths, location.name) as held:
        yield held


def is_slot(paths: RepoPaths, location: Path) -> bool:
    return location.parent == paths.root / "worktrees" and location.name.startswith(SLOT_PREFIX)


def every_slot(paths: RepoPaths) -> list[tuple[str, Path]]:
    """(name, location) of every slot, whether git knows it (its directory may be gone) or only
    its directory is there (a checkout killed before git registered it)."""
    found = {name: location for name, location in list_worktrees(paths) if name.startswith(SLOT_PREFIX)}
    directory = paths.root / "worktrees"
    if directory.is_dir():
        for entry in directory.iterdir():
            if entry.name.startswith(SLOT_PREFIX) and entry.is_dir():
                found.setdefault(entry.name, entry)
    return sorted(found.items())


@contextmanager
def _held(paths: RepoPaths, name: str) -> Iterator[bool]:
    """Whether this process got the slot's lock (held until the block ends)."""
    lock_dir = paths.state_dir / "slots"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{name}.lock", "a") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
