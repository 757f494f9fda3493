"""A bare repository served by `git daemon` on 127.0.0.1, a controller's clone of it, and
workers (`leviathan attempt ID --remote URL --base SHA`, each its own process with its own
cache) that never share a directory with it: the parts of remote attempts' tests
(test_remote_attempt.py, test_kubernetes_runner.py, tui/test_run_on_kubernetes.py). One daemon serves a test module; each test
has its own repository under it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import git
from engine_fixtures import make_project, task_yaml, unittest_file

from leviathan_local.backlog.store import load_backlog
from leviathan_local.engine.remote.apply import begin_remote_attempt
from leviathan_local.git.repo import RepoPaths, find_repo


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """(the directory it serves, its git:// URL prefix)."""
    served = tmp_path_factory.mktemp("served")
    with socket.socket() as probe:  # a free port; the daemon binds it right after
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        ["git", "daemon", "--verbose", "--export-all", "--enable=receive-pack", "--reuseaddr",
         f"--base-path={served}", "--listen=127.0.0.1", f"--port={port}", str(served)],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"})
    assert process.stderr is not None
    for line in process.stderr:  # it says so once it listens: no polling, no sleep
        if "Ready to rumble" in line:
            break
    else:
        raise AssertionError(f"git daemon did not start (exit {process.wait()})")
    yield served, f"git://127.0.0.1:{port}"
    process.terminate()
    process.wait()


class Remote:
    def __init__(self, bare: Path, url: str, controller: RepoPaths, cache: Path) -> None:
        self.bare, self.url, self.controller, self.cache = bare, url, controller, cache

    def refs(self) -> dict[str, str]:
        listed = git(self.bare, "for-each-ref", "--format=%(refname) %(objectname)")
        return dict(line.split(" ") for line in listed.splitlines())

    def worker(self, task_id: str, base: str, attempt_id: str, *more: str) -> subprocess.Popen[str]:
        """`leviathan attempt` as a container would run it: outside any repository, its own cache."""
        environment = {**os.environ, "XDG_CACHE_HOME": str(self.cache)}
        return subprocess.Popen([sys.executable, "-m", "leviathan_local", "attempt", task_id, "--remote", self.url,
                                 "--base", base, "--attempt-id", attempt_id, "--json", *more],
                                cwd=self.cache, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)

    def attempt(self, task_id: str) -> tuple[str, subprocess.CompletedProcess[str]]:
        started = begin_remote_attempt(self.controller, self.url, task_id)
        worker = self.worker(task_id, started.base, started.attempt_id)
        out, err = worker.communicate(timeout=120)
        return started.attempt_id, subprocess.CompletedProcess(worker.args, worker.returncode, out, err)


def remote_for(tmp_path: Path, daemon: tuple[Path, str], tasks: str) -> Remote:
    served, prefix = daemon
    (tmp_path / "source").mkdir()
    git(tmp_path / "source", "init", "-q", "-b", "main")
    source = make_project(tmp_path / "source", tasks)
    name = f"{tmp_path.name}.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(served / name))
    url = f"{prefix}/{name}"
    controller = tmp_path / "controller"
    git(tmp_path, "clone", "-q", url, str(controller))
    cache = tmp_path / "worker-cache"
    cache.mkdir()
    return Remote(served / name, url, find_repo(controller), cache)


def status(remote: Remote, task_id: str) -> tuple[str, int]:
    task = load_backlog(remote.controller).task(task_id)
    return task.status.value, task.attempts


def write_tasks(remote: Remote, tasks: str) -> None:
    """Commit a backlog on the controller and push it: the base the worker starts from."""
    root = remote.controller.root
    (root / ".leviathan" / "backlog.yaml").write_text("tasks:\n" + tasks)
    git(root, "commit", "-qam", "tasks")
    git(root, "push", "-q", "origin", "main")


NAMESPACE = "agents"  # the Kubernetes runner's, in the tests that drive it (tests/kube_fake)


def own_task(name: str, green: str | None = None) -> str:
    """A task touching only its own module and test, so that tasks may run side by side."""
    return task_yaml(name, red=unittest_file(name, f"self.assertEqual({name}(), 1)", f"from {name} import {name}"),
                     green=green or f"printf 'def {name}():\\n    return 1\\n' > {name}.py",
                     allowed=f"[{name}.py, tests/test_{name}.py]")


def kube_remote(tmp_path: Path, daemon: tuple[Path, str], tasks: str, running: int = 1,
                runner_extra: str = "") -> Remote:
    """A project whose policy runs its attempts as Jobs, committed and pushed: the run's base."""
    remote = remote_for(tmp_path, daemon, tasks)
    root = remote.controller.root
    policy = (root / ".leviathan" / "policy.yaml").read_text().replace(
        "limits: {max_attempts_per_task: 2, attempt_timeout_seconds: 30}",
        f"limits: {{max_attempts_per_task: 2, attempt_timeout_seconds: 60, max_running_attempts: {running}, "
        "max_open_reviews: 5}")
    policy += (f"runner:\n  kind: kubernetes\n  image: registry.example.com/leviathan-agent:1\n"
               f"  remote: {remote.url}\n  namespace: {NAMESPACE}\n{runner_extra}")
    (root / ".leviathan" / "policy.yaml").write_text(policy)
    git(root, "commit", "-qam", "attempts as Jobs")
    git(root, "push", "-q", "origin", "main")
    return remote
