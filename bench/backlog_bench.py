"""Benchmark: backlog writeback and `leviathan plan --json` on a large generated backlog.

Prints each figure beside a ruamel.yaml round trip (load, change one status, dump) of the
same file, measured in the same run, as a ratio. Medians, because the machine is shared.

    python bench/backlog_bench.py                # 10,000 tasks (the ruamel baseline takes ~40 s)
    python bench/backlog_bench.py --tasks 1000   # quicker
"""

from __future__ import annotations

import argparse
import compileall
import difflib
import io
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ruamel.yaml import YAML

from leviathan_local.backlog import store as backlog_store
from leviathan_local.backlog.store import load_backlog, update_task
from leviathan_local.git.repo import find_repo

TYPES = ["feature", "bug", "refactor", "docs", "test", "chore"]


def generate_backlog(count: int, seed: int = 7) -> str:
    """Tasks with comments, quoting, blank lines, block scalars and lists, like a human's file."""
    rng = random.Random(seed)
    out = ["# Generated backlog for benchmarks\n", "# Humans write tasks here; the tool writes status fields.\n",
           "tasks:\n"]
    for n in range(count):
        out.append(f"  # --- task {n} ---\n")
        out.append(f"  - id: task-{n:05d}\n")
        out.append(f'    title: "Improve module {n % 97} handling of case {n}"  # from triage\n')
        out.append("    description: >\n      A longer description that a human wrote\n      over two lines.\n")
        out.append(f"    type: {rng.choice(TYPES)}\n")
        out.append(f"    status: {rng.choice(['ready', 'ready', 'new', 'done', 'pending'])}\n")
        if rng.random() < 0.5:
            out.append("    ready: true\n")
        out.append(f"    impact: {rng.choice([1, 2, 3, 5, 8, 13])}\n")
        out.append(f"    effort: {rng.choice([1, 2, 3, 5])}\n")
        out.append(f"    allowed_paths:\n      - src/mod{n % 97}/\n      - 'tests/test_mod{n % 97}.py'\n")
        out.append("    acceptance_criteria:\n      - It works\n      - It has tests\n")
        out.append(f"    created_at: '2026-{1 + n % 10:02d}-{1 + n % 27:02d}T09:00:00Z'\n\n")
    return "".join(out)


def make_repo(root: Path, text: str) -> Path:
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    (root / ".leviathan").mkdir()
    (root / ".leviathan" / "backlog.yaml").write_text(text)
    return root


def ruamel_round_trip(path: Path) -> float:
    start = time.perf_counter()
    yaml = YAML()
    data = yaml.load(path.read_text())
    data["tasks"][len(data["tasks"]) // 2]["status"] = "doing"
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return time.perf_counter() - start


def writeback_times(root: Path, repeats: int) -> list[float]:
    paths = find_repo(root)
    backlog = load_backlog(paths)  # the tool's warm in-process state, as during a run
    ids = [task.id for task in backlog.tasks]
    times = []
    for n in range(repeats):
        before = paths.backlog.read_text()
        start = time.perf_counter()
        update_task(paths, ids[(n * 7919) % len(ids)], {"status": "doing"})
        times.append(time.perf_counter() - start)
        changed = [line for line in difflib.unified_diff(before.splitlines(), paths.backlog.read_text().splitlines(), n=0)
                   if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        assert len(changed) <= 2 and all("status:" in line for line in changed), changed
    return times


def plan_process(root: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "leviathan_local", "--repo", str(root), "plan", "--json"],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def touch_one_title(path: Path, n: int) -> None:
    text = path.read_text()
    path.write_text(text.replace("handling of case 1\"", f"handling of case 1 (rev {n})\"", 1)
                    if n else text.replace("handling of case 1\"", "handling of case 1 (rev)\"", 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--baseline-repeats", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("LEVIATHAN_NOW", "2026-11-22T12:00:00Z")
    # As an installed package has them: with PYTHONDONTWRITEBYTECODE set (this machine sets it),
    # every `plan` process would otherwise compile the package again, a third of a second.
    compileall.compile_dir(str(Path(backlog_store.__file__).parent.parent), quiet=1)

    with tempfile.TemporaryDirectory() as temp:
        root = make_repo(Path(temp) / "repo", generate_backlog(args.tasks))
        backlog = root / ".leviathan" / "backlog.yaml"
        size_mb = backlog.stat().st_size / 1e6
        print(f"backlog: {args.tasks} tasks, {size_mb:.1f} MB, {backlog.read_text().count(chr(10))} lines")

        baseline = statistics.median(ruamel_round_trip(backlog) for _ in range(args.baseline_repeats))
        writeback = statistics.median(writeback_times(root, args.repeats))
        backlog_store._last.clear()

        shutil.rmtree(root / ".git" / "leviathan" / "cache", ignore_errors=True)
        cold = plan_process(root)  # no parse cache at all
        unchanged = statistics.median(plan_process(root) for _ in range(args.repeats))
        changed = []
        for n in range(args.repeats):
            touch_one_title(backlog, n + 1)
            changed.append(plan_process(root))
        changed_median = statistics.median(changed)

    rows = [
        ("ruamel.yaml round trip (baseline)", baseline, None),
        ("status writeback, in-process", writeback, 0.100),
        ("plan --json process, file unchanged", unchanged, 1.0),
        ("plan --json process, file changed", changed_median, 3.0),
        ("plan --json process, no cache at all", cold, 3.0),
    ]
    print(f"{'figure':40} {'median':>9} {'target':>8} {'vs baseline':>12}")
    for name, seconds, target in rows:
        target_text = f"<= {target:.2f}s" if target else ""
        verdict = "" if target is None else ("  ok" if seconds <= target else "  MISSED")
        print(f"{name:40} {seconds:8.3f}s {target_text:>8} {seconds / baseline:11.4f}x{verdict}")


if __name__ == "__main__":
    main()
