"""Issue 14, defect 7: `agent.sandbox: bwrap` confines every command of an attempt with a real
bubblewrap: the filesystem read-only except the worktree, the attempt's temp dir, what git needs
to commit from the worktree and the agent's own config."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git
from engine_fixtures import (
    GREEN, POLICY, RED, make_project, marked, stop_once_the_grandchild_is_ready, stubborn_grandchild, task_yaml,
)

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.config.policy_load import load_policy
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.engine.sandbox import bwrap_unavailable
from leviathan_local.errors import EXIT_BAD_INPUT, ConfigError
from leviathan_local.git.repo import find_repo

MAIN = "$LEVIATHAN_WORKTREE/../.."
SANDBOXED = POLICY.replace('command: "python AGENT_SCRIPT"}', 'command: "python AGENT_SCRIPT", sandbox: bwrap}')
needs_bwrap = pytest.mark.skipif(bool(bwrap_unavailable()), reason=f"bubblewrap cannot run here: {bwrap_unavailable()}")


@needs_bwrap
def test_a_sandboxed_agent_cannot_write_into_the_main_checkout(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("t", green=f"{GREEN}; echo x > {MAIN}/ESCAPE.md"), SANDBOXED)
    result = run_attempt(find_repo(root), "t")
    assert result.outcome == "failed" and result.reason == "green: the agent exited with 1", result.reason
    assert not (root / "ESCAPE.md").exists()
    log = (find_repo(root).state_dir / "attempts" / f"{result.attempt_id}.log").read_text()
    assert "Read-only file system" in log
    assert load_backlog(find_repo(root)).task("t").attempts == 1  # an ordinary failure: nothing escaped


@needs_bwrap
def test_a_sandboxed_test_run_cannot_write_outside_either(git_repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    policy = SANDBOXED.replace('test_command: "python -m unittest discover -s tests -q"',
                               f'test_command: "echo x > {outside}; python -m unittest discover -s tests -q"')
    root = make_project(git_repo, task_yaml("t"), policy)
    result = run_attempt(find_repo(root), "t")
    assert result.outcome == "succeeded", result.reason  # the test command's write failed, its tests passed
    assert not outside.exists()


@needs_bwrap
def test_a_sandboxed_agent_works_commits_and_uses_its_temp_dir(git_repo: Path, tmp_path: Path) -> None:
    """What an agent CLI needs still works: the worktree, git commits there, TMPDIR, its config dir."""
    config = tmp_path / "agent-config"
    config.mkdir()
    green = (f"{GREEN} && echo scratch > $TMPDIR/scratch && git add -A && git commit -qm 'agent: add' "
             f"&& echo session > {config}/session")
    policy = SANDBOXED.replace("sandbox: bwrap}", f"sandbox: bwrap, sandbox_writable: [{config}]}}")
    root = make_project(git_repo, task_yaml("t", red=RED, green=green), policy)
    result = run_attempt(find_repo(root), "t")
    assert result.outcome == "succeeded", result.reason
    assert (config / "session").read_text() == "session\n"
    assert sorted(git(root, "show", "--name-only", "--format=", result.commit).split()) == [
        ".leviathan/backlog.yaml", "calc.py", "tests/test_add.py"]
    assert load_backlog(find_repo(root)).task("t").status is Status.REVIEW


def test_an_unknown_sandbox_is_bad_input_with_its_position(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("t"), SANDBOXED.replace("sandbox: bwrap", "sandbox: firejail"))
    with pytest.raises(ConfigError) as caught:
        load_policy(find_repo(root))
    line = (root / ".leviathan" / "policy.yaml").read_text().splitlines()[3]  # the column follows the script's path
    expected = f".leviathan/policy.yaml:4:{line.index('firejail') + 1}: agent.sandbox: expected one of bwrap"
    assert f"{expected}, found 'firejail'" in str(caught.value)


def test_a_sandbox_that_cannot_run_refuses_the_attempt_before_anything_is_written(
        git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(git_repo, task_yaml("t"), SANDBOXED)
    backlog = (root / ".leviathan" / "backlog.yaml").read_bytes()
    empty = tmp_path / "no-bwrap-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    bwrap_unavailable.cache_clear()
    try:
        with pytest.raises(ConfigError) as caught:
            run_attempt(find_repo(root), "t")
    finally:
        bwrap_unavailable.cache_clear()
    assert "bubblewrap cannot run here: no `bwrap` on PATH" in str(caught.value)
    assert caught.value.exit_code == EXIT_BAD_INPUT and "apt-get install bubblewrap" in caught.value.hint
    assert (root / ".leviathan" / "backlog.yaml").read_bytes() == backlog


@needs_bwrap
def test_a_stop_kills_what_runs_in_the_sandbox(git_repo: Path, tmp_path: Path) -> None:
    """The sandbox stays in the command's process group: a stop (as a timeout) kills a grandchild
    that ignores SIGTERM, and nothing carrying the attempt's id is left."""
    out = tmp_path / "out"
    out.mkdir()
    pid_file = out / "grandchild.pid"
    policy = SANDBOXED.replace("sandbox: bwrap}", f"sandbox: bwrap, sandbox_writable: [{out}]}}")
    root = make_project(git_repo, task_yaml("t", red=stubborn_grandchild(pid_file)), policy)
    result, _ = stop_once_the_grandchild_is_ready(lambda stop: run_attempt(find_repo(root), "t", stop), pid_file)
    assert result.outcome == "interrupted", result.reason
    assert marked(result.attempt_id) == []  # its pid in the file is the sandbox's own: found by its mark instead
