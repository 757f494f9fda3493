from __future__ import annotations

from pathlib import Path

import pytest
from backlog_samples import EXECUTOR_TASKS, LEVIATHAN_BARE_LIST, LEVIATHAN_TASKS
from conftest import write

from leviathan_local.backlog.document import InvalidBacklogError
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.errors import EXIT_BAD_INPUT, BacklogError
from leviathan_local.git.repo import RepoPaths


def load_text(repo_paths: RepoPaths, text: str):
    write(repo_paths.backlog, text)
    return load_backlog(repo_paths)


def problems_of(repo_paths: RepoPaths, text: str) -> list[str]:
    with pytest.raises(InvalidBacklogError) as caught:
        load_text(repo_paths, text)
    assert caught.value.exit_code == EXIT_BAD_INPUT
    return [problem.render(".leviathan/backlog.yaml") for problem in caught.value.problems]


def test_leviathan_dialect_with_task_id_loads_unchanged(repo_paths: RepoPaths) -> None:
    backlog = load_text(repo_paths, LEVIATHAN_TASKS)
    assert [task.id for task in backlog.tasks] == ["task-001", "task-002"]
    first = backlog.task("task-001")
    assert first.status is Status.NEW  # pending without `ready: true`
    assert first.dialect == "leviathan"
    assert first.allowed_paths == ["requirements.txt", "package.json"]
    assert first.line == 3
    assert backlog.task("task-002").position("allowed_paths") == (21, 5)


def test_bare_list_with_ready_flag_and_completed(repo_paths: RepoPaths) -> None:
    backlog = load_text(repo_paths, LEVIATHAN_BARE_LIST)
    assert backlog.task("docs-leviathan-backlog-guide").status is Status.READY
    done = backlog.task("docs-done-already")
    assert done.status is Status.DONE
    assert done.get("completed_at") == "2026-01-30T23:15:00.123456"  # timestamps stay text
    assert done.get("pr_number") == 707


def test_executor_dialect_statuses_in_any_case(repo_paths: RepoPaths) -> None:
    backlog = load_text(repo_paths, EXECUTOR_TASKS)
    assert [task.status for task in backlog.tasks] == [Status.READY, Status.REFINED, Status.DONE, Status.REVIEW]
    assert backlog.task("custom_1").type == "feature"
    assert backlog.task("custom_1").dialect == "executor"
    assert backlog.warnings == []


def test_empty_and_init_shaped_backlogs_have_no_tasks(repo_paths: RepoPaths) -> None:
    assert load_text(repo_paths, "").tasks == []
    assert load_text(repo_paths, "# nothing yet\ntasks: []\n").tasks == []
    assert load_text(repo_paths, "tasks:\n").tasks == []


def test_flow_style_backlog_loads_through_the_whole_document_parser(repo_paths: RepoPaths) -> None:
    backlog = load_text(repo_paths, "tasks: [{id: a, status: new}, {id: b, status: done}]\n")
    assert [(task.id, task.status) for task in backlog.tasks] == [("a", Status.NEW), ("b", Status.DONE)]


def test_every_problem_is_reported_at_once_with_line_column_task_and_field(repo_paths: RepoPaths) -> None:
    text = """\
tasks:
  - id: a
    status: bogus
    impact: 21
    effort: 0
  - id: a
    type: epic
  - id: b
    dependencies: [nope]
    allowed_paths: [../outside, /etc/passwd, src/]
  - title: no id here
  - id: c
    priority: urgent
    estimated_size: huge
    created_at: yesterday
"""
    problems = problems_of(repo_paths, text)
    expected_fragments = [
        ":3:5: task 'a' field 'status': unknown status 'bogus'",
        ":4:5: task 'a' field 'impact': must be a whole number from 1 to 13",
        ":5:5: task 'a' field 'effort'",
        ":6:5: task 'a' field 'id': duplicate id: already used by the task on line 2",
        ":7:5: task 'a' field 'type': unknown type 'epic'",
        ":9:5: task 'b' field 'dependencies': depends on unknown task 'nope'",
        ":10:5: task 'b' field 'allowed_paths': paths must stay inside the repository",
        ":11:5: field 'id': missing `id`",
        ":13:5: task 'c' field 'priority'",
        ":14:5: task 'c' field 'estimated_size'",
        ":15:5: task 'c' field 'created_at'",
    ]
    for fragment in expected_fragments:
        assert any(fragment in problem for problem in problems), (fragment, problems)
    assert len(problems) == len(expected_fragments)


