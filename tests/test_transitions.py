"""`leviathan ready ID` and `leviathan unblock ID`, through the CLI's plain functions."""

from __future__ import annotations

import io

import pytest
from conftest import write

from leviathan_local import events
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.commands.transitions import run_ready, run_unblock
from leviathan_local.errors import EXIT_BAD_INPUT, BacklogError, UnknownTaskError
from leviathan_local.git.repo import RepoPaths

BACKLOG = """\
tasks:
  # humans keep notes here
  - id: fresh
    title: Fresh task
    status: new
    acceptance_criteria: [works]
  - task_id: lev-task
    status: pending   # Leviathan dialect
    acceptance_criteria: [works]
  - id: vague
    status: new
  - id: stuck
    status: blocked
    blocked_reason: waiting for the API owner
    blocked_type: decision
    blocked_from: review
    acceptance_criteria: [works]
  - id: exhausted
    status: BLOCKED
    attempts: 2
    blocked_reason: two attempts failed
    blocked_type: attempts_exhausted
    blocked_from: doing
    acceptance_criteria: [works]
  - id: by-hand
    status: blocked
  - id: finished
    status: done
"""


@pytest.fixture
def paths(repo_paths: RepoPaths) -> RepoPaths:
    write(repo_paths.backlog, BACKLOG)
    return repo_paths


def test_ready_marks_a_new_task_ready_and_logs_it(paths: RepoPaths) -> None:
    out = io.StringIO()
    assert run_ready(paths, "fresh", out=out) == 0
    assert out.getvalue() == "fresh: new -> ready\n"
    assert load_backlog(paths).task("fresh").status is Status.READY
    assert "  # humans keep notes here\n" in paths.backlog.read_text()
    [event] = events.read_events(paths, task_id="fresh")
    assert event.kind == "task.ready"


def test_ready_in_the_leviathan_dialect_sets_the_ready_flag(paths: RepoPaths) -> None:
    run_ready(paths, "lev-task", out=io.StringIO())
    text = paths.backlog.read_text()
    assert "  - task_id: lev-task\n    status: pending   # Leviathan dialect\n    acceptance_criteria: [works]\n    ready: true\n" in text


def test_ready_twice_changes_nothing_the_second_time(paths: RepoPaths) -> None:
    run_ready(paths, "fresh", out=io.StringIO())
    before = paths.backlog.read_bytes()
    out = io.StringIO()
    assert run_ready(paths, "fresh", out=out) == 0
    assert "already ready" in out.getvalue()
    assert paths.backlog.read_bytes() == before
    assert len(events.read_events(paths, task_id="fresh")) == 1


@pytest.mark.parametrize(("task_id", "message"), [
    ("vague", "no acceptance_criteria"),
    ("stuck", "is blocked"),
    ("finished", "is done"),
])
def test_ready_refuses_with_a_hint(paths: RepoPaths, task_id: str, message: str) -> None:
    before = paths.backlog.read_bytes()
    with pytest.raises(BacklogError, match=message) as caught:
        run_ready(paths, task_id)
    assert caught.value.hint and caught.value.exit_code == EXIT_BAD_INPUT
    assert paths.backlog.read_bytes() == before


def test_unknown_task_id(paths: RepoPaths) -> None:
    with pytest.raises(UnknownTaskError, match="no task 'nope'"):
        run_ready(paths, "nope")


def test_ready_can_approve_an_escalation(paths: RepoPaths) -> None:
    run_ready(paths, "fresh", approve_escalation=True, out=io.StringIO())
    assert load_backlog(paths).task("fresh").get("escalation_approved_at") == "2026-11-22T12:00:00Z"


def test_unblock_restores_the_previous_status_and_clears_the_block(paths: RepoPaths) -> None:
    out = io.StringIO()
    assert run_unblock(paths, "stuck", note="owner agreed", out=out) == 0
    assert out.getvalue() == "stuck: blocked -> review\n"
    task = load_backlog(paths).task("stuck")
    assert task.status is Status.REVIEW
    assert not {"blocked_reason", "blocked_type", "blocked_from"} & set(task.data)
    [event] = events.read_events(paths, task_id="stuck")
    assert event.kind == "task.unblocked"
    assert event.data["note"] == "owner agreed"
    assert event.data["blocked_reason"] == "waiting for the API owner"


def test_unblocking_exhausted_attempts_grants_fresh_attempts(paths: RepoPaths) -> None:
    run_unblock(paths, "exhausted", out=io.StringIO())
    task = load_backlog(paths).task("exhausted")
    assert task.status is Status.READY  # it was doing when blocked: the attempt is over
    assert task.attempts == 0
    assert task.data["status"] == "READY"  # the task's letter case is kept


def test_unblock_without_a_record_of_the_previous_status(paths: RepoPaths) -> None:
    run_unblock(paths, "by-hand", out=io.StringIO())
    assert load_backlog(paths).task("by-hand").status is Status.NEW  # no acceptance criteria: not ready


def test_unblock_refuses_a_task_that_is_not_blocked(paths: RepoPaths) -> None:
    with pytest.raises(BacklogError, match="is not blocked"):
        run_unblock(paths, "fresh")
