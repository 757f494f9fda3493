"""A human's status change is only written when its event can be logged: with an event log
that cannot be appended to, every transition (and an approval) fails with exit 2 naming the
log, and backlog.yaml stays byte for byte as it was (no change the audit trail does not hold)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import write
from test_approve_already_merged import merge_by_hand
from test_cli import run_cli
from test_file_errors import assert_explained, unprivileged_prefix
from test_review import reviewed, unchanged  # noqa: F401 (fixture)

from leviathan_local import events
from leviathan_local.backlog.transitions import block, mark_ready, set_wsjf_inputs, unblock
from leviathan_local.errors import FileAccessError
from leviathan_local.git.repo import RepoPaths, find_repo
from leviathan_local.review.approve import approve

BACKLOG = """\
tasks:
  # a human's note survives, and so does every byte
  - id: fresh
    status: new
    acceptance_criteria: [works]
  - id: stuck
    status: blocked
    blocked_reason: waiting for the API owner
    blocked_type: decision
    blocked_from: ready
    acceptance_criteria: [works]
"""
LOG = ".git/leviathan/events.ndjson"

# Each transition the CLI or the TUI offers, applied to a task it changes.
TRANSITIONS: dict[str, Callable[[RepoPaths], object]] = {
    "ready": lambda paths: mark_ready(paths, "fresh"),
    "unblock": lambda paths: unblock(paths, "stuck", note="the owner answered"),
    "block": lambda paths: block(paths, "fresh", "needs a decision"),
    "rescore": lambda paths: set_wsjf_inputs(paths, "fresh", {"impact": 8}),
}
CLI_COMMANDS = {"ready": ["ready", "fresh"], "unblock": ["unblock", "stuck", "--note", "answered"]}


@pytest.fixture
def repo(git_repo: Path) -> Path:
    write(git_repo / ".leviathan" / "backlog.yaml", BACKLOG)
    return git_repo


def log_is_a_directory(repo: Path) -> None:
    (repo / LOG).mkdir(parents=True)


def log_is_read_only(repo: Path) -> None:
    write(repo / LOG, "")
    (repo / LOG).chmod(0o444)


@pytest.mark.parametrize("name", sorted(TRANSITIONS))
def test_a_log_that_is_a_directory_leaves_the_backlog_as_it_was(repo: Path, name: str) -> None:
    log_is_a_directory(repo)
    paths = find_repo(repo)
    before = paths.backlog.read_bytes()
    with pytest.raises(FileAccessError) as refused:
        TRANSITIONS[name](paths)
    assert refused.value.message == f"{LOG} is a directory, where a file is expected"
    assert paths.backlog.read_bytes() == before


@pytest.mark.parametrize("name", sorted(CLI_COMMANDS))
def test_the_cli_explains_a_log_that_is_a_directory(repo: Path, name: str, capsys) -> None:
    log_is_a_directory(repo)
    before = (repo / ".leviathan" / "backlog.yaml").read_bytes()
    assert_explained(run_cli(capsys, "--repo", str(repo), *CLI_COMMANDS[name]),
                     f"{LOG} is a directory, where a file is expected")
    assert (repo / ".leviathan" / "backlog.yaml").read_bytes() == before


@pytest.mark.parametrize("name", sorted(CLI_COMMANDS))
def test_the_cli_explains_a_read_only_log(repo: Path, name: str) -> None:
    log_is_read_only(repo)
    before = (repo / ".leviathan" / "backlog.yaml").read_bytes()
    result = subprocess.run([*unprivileged_prefix(), sys.executable, "-m", "leviathan_local", "--repo", str(repo),
                             *CLI_COMMANDS[name]], capture_output=True, text=True)
    assert_explained((result.returncode, result.stdout, result.stderr), f"permission denied: {LOG}")
    assert (repo / ".leviathan" / "backlog.yaml").read_bytes() == before
    assert (repo / LOG).read_bytes() == b""


@pytest.mark.parametrize("name", sorted(TRANSITIONS))
def test_with_a_working_log_each_transition_writes_and_logs_once(repo: Path, name: str) -> None:
    paths = find_repo(repo)
    before = paths.backlog.read_bytes()
    TRANSITIONS[name](paths)
    assert paths.backlog.read_bytes() != before
    [event] = events.read_events(paths)
    assert event.kind == {"ready": "task.ready", "unblock": "task.unblocked", "block": "task.blocked",
                          "rescore": "task.rescored"}[name]
    assert events.verify_chain(paths).ok


def test_a_refused_change_opens_no_log(repo: Path) -> None:
    # Bad input is reported before the log is touched: no empty event log appears.
    paths = find_repo(repo)
    with pytest.raises(Exception):
        mark_ready(paths, "stuck")
    assert not events.log_path(paths).exists()


def test_a_change_that_fails_to_write_logs_nothing(repo: Path) -> None:
    # The other order's failure: the log could take the event, the backlog write fails.
    paths = find_repo(repo)
    events.append_event(paths, "run.started", None)
    (paths.state_dir / "backlog.lock").mkdir()
    with pytest.raises(FileAccessError):
        mark_ready(paths, "fresh")
    assert [event.kind for event in events.read_events(paths)] == ["run.started"]
    assert events.verify_chain(paths).ok


@pytest.mark.parametrize("by_hand", [False, True], ids=["to merge", "merged by hand"])
def test_approve_with_a_log_that_is_a_directory_moves_nothing(reviewed, by_hand: bool) -> None:
    paths, branch = reviewed
    if by_hand:
        merge_by_hand(paths, branch)
    events.log_path(paths).unlink()
    events.log_path(paths).mkdir()
    before = unchanged(paths, branch)
    with pytest.raises(FileAccessError) as refused:
        approve(paths, "add")
    assert refused.value.message == f"{LOG} is a directory, where a file is expected"
    assert unchanged(paths, branch) == before
