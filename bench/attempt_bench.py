"""Benchmark: the executor's own overhead per attempt on a ~3,000-file repository.

Overhead = an attempt's wall time minus the time spent in the agent's and the tests' commands
(read from the attempt log): worktree, scope and secret gates, writeback, commit, events,
cleanup. Printed beside a plain `git worktree add` + `git worktree remove` pair measured on
the same repository in the same run. Target: overhead <= 0.25 x the pair. Medians.

    python bench/attempt_bench.py [--files 3000] [--attempts 9]
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

POLICY = """\
agent: {kind: recipe}
tdd: {test_command: "true", test_globs: ["tests/**"]}
limits: {max_open_reviews: 1000}
scopes:
  docs: {allowed_paths: [docs/], tdd: false}
"""


def make_repo(root: Path, files: int, attempts: int) -> Path:
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    for number in range(files):
        path = root / f"pkg{number % 60}" / f"sub{number % 7}" / f"module_{number}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'"""Module {number}."""\n' + "VALUE = 1\n" * 30)
    (root / ".gitignore").write_text("worktrees/\n")
    (root / ".leviathan").mkdir()
    (root / ".leviathan" / "policy.yaml").write_text(POLICY)
    tasks = "".join(
        f"  - id: doc-{n}\n    title: Document part {n}\n    status: ready\n    scope: docs\n"
        f"    acceptance_criteria: [written]\n    steps: {{green: [\"mkdir -p docs && echo part {n} > docs/part{n}.md\"]}}\n"
        for n in range(attempts))
    (root / ".leviathan" / "backlog.yaml").write_text("tasks:\n" + tasks)
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost"}
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "bench repository"], cwd=root, check=True, env=env)
    return root


def plain_pair(root: Path, number: int) -> float:
    start = time.perf_counter()
    subprocess.run(["git", "worktree", "add", "-q", "-b", f"plain-{number}", f"../plain-{number}"], cwd=root, check=True)
    subprocess.run(["git", "worktree", "remove", "--force", f"../plain-{number}"], cwd=root, check=True)
    return time.perf_counter() - start


def attempt_overhead(root: Path, task_id: str) -> tuple[float, float]:
    paths = find_repo(root)
    start = time.perf_counter()
    result = run_attempt(paths, task_id)
    total = time.perf_counter() - start
    assert result.outcome == "succeeded", result.reason
    log = (paths.state_dir / "attempts" / f"{result.attempt_id}.log").read_text()
    commands = sum(float(seconds) for seconds in re.findall(r"after ([0-9.]+)s\]", log))
    return total - commands, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--attempts", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = make_repo(Path(temp) / "repo", args.files, args.attempts + 1)
        pairs = [plain_pair(root, n) for n in range(args.attempts)]
        first, _ = attempt_overhead(root, "doc-0")  # creates the pool's first slot
        steady = [attempt_overhead(root, f"doc-{n}") for n in range(1, args.attempts + 1)]
    pair = statistics.median(pairs)
    overhead = statistics.median(o for o, _ in steady)
    print(f"repository: {args.files} files; {args.attempts} attempts after the first")
    print(f"{'figure':44} {'median':>9} {'vs pair':>9}")
    print(f"{'git worktree add + remove (baseline)':44} {pair:8.3f}s {1:8.3f}x")
    print(f"{'first attempt overhead (creates the slot)':44} {first:8.3f}s {first / pair:8.3f}x")
    print(f"{'attempt overhead, reused slot':44} {overhead:8.3f}s {overhead / pair:8.3f}x  "
          f"target <= 0.25x {'ok' if overhead <= 0.25 * pair else 'MISSED'}")
    print(f"{'attempt wall time, reused slot':44} {statistics.median(t for _, t in steady):8.3f}s")


if __name__ == "__main__":
    main()
