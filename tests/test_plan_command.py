"""`leviathan plan`: ranked queue, skipped reasons, --explain, --json, --limit; writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import tree_snapshot, write

from leviathan_local.cli.main import main

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
    assert "Skipped: 4 tasks" in out


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


def plan_json(capsys: pytest.CaptureFixture[str], root: Path, backlog: str, policy: str | None = None) -> dict:
    """`leviathan plan --json` on a repository holding this backlog (and policy)."""
    write(root / ".leviathan" / "backlog.yaml", backlog)
    if policy is not None:
        write(root / ".leviathan" / "policy.yaml", policy)
    code, out, err = run_cli(capsys, "--repo", str(root), "plan", "--json")
    assert code == 0, err
    return json.loads(out)


def skipped_by_id(plan: dict) -> dict[str, tuple[str, str]]:
    return {skipped["id"]: (skipped["reason"], skipped["detail"]) for skipped in plan["skipped"]}


def ready_task(task_id: str, *fields: str, status: str = "ready") -> str:
    """A task that would run (but for ``status``), plus ``fields`` (YAML lines, indented under the item)."""
    lines = [f"  - id: {task_id}", f"    status: {status}", "    acceptance_criteria: [x]", *fields]
    if not any(line.strip().startswith(("allowed_paths", "scope")) for line in fields):
        lines.append("    allowed_paths: [src/]")
    return "\n".join(lines) + "\n"


def test_tasks_in_progress_done_or_blocked_are_skipped_for_their_status(git_repo: Path, capsys) -> None:
    backlog = "tasks:\n" + "".join(ready_task(status, status=status) for status in ("doing", "review", "done"))
    backlog += ready_task("stuck", "    blocked_reason: waiting for the API key", status="blocked")
    backlog += ready_task("runnable")
    plan = plan_json(capsys, git_repo, backlog)
    assert [task["id"] for task in plan["actionable"]] == ["runnable"]
    assert skipped_by_id(plan) == {
        "doing": ("status", "status is doing"),
        "review": ("status", "status is review"),
        "done": ("status", "status is done"),
        "stuck": ("status", "status is blocked: waiting for the API key"),
    }


SCOPED_POLICY = "scopes:\n  docs:\n    allowed_paths: [docs/]\n    tdd: false\n"


def test_scope_problems_skip_a_task(git_repo: Path, capsys) -> None:
    backlog = "tasks:\n" + "".join([
        ready_task("unknown-scope", "    scope: website"),
        ready_task("outside-scope", "    scope: docs", "    allowed_paths: [src/app.py]"),
        ready_task("no-paths-at-all", "    scope: null"),
        ready_task("inside-scope", "    scope: docs", "    allowed_paths: [docs/guide.md]"),
        ready_task("scope-paths-only", "    scope: docs"),
    ])
    plan = plan_json(capsys, git_repo, backlog, SCOPED_POLICY)
    assert [task["id"] for task in plan["actionable"]] == ["inside-scope", "scope-paths-only"]
    assert skipped_by_id(plan) == {
        "unknown-scope": ("scope", "scope 'website' is not defined in policy.yaml (defined: docs)"),
        "outside-scope": ("scope", "src/app.py outside scope 'docs' (docs/)"),
        "no-paths-at-all": ("scope", "no allowed_paths and no scope: the task may change nothing"),
    }


def test_attempts_exhausted_at_the_policy_limit(git_repo: Path, capsys) -> None:
    backlog = "tasks:\n" + ready_task("worn-out", "    attempts: 3") + ready_task("one-more-try", "    attempts: 2")
    plan = plan_json(capsys, git_repo, backlog, "limits:\n  max_attempts_per_task: 3\n")
    assert [task["id"] for task in plan["actionable"]] == ["one-more-try"]
    assert skipped_by_id(plan) == {"worn-out": ("attempts_exhausted", "3 of 3 attempts used")}


def test_aging_stops_at_the_policy_cap(git_repo: Path, capsys) -> None:
    # The clock is fixed at 2026-11-22T12:00:00Z (conftest).
    inputs = ("    impact: 5", "    time_criticality: 3", "    risk_reduction: 2", "    effort: 2")
    backlog = "tasks:\n" + ready_task("ancient", *inputs, "    created_at: 2026-09-23T12:00:00Z") \
        + ready_task("recent", *inputs, "    created_at: 2026-11-19T12:00:00Z")
    plan = plan_json(capsys, git_repo, backlog, "wsjf: {aging_per_day: 0.1, aging_cap: 1.5}\n")
    ancient, recent = plan["actionable"]
    assert (ancient["id"], ancient["terms"]["days_old"], ancient["terms"]["aging"]) == ("ancient", 60, 1.5)
    assert ancient["score"] == 7.5  # (5 + 3 + 2) × 1.5 / 2, not × 7.0
    assert (recent["id"], recent["terms"]["aging"], recent["score"]) == ("recent", 1.3, 6.5)


def test_equal_scores_rank_the_older_task_first_then_by_id(git_repo: Path, capsys) -> None:
    inputs = ("    impact: 5", "    time_criticality: 5", "    risk_reduction: 5", "    effort: 3")
    backlog = "tasks:\n" + "".join([
        ready_task("undated", *inputs),
        ready_task("newer", *inputs, "    created_at: 2026-11-20T00:00:00Z"),
        ready_task("same-c", *inputs, "    created_at: 2026-11-01T00:00:00Z"),
        ready_task("same-a", *inputs, "    created_at: 2026-11-01T00:00:00Z"),
        ready_task("oldest", *inputs, "    created_at: 2026-10-01T00:00:00Z"),
    ])
    plan = plan_json(capsys, git_repo, backlog, "wsjf: {aging_per_day: 0}\n")  # no aging: every score is 5
    assert {task["score"] for task in plan["actionable"]} == {5.0}
    assert [(task["id"], task["rank"]) for task in plan["actionable"]] == [
        ("oldest", 1), ("same-a", 2), ("same-c", 3), ("newer", 4), ("undated", 5)]


def test_split_is_suggested_above_the_slice_threshold(git_repo: Path, capsys) -> None:
    backlog = "tasks:\n" + ready_task("big", "    effort: 5") + ready_task("at-threshold", "    effort: 3")
    plan = plan_json(capsys, git_repo, backlog, "wsjf: {slice_threshold: 3}\n")
    assert {task["id"]: task["split_suggested"] for task in plan["actionable"]} == {"big": True, "at-threshold": False}


def test_escalation_paths_from_the_policy_skip_a_task_until_approved(git_repo: Path, capsys) -> None:
    backlog = "tasks:\n" + "".join([
        ready_task("schema-change", "    allowed_paths: [db/migrations/0007_users.sql]"),
        ready_task("approved-change", "    allowed_paths: [db/migrations/0008.sql]",
                   "    escalation_approved_at: 2026-11-21T09:00:00Z"),
        ready_task("app-change", "    allowed_paths: [src/app.py]"),
    ])
    plan = plan_json(capsys, git_repo, backlog, "escalation:\n  paths: [db/migrations/**]\n")
    assert sorted(task["id"] for task in plan["actionable"]) == ["app-change", "approved-change"]
    reason, detail = skipped_by_id(plan)["schema-change"]
    assert reason == "escalated"
    assert detail.startswith("path db/migrations/0007_users.sql touches escalation path db/migrations/**")
    assert "leviathan ready schema-change --approve-escalation" in detail
