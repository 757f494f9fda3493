"""Issue 14, defects 5 and 10: bad input to `run` and `attempt` is exit 2 with a hint, found
before anything is written or logged (no run lock, no `run.started`, no report, no commit)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import git, write
from engine_fixtures import RECIPE_POLICY, make_project, task_yaml
from test_cli import run_cli

# The content-keyed parse cache is scratch, which even `plan` may store (DOCS/decisions.md).
SCRATCH = (os.path.join(".git", "leviathan", "cache"),)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the repository, `.git` included (the scratch cache aside), with its bytes."""
    files = {}
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        if path.is_file() and not relative.startswith(SCRATCH):
            files[relative] = path.read_bytes()
    return files


def refused(capsys, root: Path, *command: str) -> str:
    """Run the command; assert exit 2 with `error:` and `hint:` and nothing written; the stderr."""
    before = snapshot(root)
    code, _, err = run_cli(capsys, "--repo", str(root), *command)
    assert code == 2 and err.startswith("error: ") and "\nhint: " in err and "Traceback" not in err, (code, err)
    assert snapshot(root) == before, "a refused command wrote something"
    return err


@pytest.fixture
def project(git_repo: Path) -> Path:
    return make_project(git_repo, task_yaml("add"), RECIPE_POLICY)


@pytest.mark.parametrize("command", [("run",), ("attempt", "add")])
def test_an_invalid_contract_is_refused_before_anything_is_written(project: Path, capsys, command) -> None:
    write(project / ".leviathan" / "contract.yaml", "target_id: demo\ndefault_brnch: main\n")
    err = refused(capsys, project, *command)
    assert ".leviathan/contract.yaml:2:1: default_brnch: unknown key (did you mean `default_branch`?)" in err


@pytest.mark.parametrize("command", [("run",), ("attempt", "add")])
def test_a_contract_naming_a_missing_branch_is_refused(project: Path, capsys, command) -> None:
    write(project / ".leviathan" / "contract.yaml", "default_branch: trunk\n")
    err = refused(capsys, project, *command)
    assert "branch 'trunk' does not exist" in err and "default_branch" in err


def test_an_invalid_policy_is_refused_by_attempt_before_anything_is_written(project: Path, capsys) -> None:
    write(project / ".leviathan" / "policy.yaml", RECIPE_POLICY + "limts: {}\n")
    assert "did you mean `limits`?" in refused(capsys, project, "attempt", "add")


def test_a_recipe_task_without_steps_is_refused_before_the_run_starts(git_repo: Path, capsys) -> None:
    bare = ("  - id: bare\n    title: Bare\n    status: ready\n    effort: 2\n"
            "    allowed_paths: [calc.py]\n    acceptance_criteria: [x]\n")
    root = make_project(git_repo, bare, RECIPE_POLICY)
    assert "task 'bare' has no `steps`" in refused(capsys, root, "run")


def test_a_run_refuses_a_backlog_the_default_branch_does_not_hold(git_repo: Path, capsys) -> None:
    root = make_project(git_repo, task_yaml("add"), RECIPE_POLICY)
    git(root, "rm", "-q", "--cached", "-r", ".leviathan")
    git(root, "commit", "-qm", "forget .leviathan")
    err = refused(capsys, root, "run")
    assert "error: .leviathan/backlog.yaml is not committed on the default branch" in err
    assert "hint: commit it first: git add .leviathan && git commit" in err


def test_a_run_refuses_a_task_the_committed_backlog_lacks(git_repo: Path, capsys) -> None:
    root = make_project(git_repo, task_yaml("other").replace("status: ready", "status: new"), RECIPE_POLICY)
    backlog = root / ".leviathan" / "backlog.yaml"
    backlog.write_text(backlog.read_text() + task_yaml("add"))  # added, never committed
    err = refused(capsys, root, "run")
    assert "a task the run would start is not in the committed .leviathan/backlog.yaml: add" in err
    # A task the run cannot start (filtered out) is no reason to refuse it.
    code, out, _ = run_cli(capsys, "--repo", str(root), "run", "--only", "type=docs")
    assert code == 0 and "Halted: NoMatchingItems" in out


@pytest.mark.parametrize("only, expected", [
    ("colour=red", "error: --only colour=...: no task has a field 'colour'"),
    ("type=featur", "error: --only type=featur: 'featur' is no type a task can have\nhint: did you mean `feature`?"),
    ("status=redy", "did you mean `ready`?"),
    ("priority=urgent", "priority is one of: high, medium, low"),
])
def test_an_unknown_only_field_or_value_is_refused(project: Path, capsys, only: str, expected: str) -> None:
    assert expected in refused(capsys, project, "run", "--only", only)


def test_only_on_a_field_of_the_humans_own_is_allowed(git_repo: Path, capsys) -> None:
    root = make_project(git_repo, task_yaml("add", extra="    colour: blue\n"), RECIPE_POLICY)
    code, out, _ = run_cli(capsys, "--repo", str(root), "run", "--only", "colour=red")
    assert code == 0 and "Halted: NoMatchingItems" in out


def test_bad_input_keeps_the_record_of_a_crashed_run_for_the_next_one(project: Path, capsys) -> None:
    # Refused inside the run lock, it used to rewrite the lock file, losing what recovery reads.
    lock = project / ".git" / "leviathan" / "run.lock"
    write(lock, json.dumps({"pid": 999999, "started": "2026-11-22T11:00:00Z"}))
    refused(capsys, project, "run", "--target", "nope")
    assert json.loads(lock.read_text())["pid"] == 999999
    code, out, _ = run_cli(capsys, "--repo", str(project), "run", "--max-tasks", "1")
    assert code == 0 and "recovered from a run that died (pid 999999" in out
