"""`leviathan block`, `leviathan retry` (rebase and retry after a conflict), and the backlog merge
driver registered by `run`, `attempt` and `merge` in a clone that lacks it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import git
from engine_fixtures import POLICY, make_project, task_yaml, unittest_file
from test_cli import run_cli

from leviathan_local import events
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.commands.attempt import run_attempt_command
from leviathan_local.commands.run import run_headless
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.git.repo import RepoPaths, find_repo
from leviathan_local.review.approve import approve

REGISTERED = "note: registered the backlog merge driver in this clone"
# Task b adds sub() to calc.py, which a creates too: once a is merged, b's branch conflicts there.
SUB_RED = unittest_file("sub", "self.assertEqual(sub(3, 2), 1)", "from calc import sub")
SUB_GREEN = "printf 'def add(a, b):\\n    return a + b\\n\\n\\ndef sub(a, b):\\n    return a - b\\n' > calc.py"


def test_block_from_the_cli_is_the_apps_b(git_repo: Path, capsys) -> None:
    root = make_project(git_repo, task_yaml("a"))
    code, out, _ = run_cli(capsys, "--repo", str(root), "block", "a", "--reason", "waits for the API key")
    assert code == 0 and out.startswith("a: ready -> blocked\n  reason: waits for the API key;"), out
    task = load_backlog(find_repo(root)).task("a")
    assert (task.status, task.get("blocked_reason"), task.get("blocked_from")) == (
        Status.BLOCKED, "waits for the API key", "ready")
    assert [e.kind for e in events.read_events(find_repo(root), "a")] == ["task.blocked"]
    assert run_cli(capsys, "--repo", str(root), "block", "a", "--reason", "again")[0] == 2  # already blocked
    assert run_cli(capsys, "--repo", str(root), "block", "a")[0] == 2  # no reason: click refuses


def driver_state(root: Path) -> tuple[str, str]:
    return (git(root, "check-attr", "merge", "--", ".leviathan/backlog.yaml").strip(),
            git(root, "status", "--porcelain"))


def test_run_and_attempt_register_the_merge_driver_once_and_commit_nothing(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("a") + task_yaml("b"),
                        POLICY.replace("attempt_timeout_seconds: 30", "attempt_timeout_seconds: 30, max_open_reviews: 5"))
    assert driver_state(root)[0].endswith("merge: unspecified")  # a clone that never ran `leviathan init`
    out = io.StringIO()
    run_attempt_command(find_repo(root), "a", out=out)
    assert out.getvalue().startswith(REGISTERED) and out.getvalue().count(REGISTERED) == 1
    # Nothing to commit but the task's new status: no .gitattributes.
    assert driver_state(root) == (".leviathan/backlog.yaml: merge: leviathan-backlog", " M .leviathan/backlog.yaml\n")
    assert "merge=leviathan-backlog" in (find_repo(root).common_dir / "info" / "attributes").read_text()
    assert "leviathan_local merge-driver" in git(root, "config", "merge.leviathan-backlog.driver")
    out = io.StringIO()
    run_headless(find_repo(root), out=out)
    assert REGISTERED not in out.getvalue()  # said once: registered now


def test_a_run_registers_the_driver_where_gitattributes_routes_it_already(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("a"))
    (root / ".gitattributes").write_text(".leviathan/backlog.yaml merge=leviathan-backlog\n")
    git(root, "add", ".gitattributes")
    git(root, "commit", "-qm", "attributes from another clone's init")
    out = io.StringIO()
    run_headless(find_repo(root), out=out)
    assert f"{REGISTERED} (merge.leviathan-backlog in .git/config; local" in out.getvalue()
    assert not (find_repo(root).common_dir / "info" / "attributes").exists() or \
        "leviathan" not in (find_repo(root).common_dir / "info" / "attributes").read_text()


@pytest.fixture
def conflicting(git_repo: Path) -> RepoPaths:
    """Two tasks waiting for review that write calc.py each their own way; `a` is approved first."""
    root = make_project(git_repo, task_yaml("a") + task_yaml("b", red=SUB_RED, green=SUB_GREEN),
                        POLICY.replace("max_attempts_per_task: 2", "max_attempts_per_task: 1"))
    paths = find_repo(root)
    for task_id in ("a", "b"):
        assert run_attempt(paths, task_id).outcome == "succeeded"
    approve(paths, "a")
    return paths


def test_a_conflict_offers_rebase_and_retry_which_costs_no_attempt(conflicting: RepoPaths, capsys) -> None:
    paths = conflicting
    branch = str(load_backlog(paths).task("b").get("branch_name"))
    code, out, _ = run_cli(capsys, "--repo", str(paths.root), "review")
    assert code == 0
    assert "  conflict with the default branch in calc.py: leviathan retry b (rebase and retry, not counted)\n" in out
    assert "leviathan merge b" not in out
    code, out, err = run_cli(capsys, "--repo", str(paths.root), "merge", "b")
    assert code == 1 and f"{branch} conflicts with main in: calc.py" in err
    assert "hint: `leviathan retry b` runs it again from the new main (rebase and retry), not counting" in err
    assert out.startswith(REGISTERED)  # a merge by hand, as the hint offers too, needs the driver
    code, out, _ = run_cli(capsys, "--repo", str(paths.root), "retry", "b")
    assert code == 0 and out.startswith(
        f"b: review -> ready (rebase and retry: {branch} conflicts in calc.py; attempt not counted, 0 used)\n"), out
    task = load_backlog(paths).task("b")
    assert (task.status, task.attempts) == (Status.READY, 0)  # at max_attempts_per_task 1 it still runs
    [retried] = [e for e in events.read_events(paths, "b") if e.kind == "review.retried"]
    assert retried.data["conflicts"] == ["calc.py"] and retried.data["branch"] == branch
    result = run_attempt(paths, "b")  # the fresh attempt starts from the new main
    assert result.outcome == "succeeded", result.reason
    assert approve(paths, "b").base_moved is False


def test_retry_refuses_a_branch_that_merges(git_repo: Path, capsys) -> None:
    root = make_project(git_repo, task_yaml("a"))
    assert run_attempt(find_repo(root), "a").outcome == "succeeded"
    code, _, err = run_cli(capsys, "--repo", str(root), "retry", "a")
    assert code == 2 and "merges into main without conflicts" in err and "leviathan merge a" in err
    assert load_backlog(find_repo(root)).task("a").status is Status.REVIEW
