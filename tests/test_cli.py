"""The CLI contract: exit codes, errors on stderr without tracebacks, --repo from anywhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write

from leviathan_local.backlog.store import load_backlog
from leviathan_local.cli.main import main
from leviathan_local.config.contract import load_contract
from leviathan_local.config.policy_load import load_policy
from leviathan_local.git.repo import find_repo

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return exited.value.code, captured.out, captured.err


def test_unknown_task_exits_2_with_a_hint(git_repo: Path, capsys) -> None:
    write(git_repo / ".leviathan" / "backlog.yaml", "tasks:\n  - id: a\n    status: new\n")
    code, out, err = run_cli(capsys, "--repo", str(git_repo), "ready", "b")
    assert code == 2
    assert err.startswith("error: no task 'b' in .leviathan/backlog.yaml\nhint: ")
    assert "Traceback" not in err


def test_ready_and_unblock_through_the_cli(git_repo: Path, capsys) -> None:
    write(git_repo / ".leviathan" / "backlog.yaml",
          "tasks:\n  - id: a\n    status: new\n    acceptance_criteria: [x]\n")
    assert run_cli(capsys, "--repo", str(git_repo), "ready", "a")[:2] == (0, "a: new -> ready\n")
    code, _, err = run_cli(capsys, "--repo", str(git_repo), "unblock", "a", "--note", "why")
    assert code == 2 and "is not blocked" in err


def test_usage_errors_exit_2(git_repo: Path, capsys) -> None:
    assert run_cli(capsys, "--repo", str(git_repo), "plan", "--limit", "0")[0] == 2
    assert run_cli(capsys, "no-such-command")[0] == 2


def test_repo_option_works_from_any_directory(git_repo: Path, tmp_path: Path) -> None:
    write(git_repo / ".leviathan" / "backlog.yaml", "tasks: []\n")
    (git_repo / "sub").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for repo_arg in (str(git_repo), str(git_repo / "sub")):
        result = subprocess.run([sys.executable, "-m", "leviathan_local", "--repo", repo_arg, "plan"],
                                cwd=elsewhere, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert "No tasks yet: write one in .leviathan/backlog.yaml" in result.stdout


def test_this_repository_carries_a_valid_leviathan_setup() -> None:
    paths = find_repo(PROJECT_ROOT)
    tasks = load_backlog(paths).tasks
    assert any(task.status.value != "done" for task in tasks), "the project's own backlog lists its next tasks"
    assert load_policy(paths).invariants
    assert load_contract(paths).target_id == "leviathan-local"
