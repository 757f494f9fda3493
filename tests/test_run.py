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

from leviathan_local import events
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.commands.run import run_headless
from leviathan_local.engine.runlock import RunInProgressError, run_lock
from leviathan_local.engine.runner import RunReport, commit_backlog_on_halt
from leviathan_local.git.repo import add_worktree, branch_head, find_repo

HALT_MESSAGE = "[leviathan] Save backlog state on halt ({})"


def run(root: Path, **options) -> tuple[int, str]:
    out = __import__("io").StringIO()
    code = run_headless(find_repo(root), out=out, **options)
    return code, out.getvalue()


def last_commit(root: Path) -> tuple[str, list[str]]:
    subject = git(root, "log", "-1", "--format=%s")
    files = git(root, "show", "--name-only", "--format=", "HEAD").split()
    return subject.strip(), files


def policy_with(**limits) -> str:
    values = {"max_attempts_per_task": 2, "attempt_timeout_seconds": 30, "max_open_reviews": 5, **limits}
    body = ", ".join(f"{key}: {value}" for key, value in values.items())
    return POLICY.replace("limits: {max_attempts_per_task: 2, attempt_timeout_seconds: 30}", f"limits: {{{body}}}")


def stopped() -> threading.Event:
    stop = threading.Event()
    stop.set()
    return stop


# Each reason: the tasks, the policy's limits, the first run's options (its backlog has a human's
# note besides whatever the run changes) and a second run's that halts for the same reason
# without changing anything (None: no such run exists, as the breaker trips on counted failures).
HALTS = {
    "AllDoneOrBlocked": (task_yaml("a"), {}, {}, {}),
    # max_tasks 0 is the API's only (the CLI asks for 1 or more): the one clean way to reach the cap
    "CapReached": (task_yaml("a") + task_yaml("b"), {}, {"max_tasks": 1}, {"max_tasks": 0}),
    "CircuitBreakerTripped": (task_yaml("a", green="true") + task_yaml("b", green="true"),
                              {"circuit_breaker_failures": 2}, {}, None),
    "ShutdownRequested": (task_yaml("a"), {}, {"stop": stopped}, {"stop": stopped}),
    "TargetCompleted": (task_yaml("a") + task_yaml("b"), {}, {"targets": ("b",)}, {"targets": ("b",)}),
    "TargetBlocked": (task_yaml("a", green="true"), {"max_attempts_per_task": 1}, {"targets": ("a",)},
                      {"targets": ("a",)}),
    "FilterExhausted": (task_yaml("a", extra="    type: bug\n") + task_yaml("b"), {}, {"only": ("type=bug,docs",)},
                        {"only": ("type=bug,docs",)}),
    "NoMatchingItems": (task_yaml("a"), {}, {"only": ("type=security",)}, {"only": ("type=security",)}),
    "ReviewLimitReached": (task_yaml("a") + task_yaml("b"), {"max_open_reviews": 1}, {}, {}),
}
EXIT = {"CircuitBreakerTripped": 1, "TargetBlocked": 1, "ShutdownRequested": 130, "ReviewLimitReached": 3}


def options_for(options: dict) -> dict:
    return {key: value() if callable(value) else value for key, value in options.items()}


@pytest.mark.parametrize("reason", list(HALTS))
def test_every_halt_reason_commits_the_backlog_alone_and_never_an_empty_commit(git_repo: Path, reason: str) -> None:
    tasks, limits, first, again = HALTS[reason]
    root = make_project(git_repo, tasks, policy_with(**limits))
    with open(root / ".leviathan" / "backlog.yaml", "a") as backlog:
        backlog.write("# a human's note, not committed yet\n")  # so every halt has something to commit
    write(root / "README.md", "# the human's work in progress\n")
    write(root / "notes.txt", "staged by the human\n")
    git(root, "add", "notes.txt")
    code, out = run(root, **options_for(first))
    assert halt_reason_line(out) == reason and code == EXIT.get(reason, 0), out
    assert last_commit(root) == (HALT_MESSAGE.format(reason), [".leviathan/backlog.yaml"])
    assert git(root, "status", "--porcelain") == " M README.md\nA  notes.txt\n?? DOCS/\n"  # the rest as it was
    head = git(root, "rev-parse", "HEAD")
    assert commit_backlog_on_halt(find_repo(root), reason, RunReport()) is None  # clean now: nothing to commit
    if again is not None:
        code, out = run(root, **options_for(again))
        assert halt_reason_line(out) == reason, out
    assert git(root, "rev-parse", "HEAD") == head


