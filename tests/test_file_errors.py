"""File-system trouble (a directory where a file belongs, a file where a directory belongs, no
permission) is bad input: a message naming the path, a hint, exit 2, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write
from test_cli import run_cli

from leviathan_local.cli.entry import main as entry_main

BACKLOG = "tasks:\n  - id: a\n    status: new\n    acceptance_criteria: [x]\n"


def assert_explained(result: tuple[int, str, str], message: str) -> None:
    code, _, err = result
    assert code == 2, err
    assert err.startswith(f"error: {message}\nhint: "), err
    assert "Traceback" not in err


@pytest.fixture
def repo(git_repo: Path) -> Path:
    write(git_repo / ".leviathan" / "backlog.yaml", BACKLOG)
    return git_repo


def test_backlog_that_is_a_directory(git_repo: Path, capsys) -> None:
    (git_repo / ".leviathan" / "backlog.yaml").mkdir(parents=True)
    assert_explained(run_cli(capsys, "--repo", str(git_repo), "plan"),
                     ".leviathan/backlog.yaml is a directory, where a file is expected")


def test_leviathan_dir_that_is_a_file(git_repo: Path, capsys) -> None:
    (git_repo / ".leviathan").write_text("not a directory\n")
    result = run_cli(capsys, "--repo", str(git_repo), "plan")
    assert_explained(result, ".leviathan/policy.yaml cannot be reached: .leviathan is a file, not a directory")
    assert "hint: move or rename .leviathan," in result[2]


def test_policy_that_is_a_directory(repo: Path, capsys) -> None:
    (repo / ".leviathan" / "policy.yaml").mkdir()
    assert_explained(run_cli(capsys, "--repo", str(repo), "plan"),
                     ".leviathan/policy.yaml is a directory, where a file is expected")


def test_state_dir_that_is_a_file(repo: Path, capsys) -> None:
    (repo / ".git" / "leviathan").write_text("")
    result = run_cli(capsys, "--repo", str(repo), "ready", "a")
    assert_explained(result, ".git/leviathan is a file, where a directory is expected")
    assert "runtime state" in result[2]
    for args in (["events"], ["events", "verify"]):
        assert_explained(run_cli(capsys, "--repo", str(repo), *args),
                         ".git/leviathan/events.ndjson cannot be reached: .git/leviathan is a file, not a directory")


def test_event_log_that_is_a_directory(repo: Path, capsys) -> None:
    (repo / ".git" / "leviathan" / "events.ndjson").mkdir(parents=True)
    for args in (["events"], ["events", "verify"], ["events", "--json"]):
        assert_explained(run_cli(capsys, "--repo", str(repo), *args),
                         ".git/leviathan/events.ndjson is a directory, where a file is expected")


def test_lock_file_that_is_a_directory(repo: Path, capsys) -> None:
    (repo / ".git" / "leviathan" / "backlog.lock").mkdir(parents=True)
    assert_explained(run_cli(capsys, "--repo", str(repo), "ready", "a"),
                     ".git/leviathan/backlog.lock is a directory, where a file is expected")


def test_an_unforeseen_os_error_is_still_explained_by_the_cli(git_repo: Path, capsys) -> None:
    # init does not convert its own errors: the CLI's last resort names the file from the exception.
    (git_repo / ".leviathan").write_text("")
    assert_explained(run_cli(capsys, "--repo", str(git_repo), "init"),
                     f"{git_repo / '.leviathan'} is a file, where a directory is expected")


DROP_READ_ANYTHING = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def unprivileged_prefix() -> list[str]:
    """What makes a mode-000 file unreadable for the command: nothing for a normal user; for root,
    setpriv dropping the capabilities that let root read any file."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None or subprocess.run([*DROP_READ_ANYTHING, "true"]).returncode != 0:
        pytest.skip("running as root, which reads any file, and setpriv cannot drop that capability here")
    return DROP_READ_ANYTHING


@pytest.mark.parametrize(("unreadable", "args"), [
    (".leviathan/backlog.yaml", ["plan"]),
    (".leviathan/policy.yaml", ["plan"]),
    (".git/leviathan/events.ndjson", ["events", "verify"]),
])
def test_a_file_without_read_permission(repo: Path, unreadable: str, args: list[str]) -> None:
    write(repo / unreadable, "")
    (repo / unreadable).chmod(0)
    result = subprocess.run([*unprivileged_prefix(), sys.executable, "-m", "leviathan_local", "--repo", str(repo),
                             *args], capture_output=True, text=True)
    assert_explained((result.returncode, result.stdout, result.stderr), f"permission denied: {unreadable}")


def test_discover_fast_path_explains_too(git_repo: Path, capsys) -> None:
    # `discover` starts without click (entry.py), so it has its own last resort.
    (git_repo / ".leviathan").write_text("")
    with pytest.raises(SystemExit) as exited:
        entry_main(["--repo", str(git_repo), "discover", "--dry-run"])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert f"{git_repo / '.leviathan'} is a file, not a directory\nhint: " in err and "Traceback" not in err
