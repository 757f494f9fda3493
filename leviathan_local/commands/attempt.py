"""`leviathan attempt ID`: one attempt as its own process (the unit parallel runners reuse)."""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import asdict
from typing import BinaryIO, TextIO

from leviathan_local import events
from leviathan_local.backlog.merge_driver import ensure_registered
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.engine.attempt_state import AttemptResult
from leviathan_local.engine.preflight import check_attempt_inputs
from leviathan_local.engine.remote.worker import run_remote_attempt
from leviathan_local.engine.signals import stop_on_signals
from leviathan_local.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_WORK_FAILED
from leviathan_local.planning.cost import agent_usd, usd_text
from leviathan_local.repo_paths import RepoPaths


def run_attempt_command(paths: RepoPaths, task_id: str, as_json: bool = False, out: TextIO | None = None,
                        budget_left: float | None = None) -> int:
    out = out or sys.stdout
    check_attempt_inputs(paths, task_id)  # bad input: exit 2 before the attempt writes or logs anything
    events.check_appendable(paths)  # a log that refuses the attempt refuses this write too
    registered = ensure_registered(paths)
    if registered and not as_json:  # a runner reads the JSON alone; its run said so already
        out.write(f"note: {registered}\n")
    stop = threading.Event()
    with stop_on_signals(stop):
        result = run_attempt(paths, task_id, stop, budget_left)
    out.write(json.dumps(asdict(result)) + "\n" if as_json else render_attempt(result, paths))
    return attempt_exit_code(result)


def run_remote_attempt_command(url: str, task_id: str, base: str, attempt_id: str | None = None,
                               as_json: bool = False, out: TextIO | None = None,
                               budget_left: float | None = None, stream_log: bool = False) -> int:
    """`leviathan attempt ID --remote URL --base SHA`: the same attempt in a cached clone of the
    remote, its record and branch pushed there (README, "Remote attempts")."""
    out = out or sys.stdout
    stop = threading.Event()
    with stop_on_signals(stop):
        remote = run_remote_attempt(url, task_id, base, attempt_id, stop, budget_left,
                                    stream_log=_binary(out) if stream_log else None)
    if as_json:
        out.write(json.dumps({**asdict(remote.result), "pushed": remote.pushed}) + "\n")
    else:
        out.write(render_attempt(remote.result, None)
                  + "".join(f"  pushed {name} ({commit[:12]}) to {url}\n" for name, commit in remote.pushed.items()))
    return attempt_exit_code(remote.result)


def _binary(out: TextIO) -> BinaryIO:
    out.flush()  # what was written as text comes first
    return getattr(out, "buffer", sys.stdout.buffer)


def attempt_exit_code(result: AttemptResult) -> int:
    if result.outcome == "interrupted":
        return EXIT_INTERRUPTED
    return EXIT_OK if result.outcome in ("succeeded", "already_done") else EXIT_WORK_FAILED


def render_attempt(result: AttemptResult, paths: RepoPaths | None) -> str:
    """The result for a person; ``paths`` None for a remote attempt, whose log is in its record."""
    lines = [f"{result.task_id}: attempt {result.attempt_id} {result.outcome}"
             + (f" ({result.reason})" if result.reason else "")]
    for phase in result.phases:
        cost = agent_usd(phase.agent)
        spent = f"  {usd_text(cost)}" if cost is not None else ""
        lines.append(f"  {phase.name:<9} {phase.verdict:<7} {phase.seconds:6.2f}s{spent}  {phase.detail}".rstrip())
    if result.failed_output:
        lines.append("  the test run's last lines (all of it in the log):")
        lines.extend(f"    | {line}" for line in result.failed_output.splitlines())
    lines.extend(f"  warning: {warning}" for warning in result.warnings)
    if result.outcome == "succeeded":
        lines.append(f"  branch {result.branch} ({result.commit[:12] if result.commit else '-'}) waits for review")
    elif result.outcome in ("failed", "budget"):
        lines.append(f"  branch {result.branch} kept for inspection")
    if result.outcome != "already_done" and paths is not None:
        lines.append(f"  log: {paths.state_dir / 'attempts' / (result.attempt_id + '.log')}")
    return "\n".join(lines) + "\n"
