"""YAML merge keys in backlog.yaml: a task takes fields from a shared mapping (`<<: *defaults`).

Read per the merge-key spec, as ruamel.yaml reads them (a task's own key wins, an earlier
merged mapping over a later one), by the chunked parser and the whole-document one alike; a
writeback adds or replaces the task's own key and leaves the merge and the anchor as written.
"""

from __future__ import annotations

import json

import pytest
from conftest import write
from test_backlog_write import changed_lines

from leviathan_local.backlog import store as backlog_store
from leviathan_local.backlog.document import InvalidBacklogError
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.parse import _parse_whole, parse_items
from leviathan_local.backlog.round_trip import round_trip_edit
from leviathan_local.backlog.store import load_backlog, update_task
from leviathan_local.cli.main import main
from leviathan_local.git.repo import RepoPaths

SHARED = """\
# Fields most tasks share.
defaults: &defaults {status: ready, effort: 3}   # edit here, not per task
urgent: &urgent
  impact: 8
  effort: 2

tasks:
  # Takes every default; the merge is its last key.
  - id: plain
    title: 'Takes every default'
    allowed_paths: [src/]
    acceptance_criteria: [works]
    <<: *defaults
  - id: own-effort
    effort: 1           # beats the default, though written before the merge
    <<: *defaults
    title: Quicker
    allowed_paths: [src/]
    acceptance_criteria: [works]
  - id: both
    <<: [*urgent, *defaults]
    title: Both
    allowed_paths: [src/]
    acceptance_criteria: [works]
  - id: listed
    title: Listed
    allowed_paths: [src/]
    acceptance_criteria: [works]
    <<:
      - *urgent
      - *defaults

  - id: own-status
    <<: *defaults
    status: new   # not ready yet
"""


def fields(paths: RepoPaths, *names: str) -> dict[str, tuple]:
    backlog_store._last.clear()  # read the file again, not the backlog the write left behind
    return {task.id: tuple(task.get(name) for name in names) for task in load_backlog(paths).tasks}


def reference_tasks(text: str) -> list[dict]:
    """The tasks as ruamel.yaml's loader reads them, the reference for merge-key semantics.
    Not PyYAML's: 6.0's loader tells merged keys apart by the identity of their string objects,
    so in `<<: [*a, *b]` a later mapping wins for most keys, against the merge-key spec."""
    from ruamel.yaml import YAML

    document = YAML(typ="safe").load(text)
    return document["tasks"] if isinstance(document, dict) else document


def test_merged_fields_load_and_a_key_of_the_task_wins(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, SHARED)
    backlog = load_backlog(repo_paths)
    assert fields(repo_paths, "status", "effort", "impact") == {
        "plain": ("ready", 3, None), "own-effort": ("ready", 1, None), "both": ("ready", 2, 8),
        "listed": ("ready", 2, 8), "own-status": ("new", 3, None),
    }
    assert backlog.task("own-status").status is Status.NEW
    assert backlog.warnings == []  # `<<` is no unknown field
    assert [task.data for task in backlog.tasks] == reference_tasks(SHARED)


def test_plan_ranks_by_the_merged_inputs(repo_paths: RepoPaths, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo_paths.backlog, SHARED)
    with pytest.raises(SystemExit) as exited:
        main(["--repo", str(repo_paths.root), "plan", "--json"])
    assert exited.value.code == 0
    plan = json.loads(capsys.readouterr().out)
    ranked = [(entry["id"], entry["terms"]["effort"]) for entry in plan["actionable"]]
    # (5 + 3 + 2) / 1, then (8 + 3 + 2) / 2 twice (file order), then (5 + 3 + 2) / 3
    assert ranked == [("own-effort", 1), ("both", 2), ("listed", 2), ("plain", 3)]
    assert all("effort" not in entry["estimated"] for entry in plan["actionable"])  # read, not guessed
    assert {entry["id"]: entry["reason"] for entry in plan["skipped"]} == {"own-status": "not_ready"}


ADDED = "    status: doing\n    attempts: 1\n"


@pytest.mark.parametrize(("task_id", "placed"), [
    ("plain", "    <<: *defaults\n" + ADDED + "  - id: own-effort\n"),
    ("own-effort", "    acceptance_criteria: [works]\n" + ADDED + "  - id: both\n"),
    ("both", "    acceptance_criteria: [works]\n" + ADDED + "  - id: listed\n"),
    ("listed", "      - *defaults\n" + ADDED + "\n  - id: own-status\n"),
], ids=["merge-last", "merge-in-the-middle", "merge-of-a-flow-list", "merge-of-a-block-list"])
def test_a_status_writeback_adds_the_tasks_own_key(repo_paths: RepoPaths, task_id: str, placed: str) -> None:
    write(repo_paths.backlog, SHARED)
    update_task(repo_paths, task_id, {"status": "doing", "attempts": 1})
    text = repo_paths.backlog.read_text()
    # Two lines added after the task's last one; the merge, the anchors and every comment stay.
    assert changed_lines(SHARED, text) == sorted(["+     status: doing", "+     attempts: 1"])
    assert placed in text
    statuses = fields(repo_paths, "status", "attempts")
    assert statuses.pop(task_id) == ("doing", 1)
    assert statuses.pop("own-status") == ("new", None)
    assert set(statuses.values()) == {("ready", None)}  # the tasks sharing the defaults did not change


