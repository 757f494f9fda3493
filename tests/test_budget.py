"""Cost budgets: a task's (all its attempts) and a run's. The agent is a stand-in for Claude
Code's CLI (a script printing its result line with a cost), since what is tested here is the
executor's accounting, not the agent; the real CLIs run in tests/test_agent_runs.py."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import git, write
from engine_fixtures import GREEN, RECIPE_POLICY, RED, make_project, task_yaml

from leviathan_local import events
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.backlog.transitions import unblock
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.engine.runner import HaltReason, RunOptions, run
from leviathan_local.git.repo import find_repo
from leviathan_local.reports.data import build_report

# Does what the task's recipe `steps` say for the phase, then reports a cost of $0.40 a phase.
STAND_IN = """\
#!/bin/sh
cat > /dev/null
case "$LEVIATHAN_PHASE" in
  red) {red} ;;
  green) {green} ;;
esac
echo '{{"type":"result","subtype":"success","is_error":false,"result":"did it","session_id":"s-1","total_cost_usd":0.4,"usage":{{"input_tokens":1000,"output_tokens":100}}}}'
"""


def project(git_repo: Path, limits: str, tasks: str = "") -> Path:
    agent = write(git_repo.parent / "claude", STAND_IN.format(red=RED, green=GREEN))
    agent.chmod(0o755)
    policy = RECIPE_POLICY.replace("agent: {kind: recipe}", f"agent: {{kind: claude, executable: {agent}}}")
    policy = policy.replace("limits: {max_attempts_per_task: 2, attempt_timeout_seconds: 30}",
                            f"limits: {{max_attempts_per_task: 2, attempt_timeout_seconds: 30, {limits}}}")
    return make_project(git_repo, tasks or task_yaml("t"), policy)


def test_each_phase_cost_is_in_the_event_log_and_the_result(git_repo: Path) -> None:
    root = project(git_repo, "max_running_attempts: 1")
    result = run_attempt(find_repo(root), "t")
    assert result.outcome == "succeeded", result.reason
    assert result.spent() == pytest.approx(1.2)  # red, green, refactor
    finished = [e for e in events.read_events(find_repo(root), "t") if e.kind == "phase.finished" and "agent" in e.data]
    assert [e.data["agent"] for e in finished] == [
        {"session": "s-1", "tokens_in": 1000, "tokens_out": 100, "cost_usd": 0.4, "cost_source": "agent"}] * 3


def test_a_task_budget_stops_the_attempt_before_the_next_phase_and_blocks_the_task(git_repo: Path) -> None:
    root = project(git_repo, "max_cost_usd_per_task: 0.7")
    paths = find_repo(root)
    result = run_attempt(paths, "t")
    assert result.outcome == "budget"
    # Stopped as refactor was to start: red and green had spent $0.80.
    assert result.reason == "refactor: budget: the task's cost reached $0.8000 of limits.max_cost_usd_per_task $0.7"
    assert [(p.name, p.verdict) for p in result.phases] == [("red", "passed"), ("green", "passed")]
    task = load_backlog(paths).task("t")
    assert (task.status, task.get("blocked_type"), task.attempts) == (Status.BLOCKED, "budget", 0)
    assert "raise the limit in .leviathan/policy.yaml, then `leviathan unblock t`" in task.get("blocked_reason")
    # Nothing lost: red's and green's work is on the branch.
    assert git(root, "show", f"{result.branch}:calc.py").startswith("def add")


def test_unblocked_without_a_raised_budget_it_blocks_again_spending_nothing(git_repo: Path) -> None:
    root = project(git_repo, "max_cost_usd_per_task: 0.7")
    paths = find_repo(root)
    run_attempt(paths, "t")
    unblock(paths, "t")
    again = run_attempt(paths, "t")
    assert (again.outcome, again.spent(), [p.name for p in again.phases]) == ("budget", 0, [])
    paths.policy.write_text(paths.policy.read_text().replace("max_cost_usd_per_task: 0.7", "max_cost_usd_per_task: 5"))
    unblock(paths, "t")
    assert run_attempt(paths, "t").outcome == "succeeded"  # the raised budget: the task resumes


def test_a_run_budget_halts_the_run_once_reached(git_repo: Path) -> None:
    tasks = task_yaml("a", allowed="[calc.py, tests/]") + task_yaml("b", allowed="[calc.py, tests/]")
    root = project(git_repo, "max_cost_usd_per_run: 1.0, max_open_reviews: 5", tasks)
    report = run(find_repo(root), RunOptions())
    assert report.halt_reason is HaltReason.BUDGET_REACHED and report.exit_code == 0
    # a spent $1.20 on its own (the run's limit was checked before each of its phases: $0.80 < $1.00)
    assert [(r.task_id, r.outcome) for r in report.attempts] == [("a", "succeeded")]
    assert report.spent_usd == pytest.approx(1.2)
    assert load_backlog(find_repo(root)).task("b").status is Status.READY  # never started: not blocked


def test_the_status_report_of_a_budget_stopped_attempt_meets_its_schema(git_repo: Path) -> None:
    root = project(git_repo, "max_cost_usd_per_task: 0.7")
    paths = find_repo(root)
    assert run_attempt(paths, "t").outcome == "budget"
    report = build_report(paths)
    [attempt] = report["attempts"]
    assert attempt["outcome"] == "budget"
    schema = json.loads((Path(__file__).parents[1] / "leviathan_local" / "reports" / "status_report.schema.json")
                        .read_text())
    jsonschema.validate(report, schema)
