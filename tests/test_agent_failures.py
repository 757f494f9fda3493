"""The real agent CLIs failing (marker ``agents``), one attempt each, as a run sees it: an agent
that writes outside the task's allowed paths is refused at the gates, and a model that cannot be
reached fails the phase within ``limits.phase_timeout_seconds``, the agent's processes gone.
Both are counted like any failed attempt. The task is a docs-scope one (``tdd: false``): red is
skipped, so each costs one or two launches of the CLI, not three."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from agent_cli_fixtures import egress, require_cli
from agent_run_fixtures import ATTEMPT_LIMITS, aider_agent, aider_edit, claude_agent, codex_agent, codex_patch, project
from conftest import git
from engine_fixtures import marked, task_yaml
from model_server import ModelServer, Script, Turn
from model_server.egress import EgressRecorder
from model_server.server import refused_port

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.engine.attempt_state import AttemptResult
from leviathan_local.git.repo import find_repo

pytestmark = pytest.mark.agents
__all__ = ["egress"]  # the fixture, imported for pytest

GUIDE_TASK = task_yaml("guide", allowed="[docs/]", extra="    scope: docs\n")
GUIDE, GUIDE_TEXT = "docs/guide.md", "# Guide\n\nHow to add.\n"
OUTSIDE, OUTSIDE_TEXT = "notes.txt", "the agent's own notes\n"
REFUSED = f"gates: {OUTSIDE}: added, outside allowed_paths (docs/)"

# The phase's bound in the unreachable-model tests: above Claude Code's and codex's start-up
# (a second or two), below codex's own giving up (five reconnects, about 26 s).
PHASE_TIMEOUT_SECONDS = 10
# What may come on top: the kill's grace (2 s) and the attempt's bookkeeping after the phase.
MARGIN_SECONDS = 10
TIMED_OUT = f"the agent timed out (phase_timeout_seconds {PHASE_TIMEOUT_SECONDS})"


def counted_failure(root: Path, result: AttemptResult) -> None:
    """Failed and counted as usual: the task ready again, one attempt spent."""
    assert result.outcome == "failed", result.reason
    task = load_backlog(find_repo(root)).task("guide")
    assert (task.status, task.attempts) == (Status.READY, 1)


def assert_refused_at_gates(root: Path, result: AttemptResult) -> None:
    """The write outside allowed_paths failed the gates, named; none of it reached the main checkout."""
    counted_failure(root, result)
    assert result.reason == REFUSED  # the path outside is named, the allowed guide is not
    assert [(p.name, p.verdict) for p in result.phases] == [
        ("red", "skipped"), ("green", "passed"), ("refactor", "passed"), ("gates", "failed")]
    assert not (root / OUTSIDE).exists() and not (root / GUIDE).exists()
    assert OUTSIDE not in git(root, "ls-tree", "-r", "--name-only", "main").split()
    assert git(root, "show", f"{result.branch}:{OUTSIDE}") == OUTSIDE_TEXT  # kept for inspection, on its branch


def unreachable_project(git_repo: Path, agent: str) -> Path:
    return project(git_repo, agent, GUIDE_TASK, f"{ATTEMPT_LIMITS}, phase_timeout_seconds: {PHASE_TIMEOUT_SECONDS}")


def timed_attempt(root: Path) -> tuple[AttemptResult, float]:
    """The attempt, and its wall time."""
    started = time.monotonic()
    result = run_attempt(find_repo(root), "guide")
    return result, time.monotonic() - started


def assert_failed_within_the_phase_timeout(root: Path, result: AttemptResult, seconds: float, reason: str) -> str:
    """green (the first phase) failed for ``reason``, bounded by the phase's timeout, nothing left
    running; the attempt's log (the agent's output) for the test to read."""
    counted_failure(root, result)
    assert result.reason == f"green: {reason}"
    assert [(p.name, p.verdict) for p in result.phases] == [("red", "skipped"), ("green", "failed")]
    assert result.phases[1].seconds < PHASE_TIMEOUT_SECONDS + MARGIN_SECONDS
    assert seconds < PHASE_TIMEOUT_SECONDS + MARGIN_SECONDS
    assert marked(result.attempt_id) == []
    log = (find_repo(root).state_dir / "attempts" / f"{result.attempt_id}.log").read_text()
    assert "left running" not in log  # the phase's own kill took the whole group: the sweep found nothing
    return log


# --- Claude Code ------------------------------------------------------------------------------

def test_claude_writing_outside_allowed_paths_is_refused_at_the_gates(
        git_repo: Path, tmp_path: Path, egress: EgressRecorder, monkeypatch: pytest.MonkeyPatch) -> None:
    require_cli("claude")
    slot = git_repo / "worktrees" / "slot-0"
    script = Script([
        Turn.call("Write", file_path=str(slot / GUIDE), content=GUIDE_TEXT),
        Turn.call("Write", file_path=str(slot / OUTSIDE), content=OUTSIDE_TEXT),
        Turn.say("green: the guide, and my notes"),
        Turn.say("refactor: nothing to improve"),
    ])
    with ModelServer(script) as server:
        root = project(git_repo, claude_agent(server.base_url, tmp_path / "home", egress, monkeypatch), GUIDE_TASK)
        result = run_attempt(find_repo(root), "guide")
    assert_refused_at_gates(root, result)
    assert script.remaining == 0


def test_claude_with_the_model_hanging_is_killed_at_the_phase_timeout(
        git_repo: Path, tmp_path: Path, egress: EgressRecorder, monkeypatch: pytest.MonkeyPatch) -> None:
    require_cli("claude")
    # Claude Code waits 10 minutes for a response by default (API_TIMEOUT_MS), then retries.
    with ModelServer(Script([Turn.fail("hang")] * 5)) as server:
        root = unreachable_project(git_repo, claude_agent(server.base_url, tmp_path / "home", egress, monkeypatch))
        result, seconds = timed_attempt(root)
        assert server.main_requests()  # it was waiting on the model when the bound ended it
    assert_failed_within_the_phase_timeout(root, result, seconds, TIMED_OUT)


def test_claude_told_not_to_retry_fails_the_phase_at_once_with_its_own_reason(
        git_repo: Path, tmp_path: Path, egress: EgressRecorder, monkeypatch: pytest.MonkeyPatch) -> None:
    require_cli("claude")
    url = f"http://127.0.0.1:{refused_port()}"  # nothing listens; it exits 1, its result line is_error
    agent = claude_agent(url, tmp_path / "home", egress, monkeypatch, CLAUDE_CODE_MAX_RETRIES="0")
    result, seconds = timed_attempt(unreachable_project(git_repo, agent))
    assert_failed_within_the_phase_timeout(
        git_repo, result, seconds, "the agent exited with 1: API Error: Unable to connect to API (ConnectionRefused)")
    assert result.phases[1].seconds < PHASE_TIMEOUT_SECONDS  # its own failure, not the bound's


# --- codex ------------------------------------------------------------------------------------

def test_codex_writing_outside_allowed_paths_is_refused_at_the_gates(
        git_repo: Path, tmp_path: Path, egress: EgressRecorder, monkeypatch: pytest.MonkeyPatch) -> None:
    require_cli("codex")
    script = Script([
        Turn.call("apply_patch", raw_input=codex_patch({GUIDE: GUIDE_TEXT, OUTSIDE: OUTSIDE_TEXT})),
        Turn.say("green: the guide, and my notes"),
        Turn.say("refactor: nothing to improve"),
    ])
    with ModelServer(script) as server:
        root = project(git_repo, codex_agent(server.base_url, tmp_path / "home", egress, monkeypatch), GUIDE_TASK)
        result = run_attempt(find_repo(root), "guide")
    assert_refused_at_gates(root, result)
    assert script.remaining == 0


def test_codex_with_the_model_unreachable_fails_the_phase_within_its_timeout(
        git_repo: Path, tmp_path: Path, egress: EgressRecorder, monkeypatch: pytest.MonkeyPatch) -> None:
    require_cli("codex")
    url = f"http://127.0.0.1:{refused_port()}"  # nothing listens: codex reconnects (forever, by default)
    root = unreachable_project(git_repo, codex_agent(url, tmp_path / "home", egress, monkeypatch))
    result, seconds = timed_attempt(root)
    log = assert_failed_within_the_phase_timeout(root, result, seconds, TIMED_OUT)
    assert "Reconnecting..." in log  # it had reached for the model, in vain, when the bound ended it


# --- aider ------------------------------------------------------------------------------------

def test_aider_writing_outside_allowed_paths_is_refused_at_the_gates(
        git_repo: Path, tmp_path: Path, egress: EgressRecorder, monkeypatch: pytest.MonkeyPatch) -> None:
    require_cli("aider")
    script = Script([
        Turn.say("green: the guide, and my notes\n\n" + aider_edit(GUIDE, GUIDE_TEXT)
                 + aider_edit(OUTSIDE, OUTSIDE_TEXT)),
        Turn.say("refactor: nothing to improve"),
    ])
    with ModelServer(script) as server:
        root = project(git_repo, aider_agent(server.base_url, tmp_path / "home", egress, monkeypatch), GUIDE_TASK)
        result = run_attempt(find_repo(root), "guide")
    assert_refused_at_gates(root, result)
    assert script.remaining == 0


def test_aider_with_the_model_unreachable_fails_the_phase_within_its_timeout(
        git_repo: Path, tmp_path: Path, egress: EgressRecorder, monkeypatch: pytest.MonkeyPatch) -> None:
    require_cli("aider")
    # Nothing listens: aider retries with doubling delays and exits 0 after 85 s. Whether it is
    # still importing when the bound ends it (its bytecode cache is the attempt's own, empty at
    # first: seconds more on a loaded machine) or already retrying, the bound holds the same.
    url = f"http://127.0.0.1:{refused_port()}"
    root = unreachable_project(git_repo, aider_agent(url, tmp_path / "home", egress, monkeypatch))
    result, seconds = timed_attempt(root)
    assert_failed_within_the_phase_timeout(root, result, seconds, TIMED_OUT)
