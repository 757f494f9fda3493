"""Issue 14's principle: SIGKILL a run at any point (mid-checkout, mid-writeback, at an event
append, inside a git write, inside an agent's phase or a test command), edit the backlog as a
human would, then run once more: nothing is lost and nothing is left behind.

Seeded and randomized: seed N kills at milestone kind N mod 5 and at an occurrence of it the
seed picks (see `kill_points`). The default suite runs a handful of seeds; `pytest -m kill_sweep` (CI)
runs the long sweep. Each run prints one line per seed (`-s` shows them): where it was killed.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from engine_fixtures import POLICY, task_yaml
from kill_helpers import bulk_project, leftovers, rerun, start_run
from kill_points import inotify_available, kill_at, killpoint_script

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog

pytestmark = pytest.mark.skipif(not inotify_available(), reason="the milestones need Linux's inotify")

# How many occurrences of each milestone a run of the two tasks below passes (roughly; a count
# past the end just lets the run finish, and the check after it holds all the same).
MILESTONES = {"checkout": 2999, "call": 14, "event": 28, "backlog": 4, "git-lock": 2}
DEFAULT_SEEDS = range(len(MILESTONES))  # each kind once
SWEEP_SEEDS = range(len(MILESTONES), 35)  # 30 more, 6 of each kind: ~2-3 minutes


def tasks() -> str:
    return task_yaml("a") + task_yaml("b", red="printf 'import unittest\\n\\nclass T(unittest.TestCase):\\n"
                                      "    def test_b(self):\\n        import calc_b\\n' > tests/test_b.py",
                                      green="printf 'B = 1\\n' > calc_b.py", allowed="[calc_b.py, tests/]")


def policy(killpoint: Path) -> str:
    guarded = POLICY.replace('command: "python AGENT_SCRIPT"', f'command: "bash {killpoint} && python AGENT_SCRIPT"')
    guarded = guarded.replace('test_command: "python -m unittest discover -s tests -q"',
                              f'test_command: "bash {killpoint} && python -m unittest discover -s tests -q"')
    return (guarded.replace("limits: {max_attempts_per_task: 2, attempt_timeout_seconds: 30}",
                            "limits: {max_attempts_per_task: 3, attempt_timeout_seconds: 60, max_open_reviews: 5}")
            + f"invariants:\n  - {{name: killpoint, check: \"bash {killpoint}\"}}\n")


HUMAN_NOTE = "# a human's note, written while the run lay dead\n"


def kill_and_recover(git_repo: Path, seed: int) -> str:
    kind = sorted(MILESTONES)[seed % len(MILESTONES)]  # every kind as often as the others
    count = random.Random(seed).randint(1, MILESTONES[kind])
    paths = bulk_project(git_repo, tasks(), policy(killpoint_script(git_repo.parent)))
    environment = {"KILL_TEST_REPO": str(paths.root)}
    if kind == "call":
        environment |= {"KILL_AT_CALL": str(count), "KILL_COUNTER": str(git_repo.parent / "calls")}
    run = start_run(paths, environment)
    killed = kill_at(kind, count, run, paths)
    # The human edits meanwhile: a note of their own, and a task's title.
    text = paths.backlog.read_text()
    paths.backlog.write_text(text.replace("title: Add b", "title: Add b, as the human put it") + HUMAN_NOTE)

    code, out = rerun(paths)

    where = f"seed {seed}: {kind} #{count} " + ("killed the run" if killed else "(the run ended before it)")
    assert code == 0, f"{where}\n{out}"
    assert leftovers(paths) == [], f"{where}\n{out}"
    text = paths.backlog.read_text()
    assert HUMAN_NOTE in text and "title: Add b, as the human put it" in text, f"{where}: a human edit was lost"
    statuses = {task.id: task.status for task in load_backlog(paths).tasks}
    assert set(statuses.values()) <= {Status.REVIEW, Status.READY, Status.BLOCKED}, f"{where}: {statuses}"
    print(where)
    return where


@pytest.mark.parametrize("seed", DEFAULT_SEEDS)
def test_a_run_killed_at_a_milestone_leaves_nothing_behind(git_repo: Path, seed: int) -> None:
    kill_and_recover(git_repo, seed)


@pytest.mark.kill_sweep
@pytest.mark.parametrize("seed", SWEEP_SEEDS)
def test_the_long_sweep_of_kills_leaves_nothing_behind(git_repo: Path, seed: int) -> None:
    kill_and_recover(git_repo, seed)
