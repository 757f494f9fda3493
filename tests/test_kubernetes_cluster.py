"""The Kubernetes runner against a REAL cluster (kind, k3s, or any other): N attempts as N Jobs
at once, each brought back to review. Skipped unless the cluster, the image and a remote that
both this machine and the cluster's pods can push to are given (README, "Runners": the
real-cluster test, step by step):

- ``KUBECONFIG``: the cluster's configuration;
- ``LEVIATHAN_E2E_IMAGE``: an image built from deploy/Dockerfile the cluster can run;
- ``LEVIATHAN_E2E_REMOTE``: the git URL of an empty scratch repository (the test pushes a
  branch of its own there, and its attempts' branches and records);
- ``LEVIATHAN_E2E_NAMESPACE``: optional, default ``default``.

The agent is the scripted one of the other tests, committed into the project (the pod has
nothing of this machine), so no model and no API key are needed.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from conftest import git, write
from engine_fixtures import SCRIPTED_AGENT, task_yaml, unittest_file

from leviathan_local.backlog.store import load_backlog
from leviathan_local.engine.runner import RunOptions, run
from leviathan_local.git.repo import find_repo

NEEDED = ("KUBECONFIG", "LEVIATHAN_E2E_IMAGE", "LEVIATHAN_E2E_REMOTE")
pytestmark = [
    pytest.mark.kubernetes_cluster,
    pytest.mark.skipif(not all(os.environ.get(name) for name in NEEDED),
                       reason="a real cluster is needed: set " + ", ".join(NEEDED) + " (README, Runners)"),
]
PARALLEL = 3


def task(name: str) -> str:
    return task_yaml(name, red=unittest_file(name, f"self.assertEqual({name}(), 1)", f"from {name} import {name}"),
                     green=f"printf 'def {name}():\\n    return 1\\n' > {name}.py",
                     allowed=f"[{name}.py, tests/test_{name}.py]")


def test_real_cluster_runs_attempts_as_jobs_in_parallel_and_brings_each_to_review(tmp_path: Path) -> None:
    pytest.importorskip("kubernetes")
    remote, image = os.environ["LEVIATHAN_E2E_REMOTE"], os.environ["LEVIATHAN_E2E_IMAGE"]
    namespace = os.environ.get("LEVIATHAN_E2E_NAMESPACE", "default")
    branch = f"e2e-{secrets.token_hex(4)}"  # the test's own default branch on the scratch remote
    names = [f"e2e{index}" for index in range(PARALLEL)]
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", branch)
    write(root / "tools" / "scripted_agent.py", SCRIPTED_AGENT)
    write(root / ".gitignore", "worktrees/\n__pycache__/\n")
    write(root / "tests" / "test_base.py", "import unittest\n\n\nclass Base(unittest.TestCase):\n"
                                           "    def test_base(self):\n        pass\n")
    write(root / ".leviathan" / "contract.yaml", f"default_branch: {branch}\n")
    write(root / ".leviathan" / "backlog.yaml", "tasks:\n" + "".join(task(name) for name in names))
    write(root / ".leviathan" / "policy.yaml", f"""\
tdd:
  test_command: "python -m unittest discover -s tests -q"
  test_globs: ["tests/**"]
agent: {{kind: command, command: "python tools/scripted_agent.py"}}
limits: {{attempt_timeout_seconds: 600, max_running_attempts: {PARALLEL}, max_open_reviews: {PARALLEL}}}
runner:
  kind: kubernetes
  image: {image}
  remote: {remote}
  namespace: {namespace}
  ttl_seconds: 600
""")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "an end-to-end project")
    git(root, "push", "-q", remote, branch)

    report = run(find_repo(root), RunOptions(max_tasks=PARALLEL))

    assert [result.outcome for result in report.attempts] == ["succeeded"] * PARALLEL, \
        [result.reason for result in report.attempts]
    tasks = load_backlog(find_repo(root)).by_id
    assert [tasks[name].status.value for name in names] == ["review"] * PARALLEL
    for result in report.attempts:
        assert git(root, "rev-parse", f"{result.branch}^").strip() == git(root, "rev-parse", branch).strip()
