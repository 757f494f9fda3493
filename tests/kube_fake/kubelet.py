"""The fake kubelet's side of a pod: its container's environment (values and Secrets), and the
container itself as a real process in its own process group, its output merged into the pod's
log file. Mounts whose path does not exist on this machine (the image's HOME, /home/leviathan)
become per-pod directories; others (/tmp) stand for the host's own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

Secrets = dict[tuple[str, str], dict[str, str]]


class ContainerConfigError(Exception):
    """The container cannot be created from its configuration (CreateContainerConfigError)."""


def resolve_env(container: dict[str, Any], namespace: str, secrets: Secrets) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in container.get("env") or []:
        source = item.get("valueFrom")
        if source is None:
            env[item["name"]] = str(item.get("value", ""))
            continue
        reference = source.get("secretKeyRef")
        if reference is None:
            raise ContainerConfigError(f"the fake kubelet resolves only value and secretKeyRef, not {sorted(source)}")
        secret = secrets.get((namespace, reference["name"]))
        if secret is None or reference["key"] not in secret:
            if reference.get("optional"):
                continue
            if secret is None:
                raise ContainerConfigError(f'secret "{reference["name"]}" not found')
            raise ContainerConfigError(f"couldn't find key {reference['key']} in Secret {namespace}/{reference['name']}")
        env[item["name"]] = secret[reference["key"]]
    return env


def mount_map(container: dict[str, Any], pod_root: Path) -> dict[str, Path]:
    """Mount path → the directory standing for it, for each mount this machine does not have."""
    mapped: dict[str, Path] = {}
    for mount in container.get("volumeMounts") or []:
        path = mount["mountPath"].rstrip("/") or "/"
        if not os.path.exists(path):
            directory = pod_root / "volumes" / mount["name"]
            directory.mkdir(parents=True, exist_ok=True)
            mapped[path] = directory
    return mapped


def rewrite(value: str, mounts: dict[str, Path]) -> str:
    for path, directory in mounts.items():
        if value == path or value.startswith(path + "/"):
            return str(directory) + value[len(path):]
    return value


def container_argv(container: dict[str, Any]) -> list[str]:
    argv = [*(container.get("command") or []), *(container.get("args") or [])]
    if argv and argv[0] == "leviathan":  # the image's console script is this checkout's package
        argv = [sys.executable, "-m", "leviathan_local", *argv[1:]]
    return argv


class ContainerProcess:
    """One running container: the process (a group leader), the thread copying its output into
    the log, and the thread that sees it exit. ``on_exit(exit_code)`` runs once, after the whole
    output is in the log."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, log_path: Path,
                 lock: threading.Condition, on_exit: Callable[[int], None]) -> None:
        self.log_path, self.log_size, self.output_done = log_path, 0, False
        self._lock, self._on_exit, self._reaped = lock, on_exit, False
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self._copier = threading.Thread(target=self._copy_output, name=f"kube-fake-log-{self.process.pid}", daemon=True)
        self._waiter = threading.Thread(target=self._wait, name=f"kube-fake-wait-{self.process.pid}", daemon=True)
        self._copier.start()
        self._waiter.start()

    @property
    def exited(self) -> bool:
        return self._reaped

    def signal_group(self, number: int) -> None:
        """Signal the container's process group while its leader is unreaped (so its id is still
        the group's, never a stranger's); nothing once it was reaped (the group was killed then)."""
        with self._lock:
            if not self._reaped:
                _killpg(self.process.pid, number)

    def join(self, timeout: float) -> None:
        self._waiter.join(timeout)
        self._copier.join(timeout)

    def _copy_output(self) -> None:
        assert self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        while chunk := os.read(descriptor, 65536):
            self._log.write(chunk)
            self._log.flush()
            with self._lock:
                self.log_size += len(chunk)
                self._lock.notify_all()
        self.process.stdout.close()
        self._log.close()

    def _wait(self) -> None:
        # Wait without reaping: the zombie leader keeps the group's id reserved until the group
        # is killed, as a container runtime kills the container's other processes with its init.
        os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOWAIT)
        with self._lock:
            _killpg(self.process.pid, signal.SIGKILL)
            self._reaped = True
            exit_code = self.process.wait()
        self._copier.join()
        with self._lock:
            self.output_done = True
            self._lock.notify_all()
        self._on_exit(128 - exit_code if exit_code < 0 else exit_code)


def _killpg(group: int, number: int) -> None:
    try:
        os.killpg(group, number)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already