def test_dependency_cycles_are_named(repo_paths: RepoPaths) -> None:
    text = "tasks:\n- {id: a, dependencies: [b]}\n- {id: b, dependencies: [c]}\n- {id: c, dependencies: [a]}\n- {id: d, dependencies: [d]}\n"
    problems = problems_of(repo_paths, text)
    assert any("dependency cycle: a -> b -> c -> a" in p for p in problems)
    assert any("dependency cycle: d -> d" in p for p in problems)


def test_syntax_error_names_file_line_and_column(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, "tasks:\n  - id: a\n    title: [unclosed\n  - id: b\n")
    with pytest.raises(BacklogError) as caught:
        load_backlog(repo_paths)
    assert ".leviathan/backlog.yaml:" in caught.value.message
    assert "YAML syntax error" in caught.value.message
    assert caught.value.hint


def test_wrong_top_level_shapes_are_explained(repo_paths: RepoPaths) -> None:
    write(repo_paths.backlog, "task:\n  - id: a\n")
    with pytest.raises(BacklogError, match=r"no `tasks:` key \(found: task\)"):
        load_backlog(repo_paths)
    write(repo_paths.backlog, "tasks: 3\n")
    with pytest.raises(BacklogError, match="must be a list"):
        load_backlog(repo_paths)


def test_missing_backlog_says_to_run_init(repo_paths: RepoPaths) -> None:
    with pytest.raises(BacklogError) as caught:
        load_backlog(repo_paths)
    assert "does not exist" in caught.value.message and "leviathan init" in caught.value.hint


def test_close_misspelling_of_a_field_is_a_warning(repo_paths: RepoPaths) -> None:
    backlog = load_text(repo_paths, "tasks:\n  - id: a\n    acceptance_critera: [x]\n")
    assert [w.field for w in backlog.warnings] == ["acceptance_critera"]
    assert "did you mean `acceptance_criteria`" in backlog.warnings[0].message


def test_problems_in_a_cached_item_keep_their_position_when_tasks_above_move(repo_paths: RepoPaths) -> None:
    bad_task = "  - id: z\n    impact: 99\n"
    problems_of(repo_paths, "tasks:\n" + bad_task)
    problems = problems_of(repo_paths, "tasks:\n  - id: new\n    title: inserted above\n" + bad_task)
    assert any(":5:5: task 'z' field 'impact'" in p for p in problems), problems


def test_chunked_and_whole_document_parses_agree(repo_paths: RepoPaths, tmp_path: Path, monkeypatch) -> None:
    from leviathan_local.backlog.parse import _parse_whole, parse_items

    text = LEVIATHAN_TASKS + "  # trailing comment\n"
    chunked, _ = parse_items(text, "b", {})
    whole = _parse_whole(text, "b")
    assert [(i.line, i.item.value, i.item.positions) for i in chunked] == [
        (i.line, i.item.value, i.item.positions) for i in whole
    ]
    assert all(i.start >= 0 for i in chunked)


def test_a_list_item_that_reads_as_a_mapping_gets_a_quoting_hint(repo_paths: RepoPaths) -> None:
    problems = problems_of(repo_paths, "tasks:\n  - id: a\n    acceptance_criteria:\n      - prints Halted: Reason\n")
    assert any("item 1 reads as a mapping" in p and "quote it" in p for p in problems), problems
