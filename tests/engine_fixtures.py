"""A small Python project in a throw-away repository, worked on by a scripted `command` agent.

The agent is a script outside the repository that runs, for the phase in
``LEVIATHAN_PHASE``, the shell steps the test wrote into the task (`steps:`): a stand-in for
Claude Code or aider that needs no network. ``RECIPE_POLICY`` uses the built-in recipe agent.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from conftest import git, write

SCRIPTED_AGENT = """\
import os, subprocess, sys, yaml
backlog = yaml.safe_load(open(".leviathan/backlog.yaml"))
task = next(t for t in backlog["tasks"] if t["id"] == os.environ["LEVIATHAN_TASK_ID"])
steps = (task.get("steps") or {}).get(os.environ["LEVIATHAN_PHASE"]) or []
sys.exit(subprocess.run(["bash", "-ec", "\\n".join(steps) or "true"]).returncode)
"""

RECIPE_POLICY = """\
tdd:
  test_command: "python -m unittest discover -s tests -q"
  test_globs: ["tests/**"]
agent: {kind: recipe}
limits: {max_attempts_per_task: 2, attempt_timeout_seconds: 30}
scopes:
  docs: {allowed_paths: [docs/], tdd: false}
"""

def unittest_file(name: str, assertion: str, imports: str = "") -> str:
    """A shell command writing tests/test_<name>.py (unittest: several times faster than pytest)."""
    body = f"import unittest\\n{imports}\\n\\nclass Test(unittest.TestCase):\\n    def test_{name}(self):\\n        {assertion}\\n"
    return f"printf '{body}' > tests/test_{name}.py"


RED = unittest_file("add", "self.assertEqual(add(2, 3), 5)", "from calc import add")
GREEN = "printf 'def add(a, b):\\n    return a + b\\n' > calc.py"


def task_yaml(task_id: str, red: str = RED, green: str = GREEN, refactor: str = "true",
              allowed: str = "[calc.py, tests/]", extra: str = "") -> str:
    return (f"  - id: {task_id}\n    title: Add {task_id}\n    status: ready\n    effort: 2\n"
            f"    allowed_paths: {allowed}\n    acceptance_criteria: [add works]\n"
            f"    steps:\n      red: [{_quote(red)}]\n      green: [{_quote(green)}]\n"
            f"      refactor: [{_quote(refactor)}]\n{extra}")


def _quote(command: str) -> str:
    return '"' + command.replace("\\", "\\\\").replace('"', '\\"') + '"'


POLICY = RECIPE_POLICY.replace("agent: {kind: recipe}", 'agent: {kind: command, command: "python AGENT_SCRIPT"}')


def make_project(root: Path, tasks: str, policy: str = POLICY) -> Path:
    agent = root.parent / "scripted_agent.py"
    agent.write_text(SCRIPTED_AGENT)
    policy = policy.replace("AGENT_SCRIPT", str(agent))
    write(root / ".gitignore", "worktrees/\n__pycache__/\n")
    write(root / "tests" / "test_base.py",
          "import unittest\n\n\nclass Base(unittest.TestCase):\n    def test_base(self):\n        pass\n")
    write(root / ".leviathan" / "policy.yaml", policy)
    write(root / ".leviathan" / "backlog.yaml", "tasks:\n" + tasks)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "project")
    return root


def wait_until(condition: Callable[[], object], what: str, seconds: float = 60.0) -> None:
    """Poll ``condition`` until it holds; a generous deadline, so a loaded machine only waits longer."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting: {what}")
        time.sleep(0.01)


def process_gone(pid: int) -> bool:
    """Whether ``pid`` no longer runs. A killed process whose parent died stays a zombie until init
    reaps it, and `kill(pid, 0)` still succeeds on a zombie: so a zombie counts as gone."""
    if os.path.isdir("/proc/self"):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                return stat.read().rpartition(")")[2].split()[0] == "Z"
        except FileNotFoundError:
            return True
    try:  # no /proc: ask the kernel (a zombie then counts as running; the deadline covers reaping)
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def marked(value: str, name: str = "LEVIATHAN_ATTEMPT_ID") -> list[int]:
    """Processes whose environment holds ``name=value``, by default the attempt's id (read here,
    not with the code under test)."""
    entry = f"{name}={value}".encode()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                found.append(int(pid))
        except OSError:
            continue
    return found


def assert_dies(pid: int) -> None:
    """Wait for ``pid`` to die (generous deadline); a survivor is killed, then the test fails."""
    try:
        wait_until(lambda: process_gone(pid), f"process {pid} to die", seconds=30)
    except AssertionError:
        os.kill(pid, signal.SIGKILL)
        raise


def stubborn_grandchild(pid_file: Path) -> str:
    """A shell command whose background grandchild ignores SIGTERM and, once it does, writes its
    pid to ``pid_file`` (atomically: the file never exists half written). The command runs until killed."""
    ready = f"trap \"\" TERM; echo $$ > {pid_file}.tmp && mv {pid_file}.tmp {pid_file}"
    return f"bash -c '{ready}; while true; do sleep 0.05; done' & wait"


def stop_once_the_grandchild_is_ready(work: Callable[[threading.Event], object], pid_file: Path) -> tuple[object, int]:
    """Run ``work(stop)`` in a thread until the stubborn grandchild wrote its pid, then request the
    stop; (what ``work`` returned, the grandchild's pid)."""
    stop, results = threading.Event(), []
    worker = threading.Thread(target=lambda: results.append(work(stop)), daemon=True)
    worker.start()
    try:
        wait_until(pid_file.exists, "the grandchild to ignore SIGTERM and write its pid")
    finally:
        stop.set()
        worker.join(60)
    return results[0], int(pid_file.read_text())
