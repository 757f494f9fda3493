"""`run --watch`'s wait: an edit the loop has not planned from ends it, whenever it was saved."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from conftest import write

from leviathan_local.engine.watch import wait_for_change, watched_state
from leviathan_local.repo_paths import RepoPaths


@contextmanager
def stop_after_a_while() -> Iterator[threading.Event]:
    """A stop that fires after 30 s: a wait that misses the edit fails the test instead of hanging it."""
    stop = threading.Event()
    safety = threading.Timer(30, stop.set)
    safety.start()
    try:
        yield stop
    finally:
        safety.cancel()


def test_an_edit_saved_before_the_watcher_starts_ends_the_wait(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, "tasks: []\n")
    planned = watched_state(repo_paths)  # what the loop planned from
    # The human's save lands after the loop read the backlog but before the wait's watcher runs:
    # no file event of it will ever come.
    write(repo_paths.backlog, "tasks:\n- id: late\n  title: new work\n")
    with stop_after_a_while() as stop:
        assert wait_for_change(repo_paths, stop, planned) is True
        assert not stop.is_set()


def test_a_policy_created_before_the_watcher_starts_ends_the_wait(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, "tasks: []\n")
    planned = watched_state(repo_paths)
    write(repo_paths.policy, "limits: {max_running_attempts: 1}\n")
    with stop_after_a_while() as stop:
        assert wait_for_change(repo_paths, stop, planned) is True


def test_a_stop_ends_the_wait_with_nothing_changed(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, "tasks: []\n")
    stop = threading.Event()
    stop.set()
    assert wait_for_change(repo_paths, stop, watched_state(repo_paths)) is False