def test_a_writeback_replaces_the_own_key_beside_the_merge(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, SHARED)
    update_task(repo_paths, "own-status", {"status": "ready"})
    text = repo_paths.backlog.read_text()
    assert changed_lines(SHARED, text) == sorted(["-     status: new   # not ready yet",
                                                  "+     status: ready   # not ready yet"])
    assert fields(repo_paths, "status")["own-status"] == ("ready",)


@pytest.mark.parametrize("task_id", ["plain", "own-effort", "both", "listed", "own-status"])
def test_the_line_editor_and_the_round_trip_fallback_agree(task_id: str) -> None:
    """The fallback writer (ruamel.yaml) writes the task's own key beside the merge too: both
    results read, with the tool's parser and with ruamel.yaml's, as the same backlog."""
    changes = {"status": "review", "last_attempt_id": "attempt-x-1"}
    line_edited = backlog_store.edit_task_text(SHARED, "backlog", task_id, changes)
    round_trip = round_trip_edit(SHARED, "backlog", task_id, changes, ())
    assert round_trip is not None and "<<: *defaults" in round_trip and "&defaults" in round_trip
    assert reference_tasks(round_trip) == reference_tasks(line_edited)
    assert tasks_of(round_trip) == tasks_of(line_edited)
    assert tasks_of(line_edited)[task_id]["status"] == "review"


def tasks_of(text: str) -> dict[str, dict]:
    items, _ = parse_items(text, "backlog", {})
    return {item.item.value["id"]: item.item.value for item in items}


SELF_CONTAINED = """\
tasks:
  - id: inline
    <<: {status: ready, effort: 3}
    title: Inline
  - id: local-anchor
    <<: [&local {effort: 2}, {status: ready, effort: 5, impact: 3}]
    impact: 8
  - id: nested
    <<:
      <<: {status: new, effort: 8}
      effort: 1
"""


def test_the_chunked_and_the_whole_document_parsers_agree() -> None:
    """Merges within one task parse chunk by chunk (the fast path); the result is the whole
    document parse's, positions included, and ruamel.yaml's."""
    chunked, _ = parse_items(SELF_CONTAINED, "backlog", {})
    assert all(located.start >= 0 for located in chunked)  # the fast path took them
    whole = _parse_whole(SELF_CONTAINED, "backlog")
    assert [(c.item.value, c.item.positions, c.line) for c in chunked] == [
        (w.item.value, w.item.positions, w.line) for w in whole]
    assert [c.item.value for c in chunked] == reference_tasks(SELF_CONTAINED)
    assert [c.item.value for c in chunked] == [
        {"status": "ready", "effort": 3, "id": "inline", "title": "Inline"},
        {"effort": 2, "status": "ready", "impact": 8, "id": "local-anchor"},
        {"status": "new", "effort": 1, "id": "nested"},
    ]


def test_a_chunked_writeback_beside_an_inline_merge(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, SELF_CONTAINED)
    update_task(repo_paths, "nested", {"status": "ready"})
    assert repo_paths.backlog.read_text() == SELF_CONTAINED + "    status: ready\n"
    assert fields(repo_paths, "status", "effort")["nested"] == ("ready", 1)


def test_a_bad_merged_value_is_reported_at_the_tasks_merge_line(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, "huge: &huge {effort: 40}\ntasks:\n  - id: a\n    status: ready\n    <<: *huge\n"
                              "  - id: b\n    <<: 3\n")
    with pytest.raises(InvalidBacklogError) as raised:
        load_backlog(repo_paths)
    found = {(p.task_id, p.field): (p.line, p.column) for p in raised.value.problems}
    assert found == {("a", "effort"): (5, 5), ("b", "<<"): (7, 5)}
    assert "merge key takes a mapping" in str(raised.value)


def test_removing_a_merged_field_overrides_it_with_a_null(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, SHARED)
    update_task(repo_paths, "plain", {}, removals=("effort",))
    assert changed_lines(SHARED, repo_paths.backlog.read_text()) == ["+     effort: null"]
    values = fields(repo_paths, "effort")
    assert values["plain"] == (None,) and values["own-status"] == (3,)  # the shared mapping is untouched


def test_a_status_that_is_an_alias_is_replaced_without_rewriting_the_anchor(repo_paths: RepoPaths) -> None:
    text = "state: &state ready\ntasks:\n  - id: a\n    status: *state\n    title: A\n  - id: b\n    status: *state\n"
    write(repo_paths.backlog, text)
    update_task(repo_paths, "a", {"status": "doing"})
    after = repo_paths.backlog.read_text()
    assert after.startswith("state: &state ready\n") and after.count("*state") == 1
    assert fields(repo_paths, "status") == {"a": ("doing",), "b": ("ready",)}


def test_a_merge_reaches_the_attempts_writeback() -> None:
    """`edit_task_text` (an attempt's completion in its commit) takes the same path."""
    done = backlog_store.edit_task_text(SHARED, "backlog", "plain",
                                        {"status": "done", "completed_at": "2026-11-22T12:00:00Z"})
    assert changed_lines(SHARED, done) == sorted(["+     status: done", "+     completed_at: 2026-11-22T12:00:00Z"])
