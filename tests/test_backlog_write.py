"""Tool writes change only the tool's fields; everything a human wrote survives byte for byte."""

from __future__ import annotations

import difflib
import os
import threading

import pytest
from backlog_samples import EXECUTOR_TASKS, LEVIATHAN_BARE_LIST, LEVIATHAN_TASKS
from conftest import write

from leviathan_local.backlog import store as backlog_store
from leviathan_local.backlog.edit import EditRefused, edit_fields
from leviathan_local.backlog.layout import task_mapping
from leviathan_local.backlog.model import Status, status_fields
from leviathan_local.backlog.store import load_backlog, update_task
from leviathan_local.config import yamlio
from leviathan_local.errors import BacklogError, UnknownTaskError
from leviathan_local.git.repo import RepoPaths


def changed_lines(before: str, after: str) -> list[str]:
    """The removed and added lines, sorted (the order difflib pairs them in is not the point)."""
    return sorted(line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-")


def test_status_writeback_touches_only_the_status_line(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, LEVIATHAN_TASKS)
    task = update_task(repo_paths, "task-002", {"status": "doing"})
    after = repo_paths.backlog.read_text()
    assert changed_lines(LEVIATHAN_TASKS, after) == sorted(["-     status: pending", "+     status: doing"])
    assert task.status is Status.DOING


def test_completion_writeback_in_the_leviathan_dialect(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, LEVIATHAN_BARE_LIST)
    task = load_backlog(repo_paths).task("docs-leviathan-backlog-guide")
    changes = {**status_fields(task, Status.DONE), "last_attempt_id": "attempt-x-abc123",
               "branch_name": "agent/x-abc123", "completed_at": "2026-01-30T23:15:00Z"}
    update_task(repo_paths, task.id, changes)
    after = repo_paths.backlog.read_text()
    assert changed_lines(LEVIATHAN_BARE_LIST, after) == sorted([
        "-   ready: true", "+   ready: false",
        "-   status: pending", "+   status: completed",
        "+   last_attempt_id: attempt-x-abc123",
        "+   branch_name: agent/x-abc123",
        "+   completed_at: 2026-01-30T23:15:00Z",
    ])
    assert load_backlog(repo_paths).task(task.id).status is Status.DONE


def test_executor_dialect_keeps_upper_case_statuses(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, EXECUTOR_TASKS)
    task = load_backlog(repo_paths).task("custom_1")
    assert status_fields(task, Status.DOING) == {"status": "DOING"}
    assert status_fields(load_backlog(repo_paths).task("custom_2"), Status.READY) == {"status": "ready"}


def test_comments_quoting_and_blank_lines_survive(repo_paths: RepoPaths) -> None:
    text = (
        "# header comment\n"
        "tasks:   # the list\n"
        "\n"
        "  # about a\n"
        "  - id: 'a'          # quoted id\n"
        "    status: \"ready\"  # double quoted\n"
        "    title: >\n"
        "      folded text\n"
        "\n"
        "    attempts: 1\n"
        "\n"
        "  # about b\n"
        "  - {id: b, status: new}\n"
        "# footer\n"
    )
    write(repo_paths.backlog, text)
    update_task(repo_paths, "a", {"status": "doing", "attempts": 2, "blocked_reason": "x: y"})
    update_task(repo_paths, "b", {"status": "ready", "attempts": 1})
    after = repo_paths.backlog.read_text()
    assert changed_lines(text, after) == sorted([
        '-     status: "ready"  # double quoted', '+     status: "doing"  # double quoted',
        "-     attempts: 1", "+     attempts: 2",
        '+     blocked_reason: "x: y"',
        "-   - {id: b, status: new}", '+   - {id: b, status: "ready", attempts: 1}',
    ])


def test_removing_block_fields_deletes_their_lines(repo_paths: RepoPaths) -> None:
    text = "tasks:\n  - id: a\n    status: blocked\n    blocked_reason: |\n      needs a decision\n    blocked_type: decision\n    title: kept\n"
    write(repo_paths.backlog, text)
    update_task(repo_paths, "a", {"status": "ready"}, removals=("blocked_reason", "blocked_type"))
    assert repo_paths.backlog.read_text() == "tasks:\n  - id: a\n    status: ready\n    title: kept\n"


def test_a_failed_load_never_writes(repo_paths: RepoPaths) -> None:
    broken = "tasks:\n  - id: a\n    impact: 40\n"
    write(repo_paths.backlog, broken)
    before = os.stat(repo_paths.backlog).st_mtime_ns
    with pytest.raises(BacklogError):
        update_task(repo_paths, "a", {"status": "ready"})
    assert repo_paths.backlog.read_text() == broken
    assert os.stat(repo_paths.backlog).st_mtime_ns == before


def test_unknown_task_is_a_clear_error(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, LEVIATHAN_TASKS)
    with pytest.raises(UnknownTaskError, match="no task 'task-999'"):
        update_task(repo_paths, "task-999", {"status": "doing"})


def test_a_value_that_would_break_the_task_is_refused(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, LEVIATHAN_TASKS)
    with pytest.raises(BacklogError, match="would make task 'task-001' invalid"):
        update_task(repo_paths, "task-001", {"attempts": -1})
    assert repo_paths.backlog.read_text() == LEVIATHAN_TASKS


def test_human_edit_between_load_and_write_is_kept(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, LEVIATHAN_TASKS)
    load_backlog(repo_paths)  # the tool's view is now this version
    human = LEVIATHAN_TASKS.replace('title: "Update dependencies"', 'title: "Update all dependencies"')
    human += "\n  - task_id: task-003\n    title: added by a human\n"
    write(repo_paths.backlog, human)
    update_task(repo_paths, "task-001", {"status": "doing"})
    after = repo_paths.backlog.read_text()
    assert 'title: "Update all dependencies"' in after and "task-003" in after
    assert changed_lines(human, after) == sorted(["-     status: pending", "+     status: doing"])


def test_edit_during_the_write_is_detected_and_reapplied(repo_paths: RepoPaths, monkeypatch) -> None:
    """A human saves between the tool's read and its rename: the tool re-reads and re-applies."""
    write(repo_paths.backlog, LEVIATHAN_TASKS)
    human = LEVIATHAN_TASKS.replace("priority: medium", "priority: high  # bumped")
    real_write = backlog_store.write_atomic_if_unchanged
    calls = []

    def human_saves_first(path, data, expected):
        if not calls:
            write(path, human)  # the human's editor saves right now
        calls.append(path)
        return real_write(path, data, expected)

    monkeypatch.setattr(backlog_store, "write_atomic_if_unchanged", human_saves_first)
    update_task(repo_paths, "task-002", {"status": "doing"})
    after = repo_paths.backlog.read_text()
    assert len(calls) == 2
    assert changed_lines(human, after) == sorted(["-     status: pending", "+     status: doing"])


def test_concurrent_writers_lose_nothing(repo_paths: RepoPaths) -> None:
    tasks = "".join(f"  - id: t{i}\n    status: new\n" for i in range(8))
    write(repo_paths.backlog, "tasks:\n" + tasks)
    threads = [threading.Thread(target=update_task, args=(repo_paths, f"t{i}", {"attempts": i + 1}))
               for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    backlog_store._last.clear()
    assert [t.attempts for t in load_backlog(repo_paths).tasks] == [i + 1 for i in range(8)]


def test_edit_refuses_what_it_cannot_verify() -> None:
    def find(text: str):
        return yamlio.compose(text, "x").value[0]

    # The anchored value is shared with another key: no text edit of one key alone is right.
    text = "- id: a\n  status: &s new\n  other: *s\n"
    with pytest.raises(EditRefused):
        edit_fields(text, find, {"status": "ready"})


SHARED_PATHS = """\
# Paths every API task may touch.
api_paths: &api [src/api/, tests/api/]   # one list, many tasks

tasks:
  # The next thing to do.
  - id: a
    title: 'Log requests'
    status: ready
    allowed_paths: *api
  - id: b
    status: new     # later
    allowed_paths: *api
"""
STARTED = {"status": "doing", "attempts": 1, "last_attempt_id": "attempt-a-1a2b3c", "branch_name": "agent/a-1a2b3c"}


def line_editor_refuses(text: str, task_id: str, changes: dict) -> bool:
    """Whether the verified line editor alone refuses this edit (what sends it to the fallback)."""
    try:
        edit_fields(text, lambda document: task_mapping(document, "backlog", task_id), changes)
    except EditRefused:
        return True
    return False


def restyled(text: str, newline: str, item_indent: int) -> str:
    """``text`` (items at column 2) with its items at ``item_indent`` and ``newline`` line ends."""
    shift = 2 - item_indent
    lines = [line[shift:] if line.startswith("  ") else line for line in text.split("\n")]
    return newline.join(lines)


@pytest.mark.parametrize(("newline", "item_indent"), [("\n", 2), ("\r\n", 2), ("\n", 0)])
def test_a_task_ending_in_an_alias_is_written_by_the_round_trip_fallback(repo_paths: RepoPaths, newline: str,
                                                                         item_indent: int) -> None:
    # The alias's node is the anchor's, far above the task: the line editor cannot place new fields.
    text = restyled(SHARED_PATHS, newline, item_indent)
    assert line_editor_refuses(text, "a", STARTED)
    repo_paths.backlog.parent.mkdir()
    repo_paths.backlog.write_bytes(text.encode())
    update_task(repo_paths, "a", STARTED)
    after = repo_paths.backlog.read_bytes().decode()
    assert after == restyled(SHARED_PATHS.replace(
        "    status: ready\n    allowed_paths: *api\n",
        "    status: doing\n    allowed_paths: *api\n    attempts: 1\n"
        "    last_attempt_id: attempt-a-1a2b3c\n    branch_name: agent/a-1a2b3c\n"), newline, item_indent)
    backlog_store._last.clear()
    task = load_backlog(repo_paths).task("a")
    assert {name: task.get(name) for name in STARTED} == STARTED
    assert task.allowed_paths == ["src/api/", "tests/api/"]


def test_a_new_field_goes_before_a_final_block_scalar_without_newline(repo_paths: RepoPaths) -> None:
    # After the text, the new field would need a newline that `|` would take into the value; the
    # round-trip fallback kept the value but respelled the human's `|` as `|-`.
    text = "tasks:\n  - id: a\n    status: ready\n    description: |\n      Keep the\n      two lines"
    write(repo_paths.backlog, text)
    update_task(repo_paths, "a", {"attempts": 1, "branch_name": "agent/a-1a2b3c"})
    after = repo_paths.backlog.read_text()
    assert after == ("tasks:\n  - id: a\n    status: ready\n    attempts: 1\n    branch_name: agent/a-1a2b3c\n"
                     "    description: |\n      Keep the\n      two lines")
    backlog_store._last.clear()
    task = load_backlog(repo_paths).task("a")
    assert (task.description, task.attempts) == ("Keep the\ntwo lines", 1)


def test_a_new_field_goes_before_a_block_scalar_that_keeps_its_blank_lines(repo_paths: RepoPaths) -> None:
    text = "tasks:\n  - id: a\n    description: |+\n      kept\n\n  - id: b\n"
    write(repo_paths.backlog, text)
    update_task(repo_paths, "a", {"attempts": 1})
    assert repo_paths.backlog.read_text() == "tasks:\n  - id: a\n    attempts: 1\n    description: |+\n      kept\n\n  - id: b\n"


def test_the_fallback_quotes_what_yaml_1_1_would_misread(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, SHARED_PATHS)
    update_task(repo_paths, "a", {"blocked_reason": "yes", "branch_name": "on"})
    backlog_store._last.clear()
    task = load_backlog(repo_paths).task("a")
    assert (task.get("blocked_reason"), task.get("branch_name")) == ("yes", "on")


def test_a_round_trip_that_changes_other_data_is_refused_and_nothing_is_written(repo_paths: RepoPaths) -> None:
    # ruamel.yaml re-spells this timestamp (`.100000`), and the tool keeps timestamps as written.
    text = SHARED_PATHS + "    created_at: 2026-11-01T10:00:00.10Z\n"
    write(repo_paths.backlog, text)
    with pytest.raises(EditRefused):
        update_task(repo_paths, "a", STARTED)
    assert repo_paths.backlog.read_text() == text


@pytest.mark.parametrize("human_line", ["    flaky: True\n", "    owner: ~\n"])
def test_a_round_trip_that_respells_the_human_s_text_is_refused(repo_paths: RepoPaths, human_line: str) -> None:
    # The same data (`True` and `true`, `~` and nothing read alike), but the human's spelling
    # would change: the fallback refuses rather than rewrite a line the edit is not about.
    text = SHARED_PATHS.replace("    title: 'Log requests'\n", "    title: 'Log requests'\n" + human_line)
    assert line_editor_refuses(text, "a", STARTED)
    write(repo_paths.backlog, text)
    with pytest.raises(EditRefused):
        update_task(repo_paths, "a", STARTED)
    assert repo_paths.backlog.read_text() == text
