"""A human's command refuses a tampered event log as a run does (issue 14, defect 9): `merge`,
`reject`, `block`, `unblock`, `ready`, `prune --apply` and `discover` exit 1 naming the first
broken line, and change nothing: an event chained onto the edited log would vouch for it."""

from __future__ import annotations

import pytest
from conftest import git, write
from test_review import reviewed  # noqa: F401 (fixture)
from test_run_tampered_log import edit_line, leviathan
from test_writers_log_first import repository_state

from leviathan_local.backlog.store import update_task
from leviathan_local.backlog.transitions import block
from leviathan_local.events import log_path
from leviathan_local.git.repo import RepoPaths

COMMANDS = {
    "merge": ("merge", "add"),
    "reject": ("reject", "add", "--reason", "needs a test", "--delete-branch"),
    "block": ("block", "add", "--reason", "waits for the API"),
    "unblock": ("unblock", "other"),
    "ready": ("ready", "other"),
    "prune": ("prune", "--apply", "--branch", "agent/stale"),
    "discover": ("discover",),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_refuses_a_tampered_log_and_changes_nothing(reviewed, command: str) -> None:  # noqa: F811
    paths: RepoPaths
    paths, _ = reviewed
    # What each command would change, were the log intact.
    update_task(paths, "other", {"acceptance_criteria": ["it works"]})
    if command == "unblock":
        block(paths, "other", "waits")
    git(paths.root, "branch", "agent/stale", "HEAD~0")
    write(paths.root / "notes.py", "# TODO: a finding for discover\n")
    git(paths.root, "add", "-A")
    git(paths.root, "commit", "-qm", "the setting")
    edit_line(paths, 2)
    before = repository_state(paths.root)

    refused = leviathan(paths.root, *COMMANDS[command])

    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"the event log {log_path(paths)} is broken at line 2 (seq 2)" in refused.stderr
    assert "hint:" in refused.stderr and "Traceback" not in refused.stderr
    assert repository_state(paths.root) == before
