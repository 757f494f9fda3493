"""Shared parts of the real-CLI tests (marker ``agents``): a project, a runner, the network check."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import git
from model_server.clients import Invocation, installed
from model_server.egress import EgressRecorder

# CI sets this: there a missing CLI is a failure, not a skip.
REQUIRE_AGENTS = "LEVIATHAN_REQUIRE_AGENTS"
# Set to rewrite tests/model_server/samples/ from the CLIs' real output.
WRITE_SAMPLES = "LEVIATHAN_WRITE_AGENT_SAMPLES"
SAMPLES = Path(__file__).parent / "model_server" / "samples"
CLI_TIMEOUT_SECONDS = 120

# The project's "test command": the agent must run it, and it leaves evidence that it ran.
TEST_SCRIPT = "test.sh"
TEST_EVIDENCE = "tests-ran.txt"


def require_cli(executable: str) -> str:
    path = installed(executable)
    if path is None:
        message = f"{executable} is not installed (.ci/run installs it; see DOCS/agents.md)"
        if os.environ.get(REQUIRE_AGENTS):
            pytest.fail(f"{message}, and {REQUIRE_AGENTS} is set")
        pytest.skip(message)
    return path


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


def run_cli(invocation: Invocation, cwd: Path, timeout: float = CLI_TIMEOUT_SECONDS) -> Finished:
    """Run one phase as an executor would: own process group, stdin the prompt or nothing."""
    process = subprocess.Popen(invocation.argv, cwd=cwd, env=invocation.env, text=True, start_new_session=True,
                               stdin=subprocess.PIPE if invocation.stdin is not None else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        stdout, stderr = process.communicate(invocation.stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"{invocation.argv[0]} did not finish in {timeout} s\nstdout:\n{stdout}\nstderr:\n{stderr}")
    return Finished(process.returncode, stdout, stderr)


@pytest.fixture
def project(git_repo: Path) -> Path:
    """A git repository whose test command (``sh test.sh``) leaves a file saying it ran."""
    (git_repo / TEST_SCRIPT).write_text(f"echo ran >> {TEST_EVIDENCE}\n")
    git(git_repo, "add", TEST_SCRIPT)
    git(git_repo, "commit", "-q", "-m", "test command")
    return git_repo


@pytest.fixture
def egress() -> Iterator[EgressRecorder]:
    """Every proxied attempt to leave 127.0.0.1; the test fails if there was any."""
    with EgressRecorder() as recorder:
        yield recorder
    assert recorder.attempts == [], f"the CLI tried to reach the network: {recorder.attempts}"


def save_sample(name: str, text: str, project: Path) -> None:
    """Keep a CLI's real output for the adapters' parser tests, the temporary path made fixed
    (also as Claude Code spells it in a project directory's name: every other character a dash)."""
    if os.environ.get(WRITE_SAMPLES):
        temporary = str(project.parent)
        fixed = text.replace(temporary, "/tmp/test").replace(re.sub(r"[^A-Za-z0-9]", "-", temporary), "-tmp-test")
        (SAMPLES / name).write_text(fixed)


def changed_files(root: Path) -> list[str]:
    """What git sees changed or new in the work tree (the agent's own files would show here)."""
    lines = git(root, "status", "--porcelain", "--untracked-files=all").splitlines()
    return sorted(line[3:] for line in lines)
