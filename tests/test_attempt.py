"""End-to-end attempts on throw-away repositories with a scripted recipe agent."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git
from engine_fixtures import (
    GREEN, POLICY, RECIPE_POLICY, RED, assert_dies, make_project, stop_once_the_grandchild_is_ready,
    stubborn_grandchild, task_yaml, unittest_file,
)

from leviathan_local import events
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.git.repo import find_repo


def attempt(root: Path, task_id: str):
    return run_attempt(find_repo(root), task_id)


def test_a_full_cycle_commits_the_work_and_the_completion_together(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("add"))
    result = attempt(root, "add")
    assert result.outcome == "succeeded", result.reason
    assert [(p.name, p.verdict) for p in result.phases] == [
        ("red", "passed"), ("green", "passed"), ("refactor", "passed"), ("gates", "passed"), ("commit", "passed")]
    files = git(root, "show", "--name-only", "--format=", result.branch).split()
    assert sorted(files) == [".leviathan/backlog.yaml", "calc.py", "tests/test_add.py"]
    message = git(root, "log", "-1", "--format=%B", result.branch)
    assert f"Leviathan-Task: add\nLeviathan-Attempt: {result.attempt_id}" in message
    branch_backlog = git(root, "show", f"{result.branch}:.leviathan/backlog.yaml")
    assert "status: done" in branch_backlog and f"branch_name: {result.branch}" in branch_backlog
    assert "completed_at: 2026-11-22T12:00:00Z" in branch_backlog
    main_task = load_backlog(find_repo(root)).task("add")
    assert main_task.status is Status.REVIEW and main_task.get("branch_name") == result.branch
    assert not (root / "calc.py").exists()  # the main checkout's files were never touched
    kinds = [e.kind for e in events.read_events(find_repo(root), task_id="add")]
    assert kinds[0] == "attempt.started" and kinds[-1] == "attempt.succeeded"


@pytest.mark.parametrize(("task", "phase", "reason"), [
    (task_yaml("t", red="true"), "red", "no test file changed"),
    (task_yaml("t", red=unittest_file("ok", "pass")), "red", "proves nothing"),
    (task_yaml("t", green="true"), "green", "test command failed"),
    (task_yaml("t", refactor="printf 'def add(a, b):\\n    return a - b\\n' > calc.py"), "refactor", "failed"),
    (task_yaml("t", refactor="echo x > notes.txt"), "gates", "notes.txt: added, outside allowed_paths"),
    (task_yaml("t", refactor="echo '# hacked' >> .leviathan/backlog.yaml"), "gates", "forbidden pattern .leviathan/**"),
    (task_yaml("t", refactor="echo \"TOKEN = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'\" >> calc.py"), "gates",
     "looks like a GitHub token"),
    (task_yaml("t", green=GREEN + " && exit 4"), "green", "agent exited with 4"),
], ids=["red-no-test", "red-passes", "green-fails", "refactor-breaks", "out-of-scope", "edits-backlog",
        "adds-secret", "agent-exit-code"])
def test_each_failure_fails_the_attempt_and_counts_it(git_repo: Path, task: str, phase: str, reason: str) -> None:
    root = make_project(git_repo, task)
    result = attempt(root, "t")
    assert result.outcome == "failed"
    assert result.reason.startswith(phase) and reason in result.reason, result.reason
    task_after = load_backlog(find_repo(root)).task("t")
    assert task_after.status is Status.READY and task_after.attempts == 1
    assert result.branch in git(root, "branch", "--list", result.branch)  # kept for inspection
    assert "+" not in git(root, "branch", "--list", result.branch)  # and not checked out anywhere


def test_a_failing_invariant_fails_the_gates(git_repo: Path) -> None:
    policy = POLICY + "invariants:\n  - {name: No TODO, check: \"! grep -rq TODO calc.py\"}\n"
    root = make_project(git_repo, task_yaml("t", refactor="echo '# TODO later' >> calc.py"), policy)
    result = attempt(root, "t")
    assert result.outcome == "failed" and "No TODO: invariant failed" in result.reason


def test_the_second_failure_blocks_the_task(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("t", green="true"))
    attempt(root, "t")
    second = attempt(root, "t")
    task = load_backlog(find_repo(root)).task("t")
    assert second.outcome == "failed"
    assert task.status is Status.BLOCKED and task.get("blocked_type") == "attempts_exhausted"
    assert task.attempts == 2


def test_timeout_kills_the_agent(git_repo: Path) -> None:
    policy = POLICY.replace("attempt_timeout_seconds: 30", "attempt_timeout_seconds: 1")
    root = make_project(git_repo, task_yaml("t", red="sleep 30"), policy)
    result = attempt(root, "t")
    assert result.outcome == "failed" and "timed out" in result.reason


def test_a_phase_timeout_fails_the_phase_long_before_the_attempt_would(git_repo: Path) -> None:
    policy = RECIPE_POLICY.replace("attempt_timeout_seconds: 30", "attempt_timeout_seconds: 300, phase_timeout_seconds: 1")
    # The agent hangs in green, as on a model that never answers (a docs task: no red to run first).
    root = make_project(git_repo, task_yaml("t", green="sleep 300", allowed="[docs/]", extra="    scope: docs\n"), policy)
    result = attempt(root, "t")
    assert (result.outcome, result.reason) == ("failed", "green: the agent timed out (phase_timeout_seconds 1)")
    assert [(p.name, p.verdict) for p in result.phases] == [("red", "skipped"), ("green", "failed")]
    assert load_backlog(find_repo(root)).task("t").attempts == 1


def test_a_test_command_that_hangs_is_bounded_by_the_phase_timeout_too(git_repo: Path) -> None:
    policy = RECIPE_POLICY.replace("attempt_timeout_seconds: 30", "attempt_timeout_seconds: 300, phase_timeout_seconds: 1")
    policy = policy.replace('test_command: "python -m unittest discover -s tests -q"', 'test_command: "sleep 300"')
    root = make_project(git_repo, task_yaml("t"), policy)
    result = attempt(root, "t")
    assert (result.outcome, result.reason) == ("failed", "red: the test command timed out (phase_timeout_seconds 1)")


def test_docs_scope_skips_red(git_repo: Path) -> None:
    task = ("  - id: guide\n    title: Write the guide\n    status: ready\n    scope: docs\n"
            "    acceptance_criteria: [exists]\n    steps: {green: [\"mkdir -p docs && echo hi > docs/guide.md\"]}\n")
    root = make_project(git_repo, task)
    result = attempt(root, "guide")
    assert result.outcome == "succeeded", result.reason
    assert result.phases[0].verdict == "skipped"


def test_a_task_already_done_exits_without_a_commit(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("t").replace("status: ready", "status: done"))
    before = git(root, "rev-parse", "HEAD")
    result = attempt(root, "t")
    assert result.outcome == "already_done" and git(root, "branch", "--list", "agent/*") == ""
    assert git(root, "rev-parse", "HEAD") == before


def test_attempt_command_exit_codes(git_repo: Path, capsys) -> None:
    from leviathan_local.cli.main import main

    root = make_project(git_repo, task_yaml("good") + task_yaml("bad", green="true"))
    for task_id, code in (("good", 0), ("bad", 1)):
        with pytest.raises(SystemExit) as exited:
            main(["--repo", str(root), "attempt", task_id])
        assert exited.value.code == code
    out = capsys.readouterr().out
    assert "good: attempt attempt-good-" in out and "succeeded" in out and "waits for review" in out
    assert "bad: attempt attempt-bad-" in out and "failed (green: the test command failed" in out


def test_command_agent_gets_the_phase_environment_and_a_prompt(git_repo: Path) -> None:
    """A scripted `command` agent: one script for every phase, steered by LEVIATHAN_PHASE."""
    script = git_repo.parent / "agent.sh"
    script.write_text(
        "#!/bin/sh\n"
        'echo "$LEVIATHAN_PHASE $LEVIATHAN_TASK_ID $LEVIATHAN_ATTEMPT_ID $PWD" >> "$AGENT_TRACE"\n'
        'cp "$LEVIATHAN_PROMPT_FILE" "$AGENT_TRACE.$LEVIATHAN_PHASE.md"\n'
        'case "$LEVIATHAN_PHASE" in\n'
        f"  red) {RED} ;;\n"
        f"  green) {GREEN} ;;\n"
        "esac\n"
    )
    script.chmod(0o755)
    trace = git_repo.parent / "trace.txt"
    policy = RECIPE_POLICY.replace("agent: {kind: recipe}", f'agent: {{kind: command, command: "AGENT_TRACE={trace} {script}"}}')
    task = "  - id: cmd\n    title: Add with a command agent\n    status: ready\n    allowed_paths: [calc.py, tests/]\n" \
           "    acceptance_criteria: [\"add(2, 3) is 5\"]\n"
    root = make_project(git_repo, task, policy)
    result = attempt(root, "cmd")
    assert result.outcome == "succeeded", result.reason
    lines = trace.read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["red", "green", "refactor"]
    assert all(line.split()[1:3] == ["cmd", result.attempt_id] for line in lines)
    assert lines[0].split()[3] == str(root / "worktrees" / "slot-0")
    green_prompt = Path(f"{trace}.green.md").read_text()
    assert "add(2, 3) is 5" in green_prompt and "- calc.py" in green_prompt
    assert "FAILED" in green_prompt or "Error" in green_prompt  # the red phase's failing test output


def test_every_attempt_gets_a_pristine_tree_at_its_base(git_repo: Path) -> None:
    """A reused slot holds nothing from the attempt before: no changed, untracked or ignored file."""
    dirty = "echo junk >> tests/test_base.py; echo x > stray.txt; mkdir -p __pycache__; echo c > __pycache__/x.pyc"
    root = make_project(git_repo, task_yaml("first", green=dirty) + task_yaml("second", red=f"ls -a > {git_repo.parent}/seen.txt; " + RED))
    assert attempt(root, "first").outcome == "failed"
    assert attempt(root, "second").outcome == "succeeded"
    seen = (git_repo.parent / "seen.txt").read_text().split()
    assert "stray.txt" not in seen and "__pycache__" not in seen
    assert git(root, "show", "agent/" + git(root, "branch", "--list", "agent/second-*").split()[-1].removeprefix("agent/")
               + ":tests/test_base.py") == (root / "tests" / "test_base.py").read_text()


def test_a_stop_kills_a_stubborn_grandchild_of_the_agent(git_repo: Path) -> None:
    """The agent's whole process group goes, a grandchild that ignores SIGTERM included. The kill
    comes once the grandchild is ready (a timeout racing its start proved nothing under load);
    it is the kill a timeout makes, which `test_timeout_kills_the_agent` starts by the clock."""
    pid_file = git_repo.parent / "grandchild.pid"
    root = make_project(git_repo, task_yaml("t", red=stubborn_grandchild(pid_file)))
    result, grandchild = stop_once_the_grandchild_is_ready(lambda stop: run_attempt(find_repo(root), "t", stop),
                                                           pid_file)
    assert_dies(grandchild)
    assert result.outcome == "interrupted" and "shutdown requested" in result.reason


def test_a_manual_agent_in_a_headless_run_escalates_to_a_human(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("t"), RECIPE_POLICY.replace("agent: {kind: recipe}", "agent: {kind: manual}"))
    result = attempt(root, "t")
    assert result.outcome == "needs_human"
    task = load_backlog(find_repo(root)).task("t")
    assert task.status is Status.BLOCKED and task.get("blocked_type") == "escalation"
    assert task.attempts == 0 and git(root, "branch", "--list", "agent/*") == ""


def test_the_recipe_agent_runs_the_tasks_own_steps(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("add"), RECIPE_POLICY)
    assert attempt(root, "add").outcome == "succeeded"


def phase_events(root: Path, task_id: str) -> list[tuple]:
    """The attempt's events in order: (kind, phase, verdict) with each phase.finished's seconds checked."""
    found = []
    for event in events.read_events(find_repo(root), task_id=task_id):
        if event.kind == "phase.finished":
            assert isinstance(event.data["seconds"], float) and event.data["seconds"] >= 0
        found.append((event.kind, event.data.get("phase"), event.data.get("verdict")))
    return found


def phase_pairs(*phases: tuple[str, str]) -> list[tuple]:
    return [step for name, verdict in phases
            for step in (("phase.started", name, None), ("phase.finished", name, verdict))]


@pytest.mark.parametrize(("task", "phases", "end"), [
    (task_yaml("t"), [("red", "passed"), ("green", "passed"), ("refactor", "passed"), ("gates", "passed"),
                      ("commit", "passed")], "attempt.succeeded"),
    (task_yaml("t", extra="    scope: docs\n", allowed="[calc.py, tests/]"),
     [("red", "skipped"), ("green", "passed"), ("refactor", "passed"), ("gates", "passed"), ("commit", "passed")],
     "attempt.succeeded"),
    (task_yaml("t", green="true"), [("red", "passed"), ("green", "failed")], "attempt.failed green"),
    (task_yaml("t", refactor="echo x > notes.txt"),
     [("red", "passed"), ("green", "passed"), ("refactor", "passed"), ("gates", "failed")], "attempt.failed gates"),
], ids=["success", "success-without-red", "green-fails", "gates-fail"])
def test_every_phase_logs_its_start_and_its_finish(git_repo: Path, task: str, phases, end: str) -> None:
    root = make_project(git_repo, task)
    attempt(root, "t")
    kind, _, failed_phase = end.partition(" ")  # a failure names the phase it failed in
    assert phase_events(root, "t") == [("attempt.started", None, None), *phase_pairs(*phases),
                                       (kind, failed_phase or None, None)]
