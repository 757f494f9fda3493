"""What confines an attempt's commands: their own temp dir and caches, and optionally bubblewrap.

Every command of an attempt (the agent's phases, the test command, the invariants) gets the
attempt's own temp dir as TMPDIR and Python's bytecode cache redirected into it
(PYTHONPYCACHEPREFIX), so neither lands in the worktree to be committed; the dir goes when the
attempt ends. With `agent.sandbox: bwrap` each of them also runs under bubblewrap, which mounts
the whole filesystem read-only except: the worktree, the attempt's temp dir, what git needs to
commit from the worktree (the common dir's `objects/`, `refs/`, `logs/` and the worktree's own
`worktrees/<slot>/`), the agent CLIs' own config (``DEFAULT_WRITABLE``, those that exist) and the
paths in `agent.sandbox_writable`. The tests and invariants run sandboxed too: they run the code
the agent wrote. The network stays as it is (agent CLIs call their API); /dev and /proc are the
sandbox's own, and its processes die with the executor.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from leviathan_local.config.policy import Policy
from leviathan_local.errors import ConfigError
from leviathan_local.repo_paths import RepoPaths

# The config and session state Claude Code, codex and aider keep in the home directory.
DEFAULT_WRITABLE = ("~/.claude", "~/.claude.json", "~/.codex", "~/.aider")
GIT_WRITABLE = ("objects", "refs", "logs")  # in the common dir: a commit in the worktree writes these
BWRAP_BASE = ("--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--die-with-parent")


@dataclass(frozen=True)
class Confinement:
    temp_dir: Path
    wrap: tuple[str, ...] = ()  # the argv every command runs under (bubblewrap's), () for none

    @property
    def env(self) -> dict[str, str]:
        return {"TMPDIR": str(self.temp_dir), "PYTHONPYCACHEPREFIX": str(self.temp_dir / "pycache")}


@contextmanager
def confinement(paths: RepoPaths, policy: Policy, worktree: Path, git_dir: Path, attempt_id: str,
                ) -> Iterator[Confinement]:
    """The attempt's confinement, its temp dir made (inside the state dir: never committable)
    and removed when the block ends. ``git_dir`` is the worktree's own git directory."""
    temp_dir = attempt_temp_dir(paths, attempt_id)
    temp_dir.mkdir(parents=True, exist_ok=True)
    try:
        wrap = ()
        if policy.agent.sandbox == "bwrap":
            writable = [worktree, temp_dir, git_dir, *(paths.common_dir / name for name in GIT_WRITABLE),
                        *(Path(os.path.expanduser(path)) for path in (*DEFAULT_WRITABLE,
                                                                      *policy.agent.sandbox_writable))]
            wrap = bwrap_command(writable)
        yield Confinement(temp_dir, wrap)
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)


def attempt_temp_dir(paths: RepoPaths, attempt_id: str) -> Path:
    """The attempt's own temp dir; recovery removes the one a dead attempt left."""
    return paths.state_dir / "tmp" / attempt_id


def bwrap_command(writable: list[Path]) -> tuple[str, ...]:
    """bubblewrap's argv: everything read-only, ``writable`` (those that exist) bound writable."""
    binds = [argument for path in writable for argument in ("--bind-try", str(path), str(path))]
    return ("bwrap", *BWRAP_BASE, *binds, "--")


def check_sandbox(policy: Policy) -> None:
    """A configured sandbox that cannot run here is refused before the attempt starts."""
    if policy.agent.sandbox == "bwrap" and (reason := bwrap_unavailable()):
        raise ConfigError(f"agent.sandbox is bwrap, but bubblewrap cannot run here: {reason}",
                          hint="install it (`apt-get install bubblewrap`) and allow unprivileged user namespaces "
                               "(sysctl kernel.unprivileged_userns_clone=1), or remove agent.sandbox")


@functools.cache
def bwrap_unavailable() -> str | None:
    """Why bubblewrap cannot make its sandbox on this machine; None when it can (tried once)."""
    if shutil.which("bwrap") is None:
        return "no `bwrap` on PATH"
    try:
        probe = subprocess.run(["bwrap", *BWRAP_BASE, "--", "true"], capture_output=True, text=True, timeout=30,
                               stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    return None if probe.returncode == 0 else (probe.stderr.strip() or f"exit {probe.returncode}")
