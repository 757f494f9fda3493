"""A run whose event log breaks mid-way: it ends with exit 2 and the log's own first error, the
human's backlog edits and the agent's work safe (the backlog committed on halt, the work on its
branch), no status report, no second failure in the first one's place. Nothing is written
before the agent check, recovery included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git
from engine_fixtures import RECIPE_POLICY, RED, make_project, task_yaml
from test_file_errors import assert_explained
from test_run import policy_with
from test_writers_log_first import (
    FIND_STATE_DIR, HOW, LOG, MESSAGE, break_log, kill_own_attempt, leviathan, mend_log, repository_state,
)

from leviathan_local import events
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.engine import attempt_cycle, runner
from leviathan_local.engine.agents.phase import NeedsHuman
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.engine.recovery import recover
from leviathan_local.engine.runner import RunOptions
from leviathan_local.errors import BacklogError, ConfigError, FileAccessError
from leviathan_local.git.repo import find_repo
from leviathan_local.reports.files import write_halt_report

HUMAN_NOTE = "# a human's note, written before the run\n"


def break_log_in_step(script: Path, how: str, aside: Path) -> str:
    """A red step that writes its test, then breaks the event log: a directory in its place
    (the log's content put ``aside``), or the log made read-only."""
    if how == "directory":
        breaking = f"os.replace(log, {str(aside)!r})\nos.mkdir(log)\n"
    else:
        breaking = "os.chmod(log, 0o444)\n"
    script.write_text("import os, subprocess\n" + FIND_STATE_DIR + "log = os.path.join(state, 'events.ndjson')\n"
                      + breaking)
    return f"{RED} && python {script}"


@pytest.mark.parametrize("how", HOW)
def test_a_log_that_breaks_mid_run_halts_with_its_own_first_error(git_repo: Path, how: str, tmp_path: Path) -> None:
    aside = tmp_path / "log"
    root = make_project(git_repo, task_yaml("a", red=break_log_in_step(tmp_path / "break.py", how, aside))
                        + task_yaml("b"))
    paths = find_repo(root)
    with open(paths.backlog, "a") as backlog:
        backlog.write(HUMAN_NOTE)

    code, out, err = leviathan(root, how, "run")

    assert_explained((code, out, err), MESSAGE[how])
    assert err.count("error: ") == 1 and "warning" not in err, err  # one error: the log's first
    # The halt commit holds the backlog alone: the human's note and the run's status changes.
    assert halt_subject(root) == "[leviathan] Save backlog state on halt (Error)"
    assert git(root, "show", "--name-only", "--format=", "HEAD").split() == [".leviathan/backlog.yaml"]
    assert HUMAN_NOTE in git(root, "show", "HEAD:.leviathan/backlog.yaml")
    assert git(root, "status", "--porcelain") == ""
    assert not (root / "DOCS" / "status").exists(), "no status report of a run the log does not see end"
    # The agent's work is kept on its branch; the task is left to the next run's recovery.
    task = load_backlog(paths).task("a")
    assert (task.status, task.attempts) == (Status.DOING, 0)
    assert "tests/test_add.py" in git(root, "show", "--name-only", "--format=", str(task.get("branch_name"))).split()
    assert load_backlog(paths).task("b").status is Status.READY, "no attempt after the log broke"
    assert list((paths.state_dir / "running").glob("*.json")), "the record, for the next run"

    mend_log(root, how, aside)
    recover(paths, None)
    task = load_backlog(paths).task("a")
    assert (task.status, task.attempts) == (Status.READY, 1)
    assert events.verify_chain(paths).ok


def run_breaking_the_log(git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         error: Exception | None) -> Path:
    """A run whose loop breaks the log, then halts (``error`` None) or raises ``error``."""
    root = make_project(git_repo, task_yaml("a"))
    with open(root / ".leviathan" / "backlog.yaml", "a") as backlog:
        backlog.write(HUMAN_NOTE)

    def loop(*_args: object) -> runner.HaltReason:
        break_log(root, "directory", tmp_path / "log")
        if error is not None:
            raise error
        return runner.HaltReason.ALL_DONE_OR_BLOCKED

    monkeypatch.setattr(runner, "_loop", loop)
    runner.run(find_repo(root), RunOptions(halt_report=write_halt_report))
    return root


def halt_subject(root: Path) -> str:
    return git(root, "log", "-1", "--format=%s").strip()


def test_the_log_breaking_after_the_loop_is_the_runs_error(git_repo: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FileAccessError, match=MESSAGE["directory"]):
        run_breaking_the_log(git_repo, tmp_path, monkeypatch, None)
    assert halt_subject(git_repo) == "[leviathan] Save backlog state on halt (AllDoneOrBlocked)"
    assert not (git_repo / "DOCS" / "status").exists()


def test_a_second_failure_does_not_hide_the_first(git_repo: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BacklogError, match="the first failure") as raised:
        run_breaking_the_log(git_repo, tmp_path, monkeypatch, BacklogError("the first failure", hint="its own hint"))
    assert raised.value.hint == "its own hint"
    assert any(MESSAGE["directory"] in note for note in raised.value.__notes__), "the second, reported too"
    assert halt_subject(git_repo) == "[leviathan] Save backlog state on halt (Error)"
    assert HUMAN_NOTE in git(git_repo, "show", "HEAD:.leviathan/backlog.yaml")


def test_an_internal_error_is_not_hidden_by_the_log_refusing_the_task_back(git_repo: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(git_repo, task_yaml("a"))
    paths = find_repo(root)

    def gates_crash(_attempt: object) -> None:
        break_log(root, "directory", tmp_path / "log")
        raise RuntimeError("the gates crashed")

    monkeypatch.setattr(attempt_cycle, "run_gates", gates_crash)
    with pytest.raises(RuntimeError, match="the gates crashed") as raised:
        run_attempt(paths, "a")
    assert any(MESSAGE["directory"] in note for note in raised.value.__notes__)
    task = load_backlog(paths).task("a")
    assert task.status is Status.DOING  # left to recovery, its work on the branch
    assert "calc.py" in git(root, "show", "--name-only", "--format=", str(task.get("branch_name"))).split()


def test_an_escalation_the_log_refuses_leaves_no_empty_branch(git_repo: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    manual = RECIPE_POLICY.replace("agent: {kind: recipe}", "agent: {kind: manual}")
    root = make_project(git_repo, task_yaml("t"), manual)
    paths = find_repo(root)

    def needs_a_human_once_the_log_broke(_policy: object, task: object, phase: str) -> None:
        break_log(root, "directory", tmp_path / "log")
        raise NeedsHuman(f"phase {phase} is manual")

    monkeypatch.setattr(attempt_cycle, "require_headless", needs_a_human_once_the_log_broke)
    with pytest.raises(FileAccessError, match=MESSAGE["directory"]):
        run_attempt(paths, "t")
    assert git(root, "branch", "--list", "agent/*") == ""
    assert load_backlog(paths).task("t").status is Status.DOING
    assert list((paths.state_dir / "running").glob("*.json")), "the record, for the next run"

    mend_log(root, "directory", tmp_path / "log")
    recover(paths, None)
    assert load_backlog(paths).task("t").status is Status.READY
    assert events.verify_chain(paths).ok


def test_a_run_without_an_agent_leaves_a_dead_attempt_unrecovered(git_repo: Path, tmp_path: Path) -> None:
    root = make_project(git_repo, task_yaml("a", red=kill_own_attempt(tmp_path / "die.py")))
    died = subprocess.run([sys.executable, "-m", "leviathan_local", "--repo", str(root), "attempt", "a"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert died.returncode == -9
    paths = find_repo(root)
    paths.policy.write_text(policy_with().replace('agent: {kind: command, command: "python AGENT_SCRIPT"}\n', ""))
    before = repository_state(root)
    with pytest.raises(ConfigError, match="no agent configured"):
        runner.run(paths, RunOptions())
    assert repository_state(root) == before  # nothing killed, kept, cleaned, counted or logged
    assert (root / LOG).exists()
    assert load_backlog(paths).task("a").status is Status.DOING
