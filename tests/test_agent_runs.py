"""Whole attempts driven by the real agent CLIs (marker `agents`), their model scripted by the
server in tests/model_server: red writes a failing test, green makes it pass, refactor changes
nothing, all in ONE agent session; the executor verifies each phase and commits for review. The
phase events carry each phase's tokens and cost; the model server sees green continue red's
session. Each test skips when its CLI is not installed (CI installs all three and requires them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from agent_cli_fixtures import egress, require_cli
from agent_run_fixtures import aider_agent, aider_edit, claude_agent, codex_agent, codex_patch, phase_ledgers, project
from conftest import git
from model_server import ModelServer, Script, Turn, Usage
from model_server.egress import EgressRecorder

from leviathan_local import events
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.git.repo import find_repo

pytestmark = pytest.mark.agents
__all__ = ["egress"]  # the fixture, imported for pytest

TEST_FILE = "import unittest\nfrom calc import add\n\n\nclass Test(unittest.TestCase):\n" \
            "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n"
IMPLEMENTATION = "def add(a, b):\n    return a + b\n"
TEST_COMMAND = "python -m unittest discover -s tests -q"


def assert_reviewable(root: Path, result) -> None:
    assert result.outcome == "succeeded", result.reason
    assert [(p.name, p.verdict) for p in result.phases][:3] == [("red", "passed"), ("green", "passed"),
                                                              ("refactor", "passed")]
    assert load_backlog(find_repo(root)).task("add").status is Status.REVIEW
    assert git(root, "show", f"{result.branch}:calc.py") == IMPLEMENTATION
    changed = git(root, "diff", "--name-only", f"{result.branch}~1", result.branch).split()
    assert sorted(changed) == [".leviathan/backlog.yaml", "calc.py", "tests/test_add.py"]  # nothing of the agent's own


def test_claude_does_a_whole_attempt_in_one_session(git_repo: Path, tmp_path: Path, egress: EgressRecorder,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    require_cli("claude")
    slot = git_repo / "worktrees" / "slot-0"
    script = Script([
        Turn.call("Write", file_path=str(slot / "tests" / "test_add.py"), content=TEST_FILE, usage=Usage(1000, 50)),
        Turn.say("red: the test for add", usage=Usage(1100, 20)),
        Turn.call("Write", file_path=str(slot / "calc.py"), content=IMPLEMENTATION, usage=Usage(1500, 40)),
        Turn.call("Bash", command=TEST_COMMAND, description="Run the tests", usage=Usage(1600, 10)),
        Turn.say("green: add works", usage=Usage(1700, 10)),
        Turn.say("refactor: nothing to improve", usage=Usage(1800, 10)),
    ])
    with ModelServer(script) as server:
        root = project(git_repo, claude_agent(server.base_url, tmp_path / "home", egress, monkeypatch))
        result = run_attempt(find_repo(root), "add")
        requests = [json.dumps(request.body) for request in server.main_requests()]
    assert_reviewable(root, result)
    assert script.remaining == 0
    ledgers = phase_ledgers(root)
    session = ledgers["red"]["session"]
    assert ledgers["green"]["session"] == ledgers["refactor"]["session"] == session
    assert (ledgers["red"]["tokens_in"], ledgers["red"]["tokens_out"]) == (2100, 70)
    assert all(ledger["cost_usd"] > 0 and ledger["cost_source"] == "agent" for ledger in ledgers.values())
    started = next(e for e in events.read_events(find_repo(root), "add") if e.kind == "attempt.started")
    assert started.data["session"]["id"] == session  # known before the first phase ran
    green_first = requests[2]  # green's first request continues red's session: red's prompt and words
    assert "## This phase: red" in green_first and "red: the test for add" in green_first


def test_codex_does_a_whole_attempt_in_one_thread(git_repo: Path, tmp_path: Path, egress: EgressRecorder,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    require_cli("codex")
    script = Script([
        Turn.call("apply_patch", raw_input=codex_patch({"tests/test_add.py": TEST_FILE}),
                  usage=Usage(1000, 50)),
        Turn.say("red: the test for add", usage=Usage(1100, 20)),
        Turn.call("apply_patch", raw_input=codex_patch({"calc.py": IMPLEMENTATION}),
                  usage=Usage(1500, 40)),
        Turn.call("exec_command", cmd=TEST_COMMAND, usage=Usage(1600, 10)),
        Turn.say("green: add works", usage=Usage(1700, 10)),
        Turn.say("refactor: nothing to improve", usage=Usage(1800, 10)),
    ])
    with ModelServer(script) as server:
        root = project(git_repo, codex_agent(server.base_url, tmp_path / "home", egress, monkeypatch))
        result = run_attempt(find_repo(root), "add")
        requests = [json.dumps(request.body) for request in server.main_requests()]
    assert_reviewable(root, result)
    ledgers = phase_ledgers(root)
    thread = ledgers["red"]["session"]
    assert thread and ledgers["green"]["session"] == ledgers["refactor"]["session"] == thread
    # red's own tokens; green's are its own too, though codex reports the thread's running total
    assert (ledgers["red"]["tokens_in"], ledgers["green"]["tokens_in"]) == (2100, 4800)
    assert ledgers["red"]["cost_usd"] == pytest.approx((2100 * 2 + 70 * 8) / 1e6)
    assert ledgers["red"]["cost_source"] == "prices"
    assert "red: the test for add" in next(r for r in requests if "## This phase: green" in r)


def test_aider_does_a_whole_attempt_with_its_chat_restored(git_repo: Path, tmp_path: Path, egress: EgressRecorder,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    require_cli("aider")

    script = Script([
        Turn.say("red: the test for add\n\n" + aider_edit("tests/test_add.py", TEST_FILE), usage=Usage(1000, 50)),
        Turn.say("green: add\n\n" + aider_edit("calc.py", IMPLEMENTATION), usage=Usage(1500, 40)),
        Turn.say("refactor: nothing to improve", usage=Usage(1800, 10)),
    ])
    with ModelServer(script) as server:
        root = project(git_repo, aider_agent(server.base_url, tmp_path / "home", egress, monkeypatch))
        result = run_attempt(find_repo(root), "add")
        requests = [json.dumps(request.body) for request in server.main_requests()]
    assert_reviewable(root, result)
    ledgers = phase_ledgers(root)
    assert ledgers["red"]["cost_usd"] > 0 and ledgers["red"]["cost_source"] == "agent"
    assert "red: the test for add" in requests[1]  # green's request restores red's chat
