"""`run --watch`'s wait for new work: until backlog.yaml or policy.yaml differ from what the
loop last planned from.

Watching alone would miss an edit saved after the loop read the files but before the watcher
was running (the import and the watcher's setup take a while on a loaded machine): the edit
has happened, no event of it ever comes, and the run would wait forever with the human's new
task unplanned. So the loop takes a snapshot before it reads, and the wait compares the files
against it each time the running watcher reports (changes or a timeout): an edit made before
the watcher started is seen at its first report, one made after it by the watcher itself.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from leviathan_local.repo_paths import RepoPaths

# How often (ms) the watcher reports when nothing happened: the longest an edit made before it
# started waits to be noticed.
RECHECK_MS = 500


@dataclass(frozen=True, slots=True)
class WatchedState:
    """The contents (as digests; None for a missing file) of the files a run plans from."""

    backlog: bytes | None
    policy: bytes | None


def watched_state(paths: RepoPaths) -> WatchedState:
    return WatchedState(_digest_of(paths.backlog), _digest_of(paths.policy))


def wait_for_change(paths: RepoPaths, stop: threading.Event, planned: WatchedState) -> bool:
    """Block until backlog.yaml or policy.yaml differ from ``planned`` (True) or a stop is
    requested (False). A save that leaves a file's bytes as they were is no change: there is
    nothing new to plan from."""
    from watchfiles import watch  # only --watch pays for the import

    if stop.is_set():
        return False
    # The directory is watched, not the files: atomic saves replace the files' inodes.
    for _ in watch(paths.leviathan_dir, stop_event=stop, yield_on_timeout=True, rust_timeout=RECHECK_MS):
        # Every report comes from a running watcher, so a comparison now covers any edit made
        # before it started.
        if watched_state(paths) != planned:
            return True
    return False


def _digest_of(path: Path) -> bytes | None:
    try:
        return hashlib.blake2b(path.read_bytes(), digest_size=16).digest()
    except FileNotFoundError:
        return None
