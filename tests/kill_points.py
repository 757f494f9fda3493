"""Milestones at which a test SIGKILLs a real `leviathan run` (its whole process group).

- ``call``: the run's N-th external command (an agent's phase, a test command, an invariant)
  runs `killpoint` first, which kills the run's group itself: exactly at that point.
- ``event``, ``backlog``, ``git-lock``: inotify (through libc, Linux only) tells the test the
  moment the N-th event is appended, the N-th temp file of a backlog write is created, or git
  creates the N-th `*.lock` in the main repository; the kill lands a few microseconds later.
- ``checkout``: the slot's N-th file of a few thousand appears (checked out in path order).
"""

from __future__ import annotations

import ctypes
import os
import select
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

from kill_helpers import kill_group, kill_when

from leviathan_local.git.repo import RepoPaths

KILLPOINT = """\
#!/bin/bash
# A milestone: the KILL_AT_CALL-th call SIGKILLs the run's whole process group.
[ -n "$KILL_AT_CALL" ] || exit 0
calls=$(( $(cat "$KILL_COUNTER" 2>/dev/null || echo 0) + 1 ))
echo "$calls" > "$KILL_COUNTER"
[ "$calls" = "$KILL_AT_CALL" ] || exit 0
kill -KILL -- "-$KILL_RUN_GROUP"
exit 1  # the command it guards does not go on without its run
"""

IN_MODIFY, IN_CREATE = 0x2, 0x100
_EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len (then the name)


def killpoint_script(directory: Path) -> Path:
    script = directory / "killpoint.sh"
    script.write_text(KILLPOINT)
    script.chmod(0o755)
    return script


def inotify_available() -> bool:
    return hasattr(ctypes.CDLL(None), "inotify_init1")


class Watch:
    """An inotify watch on a few directories: yields (directory, file name) of each event."""

    def __init__(self, directories: list[Path], mask: int) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.descriptor = self.libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
        if self.descriptor < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.watched = {}
        for directory in directories:
            directory.mkdir(parents=True, exist_ok=True)
            handle = self.libc.inotify_add_watch(self.descriptor, str(directory).encode(), mask)
            if handle < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch {directory}")
            self.watched[handle] = directory

    def events(self, timeout: float) -> list[tuple[Path, str]]:
        if not select.select([self.descriptor], [], [], timeout)[0]:
            return []
        data, found, offset = os.read(self.descriptor, 1 << 16), [], 0
        while offset < len(data):
            handle, _, _, length = _EVENT.unpack_from(data, offset)
            name = data[offset + _EVENT.size:offset + _EVENT.size + length].rstrip(b"\0").decode()
            found.append((self.watched[handle], name))
            offset += _EVENT.size + length
        return found

    def close(self) -> None:
        os.close(self.descriptor)


def kill_on_watch(process: subprocess.Popen[bytes], watch: Watch, reached: Callable[[Path, str], bool],
                  count: int) -> bool:
    """SIGKILL the run's group at the ``count``-th event ``reached`` accepts; False when the run
    ended first."""
    seen = 0
    try:
        while process.poll() is None:
            for directory, name in watch.events(0.05):
                seen += reached(directory, name)
                if seen >= count:
                    kill_group(process)
                    return True
        return False
    finally:
        watch.close()


def kill_at(kind: str, count: int, process: subprocess.Popen[bytes], paths: RepoPaths) -> bool:
    """Kill ``process`` at the ``count``-th milestone of ``kind`` (not ``call``: that one kills
    itself); whether it was killed there (False: the run ended before)."""
    if kind == "checkout":
        target = paths.root / "worktrees" / "slot-0" / "bulk" / f"f{count:04d}.txt"
        return kill_when(process, target.exists, f"{target} to be checked out")
    if kind == "event":
        log = paths.state_dir / "events.ndjson"
        watch = Watch([paths.state_dir], IN_MODIFY)
        return kill_on_watch(process, watch, lambda _, name: name == log.name and _lines(log) >= count, 1)
    if kind == "backlog":
        watch = Watch([paths.leviathan_dir], IN_CREATE)
        return kill_on_watch(process, watch, lambda _, name: name.startswith(".backlog.yaml."), count)
    if kind == "git-lock":
        watch = Watch([paths.common_dir, paths.common_dir / "refs" / "heads"], IN_CREATE)
        return kill_on_watch(process, watch, lambda _, name: name.endswith(".lock"), count)
    if kind == "call":
        process.wait()
        return process.returncode == -9
    raise ValueError(kind)


def _lines(log: Path) -> int:
    with open(log, "rb") as handle:
        return handle.read().count(b"\n")
