"""The run loop: every halt reason, the commit on halt, the lock and recovery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import git, write
from engine_fixtures import POLICY, make_project, task_yaml, unittest_file
from leviathan_local.backlog_store import load_backlog
from leviathan_local.commands.run import run_headless
from leviathan_local.git.repo import add_worktree, branch_head, find_repo
from leviathan_local.model import Status
from leviathan_local.runlock import RunInProgressError, run_lock

HALT_MESSAGE = "[leviathan] Save backlog state on halt ({})"


def run(root: Path, **options) -> tuple[int, str]:
    out = __import__("io").StringIO()
    code = run_headless(find_repo(root), out=out, **options)
    return code, out.getvalue()


def last_commit(root: Path) -> tuple[str, list[str]]:
    subject = git(root, "log", "-1", "--format=%s")
    files = git(root, "show", "--name-only", "--format=", "HEAD").split()
    return subject.strip(), files


def test_all_done_or_blocked_commits_only_the_backlog(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("a"))
    write(root / "README.md", "# human work in progress\n")
    code, out = run(root)
    assert code == 0 and out.endswith("Halted: AllDoneOrBlocked\n")
    assert last_commit(root) == (HALT_MESSAGE.format("AllDoneOrBlocked"), [".leviathan/backlog.yaml"])
    assert load_backlog(find_repo(root)).task("a").status is Status.REVIEW
    # the human's edit is untouched; the run's status report is new (reports.commit is false)
    assert git(root, "status", "--porcelain") == " M README.md\n?? DOCS/\n"


def test_no_empty_commit_when_the_backlog_is_clean(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("a").replace("status: ready", "status: new"))
    before = git(root, "rev-parse", "HEAD")
    code, out = run(root)
    assert code == 0 and "Halted: AllDoneOrBlocked" in out
    assert git(root, "rev-parse", "HEAD") == before


def policy_with(**limits) -> str:
    values = {"max_attempts_per_task": 2, "attempt_timeout_seconds": 30, "max_open_reviews": 5, **limits}
    body = ", ".join(f"{key}: {value}" for key, value in values.items())
    return POLICY.replace("limits: {max_attempts_per_task: 2, attempt_timeout_seconds: 30}", f"limits: {{{body}}}")


@pytest.mark.parametrize(("tasks", "limits", "options", "reason", "code"), [
    (task_yaml("a") + task_yaml("b"), {}, {"max_tasks": 1}, "CapReached", 0),
    (task_yaml("a", green="true") + task_yaml("b", green="true"), {"circuit_breaker_failures": 2}, {},
     "CircuitBreakerTripped", 1),
    (task_yaml("a") + task_yaml("b"), {}, {"targets": ("b",)}, "TargetCompleted", 0),
    (task_yaml("a", green="true"), {"max_attempts_per_task": 1}, {"targets": ("a",)}, "TargetBlocked", 1),
    (task_yaml("a", extra="    type: bug\n") + task_yaml("b"), {}, {"only": ("type=bug,docs",)}, "FilterExhausted", 0),
    (task_yaml("a"), {}, {"only": ("type=security",)}, "NoMatchingItems", 0),
    (task_yaml("a"), {"max_open_reviews": 1}, {}, "AllDoneOrBlocked", 0),
], ids=["CapReached", "CircuitBreakerTripped", "TargetCompleted", "TargetBlocked", "FilterExhausted",
        "NoMatchingItems", "AllDoneOrBlocked-open-reviews"])
def test_halt_reasons(git_repo: Path, tasks, limits, options, reason, code) -> None:
    root = make_project(git_repo, tasks, policy_with(**limits))
    with open(root / ".leviathan" / "backlog.yaml", "a") as backlog:
        backlog.write("# a human's note, not committed yet\n")  # so every halt has something to commit
    exit_code, out = run(root, **options)
    assert out.endswith(f"Halted: {reason}\n"), out
    assert exit_code == code
    assert last_commit(root)[0] == HALT_MESSAGE.format(reason)


def test_shutdown_requested_before_work_starts(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("a"))
    stop = threading.Event()
    stop.set()
    code, out = run(root, stop=stop)
    assert code == 130 and out.endswith("Halted: ShutdownRequested\n")
    assert git(root, "log", "-1", "--format=%s").strip() == "project"  # nothing changed: no empty commit


def test_sigterm_mid_attempt_stops_cleanly_and_commits(git_repo: Path) -> None:
    marker = git_repo / "started.marker"
    root = make_project(git_repo, task_yaml("a", red=f"touch {marker} && sleep 60"))
    process = subprocess.Popen([sys.executable, "-m", "leviathan_local", "--repo", str(root), "run"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not marker.exists():  # wait for the agent to be mid-phase
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Halted: ShutdownRequested" in out
    task = load_backlog(find_repo(root)).task("a")
    assert task.status is Status.READY and task.attempts == 0  # an interrupted attempt is not counted
    assert last_commit(root) == (HALT_MESSAGE.format("ShutdownRequested"), [".leviathan/backlog.yaml"])
    assert "[agent/" not in git(root, "worktree", "list")  # the slot let go of the attempt's branch


def test_a_second_run_is_refused_while_one_holds_the_lock(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("a"))
    with run_lock(find_repo(root)):
        with pytest.raises(RunInProgressError, match=f"pid {os.getpid()}"):
            run(root)


def test_a_stale_lock_is_recovered(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("a") + task_yaml("b").replace("status: ready", "status: new"))
    paths = find_repo(root)
    add_worktree(paths, "a-dead01", root / "worktrees" / "a-dead01", "agent/a-dead01", branch_head(paths, "main"))
    text = paths.backlog.read_text().replace("  - id: a\n    title: Add a\n    status: ready\n",
                                             "  - id: a\n    title: Add a\n    status: doing\n    branch_name: agent/a-dead01\n")
    paths.backlog.write_text(text)
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    (paths.state_dir / "run.lock").write_text(json.dumps({"pid": 999999, "started": "2026-11-22T11:00:00Z"}))
    code, out = run(root, max_tasks=1)
    assert "recovered from a run that died (pid 999999" in out
    assert "removed orphan worktree worktrees/a-dead01" in out
    assert not (root / "worktrees" / "a-dead01").exists()
    assert "agent/a-dead01" in git(root, "branch", "--list", "agent/a-dead01")
    task = load_backlog(paths).task("a")
    assert task.attempts == 1  # the interrupted attempt counted; then this run attempted it again
    assert (paths.state_dir / "run.lock").read_text() == ""


def test_a_git_failure_on_the_halt_commit_is_a_warning(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("a"))
    (root / ".git" / "refs" / "heads" / "main.lock").write_text("")  # someone else is updating main
    code, out = run(root)
    assert code == 0 and "warning: backlog not committed on halt" in out and "Halted: AllDoneOrBlocked" in out
    (root / ".git" / "refs" / "heads" / "main.lock").unlink()


def test_unknown_target_is_bad_input(git_repo: Path) -> None:
    from leviathan_local.errors import BacklogError

    root = make_project(git_repo, task_yaml("a"))
    with pytest.raises(BacklogError, match="unknown task"):
        run(root, targets=("nope",))


def test_watch_waits_for_new_work_then_stops_cleanly(git_repo: Path) -> None:
    from leviathan_local.events import read_events

    # A backlog with no tasks at all. The recipe agent reads the task from the main checkout:
    # the human's new task is not committed, so an agent reading the worktree would not see it.
    root = make_project(git_repo, "", policy_with().replace('{kind: command, command: "python AGENT_SCRIPT"}',
                                                            "{kind: recipe}"))
    paths = find_repo(root)
    stop = threading.Event()
    outcome: dict[str, object] = {}
    # A daemon thread, and a stop on any failure: a broken run must fail the test, not hang it.
    runner = threading.Thread(target=lambda: outcome.update(result=run(root, watch=True, stop=stop)), daemon=True)
    runner.start()

    def wait_until(condition, what: str) -> None:
        deadline = time.monotonic() + 60
        while not condition():
            if not runner.is_alive() or time.monotonic() >= deadline:
                stop.set()
                raise AssertionError(what)
            time.sleep(0.05)

    wait_until(lambda: any(e.kind == "run.waiting" for e in read_events(paths)), "the run never went idle")
    paths.backlog.write_text("tasks:\n" + task_yaml("late"))  # a human adds work while it waits
    wait_until(lambda: load_backlog(paths).task("late").status is Status.REVIEW, "the new task was never attempted")
    wait_until(lambda: sum(e.kind == "run.waiting" for e in read_events(paths)) >= 2, "no second wait")
    stop.set()
    runner.join(timeout=60)
    code, out = outcome["result"]
    assert code == 130 and out.endswith("Halted: ShutdownRequested\n")
    assert "late: attempt attempt-late-" in out


def test_parallel_attempts_never_share_paths(git_repo: Path) -> None:
    from leviathan_local.events import read_events

    def own_task(name: str, allowed: str) -> str:
        red, green = unittest_file(name, "self.fail()"), unittest_file(name, "pass")
        return task_yaml(name, red=red, green=green, allowed=allowed)

    tasks = own_task("a", "[tests/test_a.py]") + own_task("b", "[tests/test_b.py]") + own_task("c", "[tests/]")
    root = make_project(git_repo, tasks, policy_with(max_running_attempts=2))
    code, out = run(root)
    assert code == 0, out
    order = [(e.kind, e.task) for e in read_events(find_repo(root)) if e.kind.startswith("attempt.")]
    starts = {task: order.index(("attempt.started", task)) for task in "abc"}
    ends = {task: order.index(("attempt.succeeded", task)) for task in "abc"}
    ran_together = {tuple(sorted((x, y))) for x in "abc" for y in "abc"
                    if x != y and starts[x] < ends[y] and starts[y] < ends[x]}
    assert ran_together == {("a", "b")}  # c's tests/ overlaps both, so it ran alone


def test_a_stop_reaches_parallel_attempt_processes(git_repo: Path) -> None:
    markers = git_repo.parent
    tasks = "".join(task_yaml(name, red=f"touch {markers}/{name}.started && sleep 60",
                              allowed=f"[tests/test_{name}.py]") for name in ("a", "b"))
    root = make_project(git_repo, tasks, policy_with(max_running_attempts=2))
    stop = threading.Event()
    outcome: dict[str, object] = {}
    runner = threading.Thread(target=lambda: outcome.update(result=run(root, stop=stop)))
    runner.start()
    deadline = time.monotonic() + 60
    while not all((markers / f"{name}.started").exists() for name in "ab"):
        assert runner.is_alive() and time.monotonic() < deadline
        time.sleep(0.05)
    stop.set()
    runner.join(timeout=60)
    code, out = outcome["result"]
    assert code == 130 and out.endswith("Halted: ShutdownRequested\n")
    tasks_after = load_backlog(find_repo(root)).tasks
    assert [(t.status, t.attempts) for t in tasks_after] == [(Status.READY, 0), (Status.READY, 0)]


def test_a_run_without_an_agent_stops_before_anything_is_written(git_repo: Path) -> None:
    from leviathan_local.errors import ConfigError

    root = make_project(git_repo, task_yaml("a"), policy_with().replace(
        'agent: {kind: command, command: "python AGENT_SCRIPT"}\n', ""))
    with pytest.raises(ConfigError, match="no agent configured"):
        run(root)
    assert git(root, "status", "--porcelain") == ""
    assert not (root / ".git" / "leviathan" / "events.ndjson").exists()


def test_a_backlog_staged_then_changed_back_makes_no_halt_commit(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("a").replace("status: ready", "status: new"))
    paths = find_repo(root)
    committed = paths.backlog.read_text()
    paths.backlog.write_text(committed + "# a note\n")
    git(root, "add", ".leviathan/backlog.yaml")
    paths.backlog.write_text(committed)  # dirty by status (staged), but the file equals HEAD's
    before = git(root, "rev-parse", "HEAD")
    code, out = run(root)
    assert code == 0 and out.endswith("Halted: AllDoneOrBlocked\n") and "warning" not in out
    assert git(root, "rev-parse", "HEAD") == before
