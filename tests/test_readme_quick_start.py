"""The README's quick start for your own repository, run as written on a fresh repository.

Two things differ from a user's machine, both named here and checked to be in the README, so a
change there fails this test rather than passing unseen: a scripted `command` agent stands in
for Claude Code (no network, no account), and unittest for pytest as the test command (pytest's
start-up, recompiled in every attempt's bytecode prefix, would make this test several times
slower). The install line is this test's own environment. It takes a few seconds: it is the
whole loop (init, a run of three phases, review, reject, a second run, merge) through the CLI.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import git

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.git.repo import find_repo

README = Path(__file__).resolve().parents[1] / "README.md"
README_AGENT = "  kind: claude\n"
README_TESTS = 'test_command: "python -m pytest -q"'
REJECT_COMMENT = re.compile(r"^#\s+(leviathan reject .*)$", re.M)

# The agent: red adds a failing test, green the code that passes it; refactor leaves it as it is.
STAND_IN_AGENT = """#!/bin/sh
case "$LEVIATHAN_PHASE" in
  red) cat > tests/test_slug.py <<'PY'
import sys
import unittest

sys.path.insert(0, "src")
from slug import slugify


class Test(unittest.TestCase):
    def test_slugify(self):
        self.assertEqual(slugify("Hello, World!"), "hello-world")
PY
  ;;
  green) cat > src/slug.py <<'PY'
import re


def slugify(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
PY
  ;;
esac
"""


def quick_start_block() -> str:
    section = README.read_text().split("### In your own repository", 1)[1]
    found = re.search(r"```sh\n(.*?)```", section, re.S)
    assert found, "the README's quick start for your own repository has no ```sh block"
    return found.group(1)


def replaced_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the README's quick start should hold {old!r} once"
    return text.replace(old, new)


def run_script(root: Path, script: str) -> str:
    bin_dir = str(Path(sys.executable).parent)  # this environment's python and leviathan
    prelude = ("set -e\ncommand -v leviathan >/dev/null || leviathan() { python -m leviathan_local \"$@\"; }\n")
    result = subprocess.run(["bash", "-c", prelude + script], cwd=root, capture_output=True, text=True,
                            env={**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}, timeout=300)
    assert result.returncode == 0, f"the quick start failed:\n{script}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_the_quick_start_runs_as_written(git_repo: Path, tmp_path: Path) -> None:
    agent = tmp_path / "agent.sh"
    agent.write_text(STAND_IN_AGENT)
    agent.chmod(0o755)
    for folder in ("src", "tests"):  # the project the README's task works on
        (git_repo / folder).mkdir()
        (git_repo / folder / "__init__.py").write_text("")
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "a project")

    block = quick_start_block()
    block = replaced_once(block, README_AGENT, f"  kind: command\n  command: {agent}\n")
    block = replaced_once(block, README_TESTS, 'test_command: "python -m unittest discover -s tests -q"')
    lines = [line for line in block.splitlines() if not line.startswith("pip install")]
    merge_at = next(index for index, line in enumerate(lines) if line.startswith("leviathan merge "))
    [reject] = REJECT_COMMENT.findall(block)

    # Up to the review, then the README's reject: the task goes back to ready with its attempt counted.
    out = run_script(git_repo, "\n".join(lines[:merge_at]))
    assert "slugify: attempt attempt-slugify-" in out and "Halted: AllDoneOrBlocked" in out
    assert "approve  leviathan merge slugify" in out  # what `review` prints
    run_script(git_repo, reject)
    paths = find_repo(git_repo)
    rejected = load_backlog(paths).task("slugify")
    assert rejected.status is Status.READY and rejected.attempts == 1

    # The next run tries again; the README's merge approves it.
    out = run_script(git_repo, "leviathan run\n" + "\n".join(lines[merge_at:]))
    assert "slugify: merged agent/slugify-" in out
    assert load_backlog(paths).task("slugify").status is Status.DONE
    assert (git_repo / "src" / "slug.py").exists()
    assert git(git_repo, "log", "-1", "--format=%s").startswith("Merge agent/slugify-")
