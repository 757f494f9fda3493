"""Benchmark: verification cost per task, today's (every check runs) beside reuse + red_command.

A generated project whose test suite takes about 5 s (its tests sleep: that is the workload,
not a timed test) and appends a line to a counter file each time the whole suite runs. The
recipe agent makes a correct red -> green change, then a refactor that changes the code. The
policy's invariant "Tests pass" is the test command (as `init`'s template suggests). Per task:
full-suite runs, and verification wall time (the test and red commands' durations, from the
attempt log). Two policies, measured interleaved in the same run: `reuse_results: false` and
no red_command (today's behaviour), and the defaults plus `red_command` on the changed tests.
Target: <= 2 full-suite runs per successful attempt (plus the merge check). Medians.

    python bench/verification_bench.py [--tasks 3] [--suite-seconds 5]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from leviathan_local.engine.attempt import run_attempt
from leviathan_local.git.repo import find_repo

TEST_COMMAND = "python -m unittest discover -s tests -q"
POLICY = f"""\
agent: {{kind: recipe}}
tdd:
  test_command: "{TEST_COMMAND}"
  test_globs: ["tests/**"]
  EXTRA
invariants:
  - {{name: Tests pass, check: "{TEST_COMMAND}"}}
limits: {{max_open_reviews: 1000, attempt_timeout_seconds: 600}}
"""
TODAY = "reuse_results: false"
NEW = 'red_command: "python -m unittest {changed_tests}"'
WORKLOAD = """\
import os, time, unittest


def setUpModule():
    with open(os.environ["BENCH_SUITE_COUNTER"], "a") as counter:
        counter.write("full suite\\n")


class Workload(unittest.TestCase):
"""


def make_repo(root: Path, policy_extra: str, tasks: int, suite_seconds: float) -> Path:
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    (root / "tests").mkdir()
    (root / "tests" / "__init__.py").write_text("")
    slices = 10
    (root / "tests" / "test_workload.py").write_text(WORKLOAD + "".join(
        f"    def test_slice_{n}(self):\n        time.sleep({suite_seconds / slices})\n" for n in range(slices)))
    (root / ".gitignore").write_text("worktrees/\n__pycache__/\n")
    (root / ".leviathan").mkdir()
    (root / ".leviathan" / "policy.yaml").write_text(POLICY.replace("EXTRA", policy_extra))
    sources = root.parent / f"{root.name}-sources"
    sources.mkdir()
    (root / ".leviathan" / "backlog.yaml").write_text("tasks:\n" + "".join(_task(n, sources) for n in range(tasks)))
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost"}
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "bench project"], cwd=root, check=True, env=env)
    return root


def _task(number: int, sources: Path) -> str:
    """A task whose recipe copies prepared files in: the test (red), the code (green), a tidier code (refactor)."""
    made = {"test": ("import unittest\nfrom feature_{n} import double\n\n\nclass Test(unittest.TestCase):\n"
                     "    def test_double(self):\n        self.assertEqual(double(2), 4)\n"),
            "code": "def double(x):\n    return x * 2\n",
            "tidy": 'def double(x):\n    """Twice x."""\n    return 2 * x\n'}
    for kind, text in made.items():
        (sources / f"{kind}_{number}.py").write_text(text.format(n=number))
    return (f"  - id: f{number}\n    title: Feature {number}\n    status: ready\n    effort: 2\n"
            f"    allowed_paths: [feature_{number}.py, tests/]\n    acceptance_criteria: [doubles]\n"
            f"    steps:\n      red: [cp {sources}/test_{number}.py tests/test_feature_{number}.py]\n"
            f"      green: [cp {sources}/code_{number}.py feature_{number}.py]\n"
            f"      refactor: [cp {sources}/tidy_{number}.py feature_{number}.py]\n")


def measure(root: Path, task_id: str, counter: Path) -> tuple[int, float, float]:
    """(full-suite runs, verification seconds, attempt seconds) of one attempt at ``task_id``."""
    counter.write_text("")
    paths = find_repo(root)
    start = time.perf_counter()
    result = run_attempt(paths, task_id)
    total = time.perf_counter() - start
    assert result.outcome == "succeeded", result.reason
    log = (paths.state_dir / "attempts" / f"{result.attempt_id}.log").read_text()
    checks = re.findall(r"^\$ python -m unittest .*?^\[exit \d+ after ([0-9.]+)s\]$", log, re.MULTILINE | re.DOTALL)
    return len(counter.read_text().splitlines()), sum(float(seconds) for seconds in checks), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=3, help="attempts per policy (one task each)")
    parser.add_argument("--suite-seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        counter = Path(temp) / "suite-runs.txt"
        os.environ["BENCH_SUITE_COUNTER"] = str(counter)  # the attempt's commands inherit it
        repos = {name: make_repo(Path(temp) / name, extra, args.tasks, args.suite_seconds)
                 for name, extra in (("today", TODAY), ("new", NEW))}
        figures: dict[str, list[tuple[int, float, float]]] = {"today": [], "new": []}
        for number in range(args.tasks):  # interleaved: load on the machine falls on both alike
            for name, root in repos.items():
                figures[name].append(measure(root, f"f{number}", counter))
    print(f"suite: {args.suite_seconds:g} s of tests; {args.tasks} attempt(s) per policy; medians")
    print(f"{'policy':52} {'suite runs':>10} {'verify s':>9} {'attempt s':>10} {'vs today':>9}")
    baseline = statistics.median(v for _, v, _ in figures["today"])
    for name, label in (("today", "today: every check runs (reuse_results: false)"),
                        ("new", "reuse + red_command on the changed tests")):
        runs = statistics.median(r for r, _, _ in figures[name])
        verify = statistics.median(v for _, v, _ in figures[name])
        wall = statistics.median(t for _, _, t in figures[name])
        print(f"{label:52} {runs:10g} {verify:9.2f} {wall:10.2f} {verify / baseline:8.2f}x")
    new_runs = max(r for r, _, _ in figures["new"])
    print(f"target <= 2 full-suite runs per successful attempt: {'ok' if new_runs <= 2 else 'MISSED'} "
          f"(at most {new_runs})")


if __name__ == "__main__":
    main()
