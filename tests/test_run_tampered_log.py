"""Issue 14, defect 9: after a line of the event log was edited, `leviathan run` halted normally
with exit 0 (only `events verify` noticed). A run checks the chain before it appends: the part
up to the last verified point by its digest, the events after it one by one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git
from engine_fixtures import make_project, task_yaml

from leviathan_local.events import VERIFIED_POINT, append_event, check_chain, log_path
from leviathan_local.git.repo import RepoPaths, find_repo


def leviathan(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leviathan_local", "--repo", str(root), *arguments],
                          capture_output=True, text=True, timeout=120)


def edit_line(paths: RepoPaths, number: int) -> None:
    """Change one field of the event on line ``number``, keeping it valid JSON (as a hand edit would)."""
    lines = log_path(paths).read_text().splitlines(keepends=True)
    event = json.loads(lines[number - 1])
    event["data"]["edited"] = True
    lines[number - 1] = json.dumps(event, separators=(",", ":")) + "\n"
    log_path(paths).write_text("".join(lines))


@pytest.mark.parametrize("where", ["line 6, before the verified point", "the last line, after it"])
def test_a_run_refuses_a_tampered_log_with_exit_1_naming_the_first_broken_line(git_repo: Path, where: str) -> None:
    paths = find_repo(make_project(git_repo, task_yaml("a") + task_yaml("b")))
    first = leviathan(paths.root, "run", "--max-tasks", "1")
    assert first.returncode == 0, first.stderr
    total = len(log_path(paths).read_text().splitlines())
    line = 6 if where.startswith("line 6") else total
    point = json.loads((paths.state_dir / VERIFIED_POINT).read_text())
    assert (line <= point["count"]) == where.startswith("line 6")  # the case the digest alone catches, and the other
    edit_line(paths, line)
    log_before, head_before = log_path(paths).read_bytes(), git(paths.root, "rev-parse", "HEAD")

    second = leviathan(paths.root, "run")

    assert second.returncode == 1, second.stdout + second.stderr
    assert f"broken at line {line} (seq {line}): hash does not match the content" in second.stderr
    assert "hint:" in second.stderr and "Traceback" not in second.stderr
    assert log_path(paths).read_bytes() == log_before, "nothing is appended to a broken log"
    assert git(paths.root, "rev-parse", "HEAD") == head_before and "status: doing" not in paths.backlog.read_text()


def test_the_verified_point_moves_with_the_log_and_a_replaced_log_is_checked_whole(repo_paths: RepoPaths) -> None:
    for number in range(5):
        append_event(repo_paths, "note", None, n=number)
    check_chain(repo_paths)
    assert json.loads((repo_paths.state_dir / VERIFIED_POINT).read_text())["count"] == 5
    append_event(repo_paths, "note", None, n=5)
    check_chain(repo_paths)
    assert json.loads((repo_paths.state_dir / VERIFIED_POINT).read_text())["count"] == 6
    log_path(repo_paths).unlink()  # a human moved the log aside: a new one starts
    append_event(repo_paths, "note", None, n=0)
    check_chain(repo_paths)
    assert json.loads((repo_paths.state_dir / VERIFIED_POINT).read_text())["count"] == 1
