"""Run an agent's or a test's shell command: output captured, a timeout that kills the tree.

Each command gets its own session (process group), so a timeout kills the whole group,
grandchildren included; a child that ignores SIGTERM gets SIGKILL after a grace period.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

KILL_GRACE_SECONDS = 2.0
STOP_POLL_SECONDS = 0.1  # how soon a running command notices a shutdown request


@dataclass(frozen=True)
class CommandResult:
    command: str
    exit_code: int | None  # None when it was killed for the timeout
    timed_out: bool
    output: str
    duration: float
    stopped: bool = False  # ended by a shutdown request rather than by its timeout

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


def run_shell(command: str, cwd: Path, env: dict[str, str] | None = None, timeout: float | None = None,
              log: IO[str] | None = None, stop: threading.Event | None = None) -> CommandResult:
    """Run ``command`` with bash in ``cwd``; stdout and stderr are merged, kept and logged.

    Setting ``stop`` (a shutdown request) ends the command like a timeout does.
    """
    started = time.monotonic()
    process = subprocess.Popen(
        ["bash", "-c", command], cwd=cwd, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = None if timeout is None else started + timeout
    timed_out = stopped = False
    while True:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        wait = remaining if stop is None else min(STOP_POLL_SECONDS, remaining or STOP_POLL_SECONDS)
        try:
            raw, _ = process.communicate(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            stopped = stop is not None and stop.is_set()
            if stopped or (deadline is not None and time.monotonic() >= deadline):
                timed_out = True
                raw = _kill_group(process)
                break
    output = raw.decode("utf-8", errors="replace")
    if log is not None:
        log.write(f"$ {command}\n{output}")
        log.write(f"[{'timed out' if timed_out else f'exit {process.returncode}'} after "
                  f"{time.monotonic() - started:.2f}s]\n")
        log.flush()
    return CommandResult(command, None if timed_out else process.returncode, timed_out, output,
                         time.monotonic() - started, stopped)


def _kill_group(process: subprocess.Popen[bytes]) -> bytes:
    """TERM the whole process group, KILL what is left after the grace period, collect output."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            raw, _ = process.communicate(timeout=wait)
            if sig is signal.SIGKILL or _group_gone(process.pid):
                return raw
        except subprocess.TimeoutExpired:
            continue
    # Grandchildren may still hold the pipe open: make sure the group is gone, then drain.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    raw, _ = process.communicate()
    return raw


def _group_gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False
