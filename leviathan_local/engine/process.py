"""Run an agent's or a test's shell command: output captured and streamed, a timeout that kills the tree.

Each command gets its own session (process group), so a timeout kills the whole group,
grandchildren included; a child that ignores SIGTERM gets SIGKILL after a grace period. What
leaves the group (setsid, a daemon) is found by the attempt id in its environment instead
(``sweep_attempt``, when an attempt ends and when a dead one is recovered).
"""

from __future__ import annotations

import codecs
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from leviathan_local.wording import plural

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
              log: IO[str] | None = None, stop: threading.Event | None = None,
              on_start: Callable[[int], None] | None = None, wrap: tuple[str, ...] = ()) -> CommandResult:
    """Run ``command`` with bash in ``cwd``; stdout and stderr are merged, kept and logged.

    Output reaches the log as it arrives (the app shows it live). The command is over when
    its shell has exited and its output pipe is closed: a background child still writing
    keeps it running, as it would in a terminal. Setting ``stop`` (a shutdown request) ends
    the command like a timeout does. ``on_start`` gets the command's process group id as soon
    as it runs (an attempt records it, so a run that dies can be cleaned up after). ``wrap`` is
    the argv the shell runs under (a sandbox's), in the same process group.
    """
    started = time.monotonic()
    process = subprocess.Popen(
        [*wrap, "bash", "-c", command], cwd=cwd, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    if on_start is not None:
        on_start(process.pid)  # its own session: the group id is the shell's pid
    if log is not None:
        log.write(f"$ {command}\n")
        log.flush()
    pump = _OutputPump(process, log)
    deadline = None if timeout is None else started + timeout
    timed_out = stopped = False
    while pump.is_alive() or process.poll() is None:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        wait = remaining if stop is None else min(STOP_POLL_SECONDS, remaining or STOP_POLL_SECONDS)
        pump.join(wait)
        if pump.is_alive():
            stopped = stop is not None and stop.is_set()
            if stopped or (deadline is not None and time.monotonic() >= deadline):
                timed_out = True
                _kill_group(process)
                pump.join(KILL_GRACE_SECONDS)  # a process that left the group may still hold the pipe
                break
        else:
            process.wait()
    output = pump.text()
    if log is not None:
        log.write(("" if not output or output.endswith("\n") else "\n")
                  + f"[{'timed out' if timed_out else f'exit {process.returncode}'} after "
                  f"{time.monotonic() - started:.2f}s]\n")
        log.flush()
    return CommandResult(command, None if timed_out else process.returncode, timed_out, output,
                         time.monotonic() - started, stopped)


class _OutputPump(threading.Thread):
    """Reads the command's output as it comes, keeps it, and copies it to the log at once."""

    def __init__(self, process: subprocess.Popen[bytes], log: IO[str] | None) -> None:
        super().__init__(daemon=True, name="output-pump")
        self.process, self.log = process, log
        self.chunks: list[str] = []
        self.start()

    def run(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stream = self.process.stdout
        assert stream is not None
        fd = stream.fileno()
        while True:
            raw = os.read(fd, 65536)
            text = decoder.decode(raw, final=not raw)
            if text:
                self.chunks.append(text)
                if self.log is not None:
                    self.log.write(text)
                    self.log.flush()
            if not raw:
                stream.close()
                return

    def text(self) -> str:
        return "".join(self.chunks)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """TERM the whole process group, then KILL what is left after the grace period."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    # Grandchildren may outlive the shell (or ignore TERM): after the grace period, KILL the rest.
    # The shell is reaped as it goes, since a zombie still counts as a member of its group.
    grace_end = time.monotonic() + KILL_GRACE_SECONDS
    while time.monotonic() < grace_end:
        process.poll()
        if _group_gone(process.pid):
            break
        time.sleep(0.02)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _group_gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


ATTEMPT_ID_VARIABLE = "LEVIATHAN_ATTEMPT_ID"  # every command of an attempt carries its id under this name


def sweep_attempt(attempt_id: str, group: int | None = None) -> str | None:
    """Kill what the attempt ``attempt_id`` left running, ``group`` (its last process group) with
    it; a note for the human, None when there was nothing. A process that left the attempt's
    process group (setsid, a daemon) escapes a group kill: its environment still names the
    attempt, so an attempt's end and the recovery after a death find it the same way."""
    killed = kill_marked(ATTEMPT_ID_VARIABLE, attempt_id, group)
    if killed is None:
        return f"no /proc here to find what {attempt_id} left running; check for its processes"
    return f"killed {plural(len(killed), 'process', 'processes')} {attempt_id} left running" if killed else None


def kill_marked(name: str, value: str, group: int | None = None, seconds: float = 10.0) -> list[int] | None:
    """SIGKILL every process whose environment holds ``name=value`` (what a dead attempt left
    running: all its commands carry its id), and the process group ``group`` when one of them
    is in it (a member that scrubbed its environment goes too). A recorded group id alone is
    never trusted: by now it may be someone else's. The pids killed; None where the system
    cannot tell (no /proc)."""
    if not os.path.isdir("/proc/self"):
        return None
    killed: list[int] = []
    deadline = time.monotonic() + seconds
    while (found := _marked(f"{name}={value}".encode())) and time.monotonic() < deadline:
        if group is not None and any(_group_of(pid) == group for pid in found):
            _signal_group(group, signal.SIGKILL)
        for pid in found:
            _signal(pid, signal.SIGKILL)
        killed.extend(pid for pid in found if pid not in killed)
        time.sleep(0.01)  # the kernel takes the killed off its list (reaped or zombies) within moments
    return killed


def _marked(entry: bytes) -> list[int]:
    """Live processes (zombies have no environment left) whose environment holds ``entry``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as environ:
                if entry in environ.read().split(b"\0"):
                    found.append(int(name))
        except OSError:
            continue  # gone meanwhile, or another user's
    return found


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


def _signal_group(group: int, number: int) -> None:
    try:
        os.killpg(group, number)
    except ProcessLookupError:
        pass
