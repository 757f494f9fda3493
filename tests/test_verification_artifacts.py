"""Issue 14, defect 8: what the executor's own test runs leave in the worktree is not committed.

The repository's `.gitignore` lacks `__pycache__/`, and the machine's PYTHONDONTWRITEBYTECODE is
taken away, so the test command writes bytecode as it would on a user's machine.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from conftest import git, write
from engine_fixtures import POLICY, make_project, task_yaml

from leviathan_local.commands.review import run_merge
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.git.repo import find_repo


@pytest.fixture(autouse=True)
def writes_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    monkeypatch.delenv("PYTHONPYCACHEPREFIX", raising=False)


def without_pycache_ignore(root: Path) -> Path:
    write(root / ".gitignore", "worktrees/\n")
    git(root, "commit", "-qam", "ignore only the worktrees")
    return root


def files_of(root: Path, commit: str) -> list[str]:
    return sorted(git(root, "show", "--name-only", "--format=", commit).split())


def test_bytecode_of_the_executors_test_runs_is_not_committed(git_repo: Path) -> None:
    root = without_pycache_ignore(make_project(git_repo, task_yaml("t")))
    result = run_attempt(find_repo(root), "t")
    assert result.outcome == "succeeded", result.reason
    assert files_of(root, result.commit) == [".leviathan/backlog.yaml", "calc.py", "tests/test_add.py"]
    # The user ran the tests in the main checkout too: the merge is not refused for their bytecode.
    subprocess.run(["python", "-m", "unittest", "discover", "-s", "tests", "-q"], cwd=root, check=True,
                   capture_output=True)
    assert list((root / "tests").glob("__pycache__/*.pyc"))
    assert run_merge(find_repo(root), "t", io.StringIO()) == 0


def test_any_file_the_test_command_adds_is_removed_and_named(git_repo: Path) -> None:
    """The general rule, for tools that know no PYTHONPYCACHEPREFIX: a coverage file, a cache dir."""
    policy = POLICY.replace('test_command: "python -m unittest discover -s tests -q"',
                            'test_command: "python -m unittest discover -s tests -q; s=$?; '
                            'echo data > .coverage-data; mkdir -p .tool-cache/x && echo c > .tool-cache/x/c; exit $s"')
    root = without_pycache_ignore(make_project(git_repo, task_yaml("t"), policy))
    result = run_attempt(find_repo(root), "t")
    assert result.outcome == "succeeded", result.reason
    assert files_of(root, result.commit) == [".leviathan/backlog.yaml", "calc.py", "tests/test_add.py"]
    log = (find_repo(root).state_dir / "attempts" / f"{result.attempt_id}.log").read_text()
    assert "not the agent's work: .coverage-data, .tool-cache/x/c" in log


def test_what_the_agent_makes_is_still_committed_beside_the_artifacts(git_repo: Path) -> None:
    """An untracked file the agent made, even one a test run could have made, is its work."""
    root = without_pycache_ignore(make_project(git_repo, task_yaml("t", refactor="echo notes > NOTES.txt",
                                                                     allowed="[calc.py, tests/, NOTES.txt]")))
    result = run_attempt(find_repo(root), "t")
    assert result.outcome == "succeeded", result.reason
    assert "NOTES.txt" in files_of(root, result.commit)


def test_the_attempts_commands_get_its_own_temp_dir(git_repo: Path) -> None:
    seen = git_repo.parent / "env.txt"
    root = make_project(git_repo, task_yaml("t", green=f"env > {seen}; printf 'def add(a, b):\\n    return a + b\\n' > calc.py"))
    result = run_attempt(find_repo(root), "t")
    assert result.outcome == "succeeded", result.reason
    env = dict(line.split("=", 1) for line in seen.read_text().splitlines() if "=" in line)
    temp = find_repo(root).state_dir / "tmp" / result.attempt_id
    assert env["TMPDIR"] == str(temp) and env["PYTHONPYCACHEPREFIX"] == str(temp / "pycache")
    assert not temp.exists()  # gone with the attempt
