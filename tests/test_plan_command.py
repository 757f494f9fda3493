"""`leviathan plan`: ranked queue, skipped reasons, --explain, --json, --limit; writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import tree_snapshot, write
from leviathan_local.cli import main

BACKLOG = """\
tasks:
  - id: quick-win
    title: Fix the crash on save
    status: ready
    impact: 8
    time_criticality: 5
    risk_reduction: 3
    effort: 2
    allowed_paths: [src/]
    acceptance_criteria: [no crash]
    created_at: 2026-11-12T12:00:00Z
  - id: estimated
    title: Minor cleanup of docs
    status: ready
    allowed_paths: [docs/]
    acceptance_criteria: [tidy]
  - id: waiting
    status: ready
    dependencies: [later]
    allowed_paths: [src/]
    acceptance_criteria: [x]
  - id: later
    status: new
  - id: secrets
    title: Rotate the auth tokens
    status: ready
    allowed_paths: [src/auth/]
    acceptance_criteria: [rotated]
  - id: sneaky
    status: ready
    allowed_paths: [.leviathan/backlog.yaml]
    acceptance_criteria: [x]
"""


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return exited.value.code, captured.out, captured.err


@pytest.fixture
def repo(git_repo: Path) -> Path:
    write(git_repo / ".leviathan" / "backlog.yaml", BACKLOG)
    return git_repo


def test_json_lists_the_ranked_queue_and_the_skipped_tasks(repo: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "--repo", str(repo), "plan", "--json")
    assert code == 0
    plan = json.loads(out)
    assert [(a["id"], a["rank"]) for a in plan["actionable"]] == [("quick-win", 1), ("estimated", 2)]
    first = plan["actionable"][0]
    # (8 + 5 + 3) × (1 + 0.1 × 10 days) / 2 = 16.0
    assert first["score"] == 16.0
    assert first["estimated"] == []
    assert {"impact", "time_criticality", "risk_reduction", "effort", "aging"} <= set(first["terms"])
    assert "impact" in plan["actionable"][1]["estimated"]
    assert {s["id"]: s["reason"] for s in plan["skipped"]} == {
        "waiting": "deps", "later": "not_ready", "secrets": "escalated", "sneaky": "forbidden_path",
    }


def test_limit_and_explain(repo: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "--repo", str(repo), "plan", "--explain", "--limit", "1")
    assert code == 0
    assert "quick-win" in out and "estimated  score" not in out
    assert "score 16.000 = (8 + 5 + 3) × 2.00 / 2" in out
    assert "aging 2.00 = min(1 + 0.1 × 10 days, 2)" in out
    assert "impact 5 (estimated" not in out  # only the first task is shown
    assert "Skipped: 4 task(s)" in out


def test_plan_writes_nothing(repo: Path, capsys) -> None:
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "backlog"], cwd=repo, check=True)

    def visible_state() -> dict:
        snapshot = tree_snapshot(repo)
        # The content-keyed parse cache is the one thing plan may refresh (DOCS/decisions.md).
        return {path: value for path, value in snapshot.items() if not path.startswith(".git/leviathan/cache/")}

    run_cli(capsys, "--repo", str(repo), "plan")  # a first run may fill the parse cache
    before = visible_state()
    for args in (["plan"], ["plan", "--json"], ["plan", "--explain", "--limit", "2"]):
        assert run_cli(capsys, "--repo", str(repo), *args)[0] == 0
    assert visible_state() == before
    assert not (repo / ".git" / "leviathan" / "events.ndjson").exists()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout
    assert status == ""


def test_plan_from_another_directory_and_outside_a_repository(repo: Path, tmp_path: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "--repo", str(repo / "src-does-not-matter"), "plan")
    assert code == 2
    outside = tmp_path / "plain-dir"
    outside.mkdir()
    code, out, err = run_cli(capsys, "--repo", str(outside), "plan")
    assert code == 2
    assert "is not inside a git repository" in err and "hint:" in err
    assert "Traceback" not in err


def test_invalid_backlog_exits_2_with_every_problem_on_stderr(repo: Path, capsys) -> None:
    write(repo / ".leviathan" / "backlog.yaml", "tasks:\n  - id: a\n    impact: 20\n  - id: a\n")
    code, out, err = run_cli(capsys, "--repo", str(repo), "plan", "--json")
    assert code == 2 and out == ""
    assert ".leviathan/backlog.yaml:3:5: task 'a' field 'impact'" in err
    assert ".leviathan/backlog.yaml:4:5: task 'a' field 'id': duplicate id" in err


def test_console_script_runs_as_a_module(repo: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "leviathan_local", "--repo", str(repo), "plan", "--json"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["actionable"][0]["id"] == "quick-win"
