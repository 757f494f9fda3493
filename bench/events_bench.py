"""Benchmark: what checking the event log's chain costs a run on a long log.

A run checks the chain before it appends (`events.check_chain`): the bytes up to the last
verified point are hashed, the events after it checked one by one. Printed: the full check
(`events verify`, and a run's first check with no verified point yet), then a run's check
with the point in place and a few dozen events appended since. Medians.

    python bench/events_bench.py [--events 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from leviathan_local.events import (
    GENESIS, VERIFIED_POINT, append_event, check_chain, event_hash, log_path, verify_chain,
)
from leviathan_local.git.repo import find_repo


def write_log(path: Path, count: int) -> None:
    """``count`` chained events shaped like a run's (a phase with a little data each)."""
    previous, lines = GENESIS, []
    for seq in range(1, count + 1):
        fields = {"seq": seq, "ts": "2026-11-22T12:00:00Z", "kind": "phase.finished", "task": f"task-{seq % 50}",
                  "data": {"attempt": f"attempt-task-{seq % 50}-abcdef", "phase": "green", "verdict": "passed",
                           "seconds": 1.25, "detail": ""}, "prev": previous}
        fields["hash"] = previous = event_hash(fields)
        lines.append(json.dumps(fields, separators=(",", ":")) + "\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines))


def median_seconds(work, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(["git", "init", "-q", scratch], check=True)
        paths = find_repo(scratch)
        write_log(log_path(paths), arguments.events)
        size = log_path(paths).stat().st_size
        full = median_seconds(lambda: verify_chain(paths), arguments.repeat)

        def first_check() -> None:
            (paths.state_dir / VERIFIED_POINT).unlink(missing_ok=True)
            check_chain(paths)

        first = median_seconds(first_check, arguments.repeat)

        check_chain(paths)
        timings = []
        for _ in range(arguments.repeat):
            for number in range(30):  # an attempt's worth of events since the last check
                append_event(paths, "note", None, n=number)
            started = time.perf_counter()
            check_chain(paths)
            timings.append(time.perf_counter() - started)
        later = statistics.median(timings)
    print(f"log: {arguments.events} events, {size / 1e6:.1f} MB")
    print(f"full check (events verify):               {full * 1000:8.1f} ms")
    print(f"a run's first check (no verified point):  {first * 1000:8.1f} ms")
    print(f"a run's check, 30 events since the point: {later * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
