"""The local runner: attempts in worktrees of this machine. One attempt runs in the run's own
process; a batch of several runs each as its own `leviathan attempt` process (the unit a
remote runner executes too), every file they share (backlog, event log) under its own lock."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading

from leviathan_local.backlog.model import Task
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.engine.attempt_state import AttemptResult, PhaseRecord
from leviathan_local.errors import WorkFailedError
from leviathan_local.repo_paths import RepoPaths


def run_batch(paths: RepoPaths, batch: list[Task], stop: threading.Event,
              budget_left: float | None) -> list[AttemptResult]:
    if len(batch) == 1:
        return [run_attempt(paths, batch[0].id, stop, budget_left)]
    # In parallel, each attempt is its own `leviathan attempt` process: the unit a remote
    # runner would execute too. Every file they share (backlog, event log) has its own lock.
    budget = [] if budget_left is None else ["--budget-left", repr(budget_left)]
    children = [subprocess.Popen([sys.executable, "-m", "leviathan_local", "--repo", str(paths.root), "attempt",
                                  task.id, "--json", *budget], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for task in batch]
    while any(child.poll() is None for child in children):
        if stop.wait(0.1):
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)  # the child stops its commands and reports
            break
    return [child_result(child, task) for child, task in zip(children, batch)]


def child_result(child: subprocess.Popen[str], task: Task) -> AttemptResult:
    out, err = child.communicate()
    try:
        data = json.loads(out.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        raise WorkFailedError(f"the attempt process for {task.id} ended with exit {child.returncode}",
                              hint=(err.strip().splitlines() or ["no output"])[-1]) from None
    data["phases"] = [PhaseRecord(**phase) for phase in data["phases"]]
    return AttemptResult(**data)