def halt_reason_line(out: str) -> str:
    """The reason on the output's last line, `Halted: <Reason>[: what stopped it]`."""
    last = out.splitlines()[-1]
    assert last.startswith("Halted: "), out
    return last.removeprefix("Halted: ").split(":")[0]


def test_the_review_limit_halts_review_limit_reached_while_tasks_are_ready(git_repo: Path) -> None:
    """Two tasks could run; with one branch waiting for review (the limit), the second waits,
    and the halt says so: not AllDoneOrBlocked, exit 3."""
    root = make_project(git_repo, task_yaml("a") + task_yaml("b"), policy_with(max_open_reviews=1))
    code, out = run(root)
    assert code == 3, out
    assert out.splitlines()[-1] == (
        "Halted: ReviewLimitReached: 1 branch waits for review and max_open_reviews is 1, so 1 ready task did "
        "not start; approve or reject (`leviathan review`, then `leviathan merge ID` or `leviathan reject ID "
        "--reason ...`), or raise limits.max_open_reviews in .leviathan/policy.yaml")
    tasks = load_backlog(find_repo(root)).by_id
    assert (tasks["a"].status, tasks["b"].status, tasks["b"].attempts) == (Status.REVIEW, Status.READY, 0)
    assert last_commit(root)[0] == HALT_MESSAGE.format("ReviewLimitReached")
    halted = [e for e in events.read_events(find_repo(root)) if e.kind == "run.halted"][-1]
    assert halted.data["reason"] == "ReviewLimitReached" and "max_open_reviews is 1" in halted.data["detail"]
    report = json.loads((root / "DOCS" / "status" / "latest.json").read_text())
    assert report["halt_reason"] == "ReviewLimitReached"  # the report's schema knows it


def test_a_full_review_queue_with_nothing_ready_is_all_done_or_blocked(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("a"), policy_with(max_open_reviews=1))
    assert run(root)[1].endswith("Halted: AllDoneOrBlocked\n")  # a in review, nothing else to start


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


def test_watch_waits_at_the_review_limit_until_a_review_frees_a_slot(git_repo: Path) -> None:
    from leviathan_local.review.approve import approve

    sub_red = unittest_file("sub", "self.assertEqual(sub(3, 2), 1)", "from calc import sub")
    sub_green = "printf '\\n\\ndef sub(a, b):\\n    return a - b\\n' >> calc.py"  # on a's calc.py, once merged
    root = make_project(git_repo, task_yaml("a") + task_yaml("b", red=sub_red, green=sub_green),
                        policy_with(max_open_reviews=1))
    paths = find_repo(root)
    stop = threading.Event()
    outcome: dict[str, object] = {}
    runner = threading.Thread(target=lambda: outcome.update(result=run(root, watch=True, stop=stop)), daemon=True)
    runner.start()

    def wait_until(condition, what: str) -> None:
        deadline = time.monotonic() + 60
        while not condition():
            if not runner.is_alive() or time.monotonic() >= deadline:
                stop.set()
                raise AssertionError(what)
            time.sleep(0.05)

    def waits() -> list[events.Event]:
        return [e for e in events.read_events(paths) if e.kind == "run.waiting"]

    wait_until(lambda: waits(), "the run never waited at the review limit")
    assert "max_open_reviews is 1" in waits()[0].data["review_limit"]
    approve(paths, "a")  # the slot is free: the wait ends and b runs
    wait_until(lambda: load_backlog(paths).task("b").status is Status.REVIEW, "b never ran")
    stop.set()
    runner.join(timeout=60)
    code, out = outcome["result"]
    assert code == 130 and out.endswith("Halted: ShutdownRequested\n"), out


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
