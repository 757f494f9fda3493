"""A value that never ends (an alias inside its own anchor, `&a [*a]`) is bad input, not a
RecursionError: the backlog lists it among its problems at the anchor's line, with the task and
field; policy.yaml and contract.yaml name the file, line and field the same way; exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write
from test_cli import run_cli

from leviathan_local.config import yamlio
from leviathan_local.config.contract import load_contract
from leviathan_local.errors import ConfigError
from leviathan_local.git.repo import find_repo

BACKLOG = ".leviathan/backlog.yaml"
REASON = "a recursive alias: the anchor here holds an alias to itself"

CASES = {  # backlog, then each problem expected: (line:column, task, field)
    "flow list": ("tasks:\n  - id: a\n    status: new\n    tags: &t [*t]\n", [("4:11", "a", "tags")]),
    "block list": ("tasks:\n  - id: a\n    status: new\n    tags: &t\n      - x\n      - *t\n",
                   [("4:11", "a", "tags")]),
    "a task inside itself": ("tasks:\n  - &a\n    id: a\n    status: new\n    self: *a\n", [("2:5", "a", "self")]),
    "a merge of itself": ("tasks:\n  - id: a\n    status: new\n    <<: &m {effort: 3, <<: *m}\n",
                          [("4:9", "a", "<<")]),
    # An anchor another task names is read by the whole-document parse, not chunk by chunk.
    "shared between tasks": ("tasks:\n  - id: a\n    status: new\n    tags: &t [x, *t]\n"
                             "  - id: b\n    status: new\n    tags: *t\n",
                             [("4:11", "a", "tags"), ("4:11", "b", "tags")]),
}


def plan(root: Path, capsys) -> tuple[int, str, str]:
    return run_cli(capsys, "--repo", str(root), "plan")


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_names_the_file_line_task_and_field(git_repo: Path, capsys, case: str) -> None:
    text, expected = CASES[case]
    write(git_repo / BACKLOG, text)
    for _ in range(2):  # the second load reads the parsed chunks from the cache
        code, out, err = plan(git_repo, capsys)
        assert code == 2 and out == "" and "Traceback" not in err, err
        listed = [line.strip() for line in err.splitlines() if REASON in line]
        assert listed == [f"{BACKLOG}:{where}: task {task!r} field {field!r}: {yamlio.RECURSIVE_REASON}"
                          for where, task, field in expected], err
        assert f"\nhint: fix {'it' if len(expected) == 1 else 'them'} in {BACKLOG}" in err


def test_the_other_problems_are_listed_too(git_repo: Path, capsys) -> None:
    write(git_repo / BACKLOG, "tasks:\n  - id: a\n    status: sideways\n    tags: &t [*t]\n"
                              "  - id: b\n    effort: 40\n")
    code, _, err = plan(git_repo, capsys)
    assert code == 2 and err.startswith(f"error: {BACKLOG} has 3 problems:\n"), err
    assert f"{BACKLOG}:3:5: task 'a' field 'status': unknown status 'sideways'" in err
    assert f"{BACKLOG}:4:11: task 'a' field 'tags': {REASON}" in err
    assert f"{BACKLOG}:6:5: task 'b' field 'effort': must be a whole number" in err


def test_nesting_too_deep_to_follow_is_bad_input_too(git_repo: Path, capsys) -> None:
    # YAML allows a thousand levels; Python's recursion stops short of that.
    write(git_repo / BACKLOG, "tasks:\n  - id: a\n    status: new\n    tags: " + "[" * 700 + "]" * 700 + "\n")
    code, _, err = plan(git_repo, capsys)
    assert code == 2 and "Traceback" not in err
    assert f"{BACKLOG}:4:11: task 'a' field 'tags': nested too deeply to read" in err


def test_a_recursive_alias_no_task_uses_is_harmless(git_repo: Path, capsys) -> None:
    # Only `tasks` is read: an unused top-level key may hold anything YAML allows.
    write(git_repo / BACKLOG, "spare: &s [*s]\ntasks:\n  - id: a\n    status: new\n")
    code, out, err = plan(git_repo, capsys)
    assert code == 0 and "a  not_ready" in out, err


@pytest.mark.parametrize(("policy", "where", "field"), [
    ("forbidden_patterns: &p [a, *p]\n", "1:21", "forbidden_patterns"),
    ("scopes:\n  docs: {allowed_paths: &q [*q]}\n", "2:25", "scopes.docs.allowed_paths"),
    ("escalation: {keywords: &k [auth, [*k]]}\n", "1:24", "escalation.keywords"),
])
def test_policy_names_the_file_line_and_field(git_repo: Path, capsys, policy: str, where: str, field: str) -> None:
    write(git_repo / BACKLOG, "tasks: []\n")
    write(git_repo / ".leviathan" / "policy.yaml", policy)
    code, _, err = plan(git_repo, capsys)
    assert code == 2 and "Traceback" not in err, err
    assert err.startswith(f"error: .leviathan/policy.yaml:{where}: {field}: {REASON}"), err
    assert "\nhint: fix it in .leviathan/policy.yaml; nothing was written\n" in err


def test_contract_names_the_file_and_line(git_repo: Path) -> None:
    # Every contract field is text, so only a key can hold a list, and so an alias to itself.
    write(git_repo / ".leviathan" / "contract.yaml", "? &k [*k]\n: main\n")
    with pytest.raises(ConfigError) as refused:
        load_contract(find_repo(git_repo))
    assert refused.value.message.startswith(f".leviathan/contract.yaml:1:3: ?: {REASON}")


def test_shared_aliases_are_no_cycle() -> None:
    node = yamlio.compose("a: &x [1, {b: 2}]\nc: [*x, *x]\nd: *x\n", "test")
    assert yamlio.find_cycle(node) is None
    assert yamlio.construct(node) == {"a": [1, {"b": 2}], "c": [[1, {"b": 2}], [1, {"b": 2}]], "d": [1, {"b": 2}]}


def test_a_cycle_is_found_with_the_path_to_its_anchor() -> None:
    node = yamlio.compose("a: [1]\nb:\n  - x\n  - &y {c: [*y]}\n", "test")
    found = yamlio.find_cycle(node)
    assert found is not None
    anchor, labels = found
    assert labels == ("b", 1) and yamlio.position(anchor) == (4, 5)
    with pytest.raises(yamlio.YamlRecursionError) as refused:
        yamlio.construct(node)
    assert (refused.value.line, refused.value.column) == (4, 5)
