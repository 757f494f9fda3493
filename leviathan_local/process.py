"""Run an agent's or a test's shell command: output captured, a timeout that kills the tree.

Each command gets its own session (process group), so a timeout kills the whole group,
grandchildren included; a child that ignores SIGTERM gets SIGKILL after a grace period.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

KILL_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class CommandResult:
    command: str
    exit_code: int | None  # None when it was killed for the timeout
    timed_out: bool
    output: str
    duration: float

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


def run_shell(command: str, cwd: Path, env: dict[str, str] | None = None, timeout: float | None = None,
              log: IO[str] | None = None) -> CommandResult:
    """Run ``command`` with bash in ``cwd``; stdout and stderr are merged, kept and logged."""
    started = time.monotonic()
    process = subprocess.Popen(
        ["bash", "-c", command], cwd=cwd, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    timed_out = False
    try:
        raw, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        raw = _kill_group(process)
    output = raw.decode("utf-8", errors="replace")
    if log is not None:
        log.write(f"$ {command}\n{output}")
        log.write(f"[{'timed out' if timed_out else f'exit {process.returncode}'} after "
                  f"{time.monotonic() - started:.2f}s]\n")
        log.flush()
    return CommandResult(command, None if timed_out else process.returncode, timed_out, output,
                         time.monotonic() - started)


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
