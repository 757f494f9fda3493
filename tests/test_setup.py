"""Policy's `setup:` commands: run in the slot before red, cached per base and slot, kept out of
the agent's changes; a failed setup fails the attempt uncounted, before the agent runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git, write
from engine_fixtures import RECIPE_POLICY, RED, make_project, task_yaml
from test_cli import run_cli
from test_policy import policy_problems

from leviathan_local import events
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.config.policy import SetupCommand
from leviathan_local.config.policy_load import load_policy
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.engine.setup_cache import clean_slot, read_marker
from leviathan_local.git.repo import RepoPaths, find_repo

ENV_LINE = "GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n"  # the secret gate would refuse it


def project(root: Path, tasks: str, setup: str, extra_policy: str = "") -> RepoPaths:
    """The recipe project whose tests need `.env` (untracked in the main checkout) to pass."""
    policy = RECIPE_POLICY.replace('test_command: "python', 'test_command: "test -f .env && python')
    make_project(root, tasks, policy + f"setup:\n{setup}" + extra_policy)
    write(root / ".gitignore", "worktrees/\n__pycache__/\n.env\nbuild/\n*.tmp\n")
    write(root / ".env", ENV_LINE)
    git(root, "commit", "-qam", "ignore setup outputs")
    return find_repo(root)


def counting_setup(runs: Path) -> str:
    return (f"  - {{name: install, run: \"echo installing; echo run >> {runs}; mkdir -p build && echo lib > build/lib\"}}\n"
            "  - 'cp \"$LEVIATHAN_MAIN_CHECKOUT/.env\" .env'\n")


def paths_base(root: Path) -> str:
    return git(root, "rev-parse", "main").strip()


def attempt_log(paths: RepoPaths, attempt_id: str) -> str:
    return (paths.state_dir / "attempts" / f"{attempt_id}.log").read_text()


def phases(result) -> list[tuple[str, str]]:
    return [(phase.name, phase.verdict) for phase in result.phases]


def test_setup_runs_before_red_and_its_outputs_stay_out_of_the_commit(git_repo: Path, tmp_path: Path) -> None:
    runs = tmp_path / "setup-runs"
    paths = project(git_repo, task_yaml("add"), counting_setup(runs))
    result = run_attempt(paths, "add")
    assert result.outcome == "succeeded", result.reason
    assert phases(result)[:2] == [("setup", "passed"), ("red", "passed")]
    assert f"kept for base {paths_base(git_repo)[:12]}: " in result.phases[0].detail
    assert ".env" in result.phases[0].detail and "build/" in result.phases[0].detail
    log = attempt_log(paths, result.attempt_id)
    assert log.index("setup: install") < log.index("installing") < log.index("$ test -f .env")
    started = [e.data["phase"] for e in events.read_events(paths, "add") if e.kind == "phase.started"]
    assert started[:2] == ["setup", "red"]
    # Neither the copied .env (a secret the gates would refuse) nor build/ is the agent's work.
    files = git(git_repo, "show", "--name-only", "--format=", result.branch).split()
    assert sorted(files) == [".leviathan/backlog.yaml", "calc.py", "tests/test_add.py"]
    assert runs.read_text() == "run\n"


def test_a_second_attempt_on_the_same_base_and_slot_skips_setup_and_sees_only_its_outputs(
        git_repo: Path, tmp_path: Path) -> None:
    runs = tmp_path / "setup-runs"
    first = task_yaml("a", refactor="echo junk > junk.tmp")  # ignored, but no setup output
    second = task_yaml("b", red="test ! -e junk.tmp && test -f build/lib && " + RED)
    paths = project(git_repo, first + second, counting_setup(runs))
    assert run_attempt(paths, "a").outcome == "succeeded"
    result = run_attempt(paths, "b")
    assert result.outcome == "succeeded", result.reason
    assert runs.read_text() == "run\n"
    assert phases(result)[0] == ("setup", "skipped")
    assert "setup: cached for base " in attempt_log(paths, result.attempt_id)


def test_a_new_base_or_new_commands_rerun_setup(git_repo: Path, tmp_path: Path) -> None:
    runs = tmp_path / "setup-runs"
    paths = project(git_repo, task_yaml("a") + task_yaml("b") + task_yaml("c"), counting_setup(runs))
    assert run_attempt(paths, "a").outcome == "succeeded"
    git(git_repo, "commit", "-q", "--allow-empty", "-m", "main moves on")
    result = run_attempt(paths, "b")
    assert result.outcome == "succeeded", result.reason
    assert phases(result)[0] == ("setup", "passed") and runs.read_text() == "run\nrun\n"
    write(paths.policy, paths.policy.read_text().replace("echo installing", "echo installing again"))
    result = run_attempt(paths, "c")  # the same base, other commands
    assert phases(result)[0] == ("setup", "passed") and runs.read_text() == "run\nrun\nrun\n"


def test_a_failing_setup_fails_the_attempt_uncounted_and_the_agent_never_runs(git_repo: Path, tmp_path: Path) -> None:
    agent_ran = tmp_path / "agent-ran"
    task = task_yaml("t", red=f"touch {agent_ran}")
    paths = project(git_repo, task, "  - {name: install, run: \"echo no-such-package >&2; exit 3\"}\n")
    result = run_attempt(paths, "t")
    assert result.outcome == "failed"
    assert result.reason == "setup: `install` failed (exit 3)"
    assert phases(result) == [("setup", "failed")]
    assert not agent_ran.exists()
    assert "no-such-package" in attempt_log(paths, result.attempt_id)
    task_now = load_backlog(paths).task("t")
    assert task_now.status is Status.READY and task_now.attempts == 0
    failed = [e for e in events.read_events(paths, "t") if e.kind == "attempt.failed"][-1]
    assert failed.data["phase"] == "setup" and failed.data["counted"] is False


def test_setup_that_leaves_an_unignored_file_fails_before_the_agent(git_repo: Path) -> None:
    paths = project(git_repo, task_yaml("t"), "  - \"echo x > notes.txt\"\n")
    result = run_attempt(paths, "t")
    assert phases(result) == [("setup", "failed")]
    assert "setup changed files git does not ignore: notes.txt" in result.reason and ".gitignore" in result.reason
    slot = git_repo / "worktrees" / "slot-0"
    assert read_marker(paths, slot) is None and not (slot / "notes.txt").exists()


def test_setup_is_bounded_by_the_phase_timeout(git_repo: Path) -> None:
    paths = project(git_repo, task_yaml("t"), "  - \"sleep 30\"\n", extra_policy="")
    write(paths.policy, paths.policy.read_text().replace("attempt_timeout_seconds: 30}",
                                                         "attempt_timeout_seconds: 30, phase_timeout_seconds: 1}"))
    result = run_attempt(paths, "t")
    assert result.reason == "setup: `sleep 30` timed out (phase_timeout_seconds 1)"
    assert phases(result) == [("setup", "failed")]


def test_cleaning_a_slot_keeps_setup_outputs_only_for_their_base(git_repo: Path, tmp_path: Path) -> None:
    paths = project(git_repo, task_yaml("a"), counting_setup(tmp_path / "runs"))
    result = run_attempt(paths, "a")
    slot = git_repo / "worktrees" / "slot-0"
    marker = read_marker(paths, slot)
    assert marker is not None and set(marker.outputs) == {".env", "build/"}
    write(slot / "stray.tmp", "left by someone\n")
    clean_slot(paths, slot, marker.base)  # recovery's clean at the same base: outputs kept, the rest goes
    assert (slot / ".env").read_text() == ENV_LINE and (slot / "build" / "lib").exists()
    assert not (slot / "stray.tmp").exists() and read_marker(paths, slot) == marker
    clean_slot(paths, slot, git(git_repo, "rev-parse", f"{result.branch}").strip())  # another commit: all go
    assert not (slot / ".env").exists() and not (slot / "build").exists()
    assert read_marker(paths, slot) is None


def test_setup_policy_takes_commands_or_named_commands(repo_paths: RepoPaths) -> None:
    write(repo_paths.policy, "setup:\n  - {name: install, run: \"pip install -e .\"}\n  - make deps\n")
    assert load_policy(repo_paths).setup == (SetupCommand("install", "pip install -e ."),
                                             SetupCommand("make deps", "make deps"))


def test_bad_setup_names_file_line_and_field(repo_paths: RepoPaths) -> None:
    message = policy_problems(repo_paths, "setup:\n  - {name: install}\n  - 3\n  - ''\n  - {run: x, rum: y}\n")
    for fragment in [
        ".leviathan/policy.yaml:2:5: setup[0]: no `run` command",
        ".leviathan/policy.yaml:3:5: setup[1]: expected a shell command or a mapping with `run`, found 3",
        ".leviathan/policy.yaml:4:5: setup[2]: expected a shell command",
        ".leviathan/policy.yaml:5:14: setup[3].rum: unknown key (did you mean `run`?)",
    ]:
        assert fragment in message, (fragment, message)
    assert "setup: expected a list of commands" in policy_problems(repo_paths, "setup: pip install -e .\n")


def test_bad_setup_exits_2_before_anything_is_written(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = project(git_repo, task_yaml("t"), "  - {name: install}\n")
    code, _, err = run_cli(capsys, "--repo", str(git_repo), "attempt", "t")
    assert code == 2 and ".leviathan/policy.yaml:" in err and "setup[0]: no `run` command" in err
    assert not (paths.state_dir / "attempts").exists()
