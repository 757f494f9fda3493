"""Claude Code 2.1 against the scripted model: an edit, the test command, and the session resumed."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from agent_cli_fixtures import (
    TEST_EVIDENCE, TEST_SCRIPT, Finished, changed_files, egress, project, require_cli, run_cli, save_sample,
)
from model_server import ModelServer, Script, Turn, Usage, refused_port
from model_server.anthropic import tool_results
from model_server.clients import Invocation, claude
from model_server.egress import EgressRecorder

pytestmark = pytest.mark.agents
__all__ = ["egress", "project"]  # the fixtures, imported for pytest

RED_PROMPT = "Write greeting.txt saying hello, then run the tests with sh test.sh."
GREEN_PROMPT = "Now make it say hello, world."
ESCAPING_COMMAND = "python3 -c \"open('escaped.txt', 'w')\""


def events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def result_event(stdout: str) -> dict[str, Any]:
    return next(event for event in events(stdout) if event["type"] == "result")


def test_claude_edits_runs_the_tests_and_resumes_its_session(project: Path, tmp_path: Path,
                                                             egress: EgressRecorder) -> None:
    require_cli("claude")
    greeting, session_id = project / "greeting.txt", str(uuid.uuid4())
    script = Script([
        Turn.call("Write", file_path=str(greeting), content="hello\n", usage=Usage(1000, 50)),
        Turn.call("Bash", command=f"sh {TEST_SCRIPT}", description="Run the tests", usage=Usage(1200, 30)),
        Turn.say("red: wrote greeting.txt and ran the tests", usage=Usage(1300, 20)),
        Turn.call("Edit", file_path=str(greeting), old_string="hello", new_string="hello, world"),
        Turn.say("green: done"),
    ])
    with ModelServer(script) as server:
        def phase(prompt: str, resume: bool) -> Finished:
            invocation = claude(server.base_url, tmp_path / "home", egress.proxy_env(), prompt,
                                session_id=session_id, resume=resume, allowed_bash=f"sh {TEST_SCRIPT}")
            return run_cli(invocation, project)

        red = phase(RED_PROMPT, resume=False)
        assert red.returncode == 0, red.stderr
        assert greeting.read_text() == "hello\n"
        assert (project / TEST_EVIDENCE).read_text() == "ran\n"
        result = result_event(red.stdout)
        assert (result["subtype"], result["is_error"], result["result"]) == ("success", False,
                                                                            "red: wrote greeting.txt and ran the tests")
        assert result["session_id"] == session_id
        assert result["permission_denials"] == []
        assert (result["usage"]["input_tokens"], result["usage"]["output_tokens"]) == (3500, 100)
        assert result["total_cost_usd"] > 0  # Claude Code prices its own model names
        red_requests = len(server.main_requests())

        green = phase(GREEN_PROMPT, resume=True)
        assert green.returncode == 0, green.stderr
        assert greeting.read_text() == "hello, world\n"
        assert result_event(green.stdout)["session_id"] == session_id
        first_green_request = json.dumps(server.main_requests()[red_requests].body)
        # The resumed session carries red's prompt, its tool calls' results and its last words.
        for earlier in (RED_PROMPT, "red: wrote greeting.txt and ran the tests", GREEN_PROMPT):
            assert earlier in first_green_request
        red_tool_results = tool_results(server.main_requests()[red_requests].body)
        assert len(red_tool_results) == 2 and not any(result.get("is_error") for result in red_tool_results)
    assert changed_files(project) == ["greeting.txt", TEST_EVIDENCE]
    assert script.remaining == 0
    save_sample("claude-stream-json.jsonl", red.stdout, project)


def test_claude_refuses_to_skip_permissions_as_root_and_denies_unlisted_commands(project: Path, tmp_path: Path,
                                                                                  egress: EgressRecorder) -> None:
    require_cli("claude")
    # Not `touch`: acceptEdits lets file commands (touch, mkdir, mv, cp...) through by itself.
    script = Script([Turn.call("Bash", command=ESCAPING_COMMAND, description="not allowed"), Turn.say("done")])
    with ModelServer(script) as server:
        def fresh_session() -> Invocation:
            return claude(server.base_url, tmp_path / "home", egress.proxy_env(), "run something",
                          session_id=str(uuid.uuid4()), resume=False, allowed_bash=f"sh {TEST_SCRIPT}")

        denied = run_cli(fresh_session(), project)
        skipping_invocation = fresh_session()
        skipping = run_cli(replace(skipping_invocation, argv=[*skipping_invocation.argv,
                                                              "--dangerously-skip-permissions"]), project)
    assert denied.returncode == 0  # a denied tool is not a failed run: the result line says so
    denials = result_event(denied.stdout)["permission_denials"]
    assert [denial["tool_input"]["command"] for denial in denials] == [ESCAPING_COMMAND]
    assert not (project / "escaped.txt").exists()
    if os.geteuid() == 0:
        assert skipping.returncode == 1
        assert "cannot be used with root/sudo privileges" in skipping.stderr


def test_claude_refuses_a_session_id_already_used(project: Path, tmp_path: Path, egress: EgressRecorder) -> None:
    require_cli("claude")
    session_id = str(uuid.uuid4())
    with ModelServer(Script([Turn.say("one"), Turn.say("two")])) as server:
        def start() -> Finished:
            return run_cli(claude(server.base_url, tmp_path / "home", egress.proxy_env(), "hello",
                                  session_id=session_id, resume=False, allowed_bash="true"), project)

        first, second = start(), start()
    assert first.returncode == 0
    # A second phase must say --resume: --session-id only ever starts a session.
    assert (second.returncode, second.stderr.strip()) == (1, f"Error: Session ID {session_id} is already in use.")


def test_claude_with_the_model_unreachable_fails_at_once_when_told_not_to_retry(
        project: Path, tmp_path: Path, egress: EgressRecorder) -> None:
    require_cli("claude")
    invocation = claude(f"http://127.0.0.1:{refused_port()}", tmp_path / "home", egress.proxy_env(), "hello",
                        session_id=str(uuid.uuid4()), resume=False, allowed_bash="true")
    # By default it retries 10 times with a growing delay (minutes, api_retry events on stdout).
    finished = run_cli(replace(invocation, env={**invocation.env, "CLAUDE_CODE_MAX_RETRIES": "0"}), project,
                       timeout=60)
    assert finished.returncode == 1
    result = result_event(finished.stdout)
    # subtype says "success": is_error is what tells.
    assert (result["subtype"], result["is_error"]) == ("success", True)
    assert result["result"] == "API Error: Unable to connect to API (ConnectionRefused)"


def test_claude_fails_the_phase_on_a_model_error_when_told_not_to_retry(
        project: Path, tmp_path: Path, egress: EgressRecorder) -> None:
    require_cli("claude")
    with ModelServer(Script([Turn.fail("http_500")])) as server:
        invocation = claude(server.base_url, tmp_path / "home", egress.proxy_env(), "hello",
                            session_id=str(uuid.uuid4()), resume=False, allowed_bash="true")
        finished = run_cli(replace(invocation, env={**invocation.env, "CLAUDE_CODE_MAX_RETRIES": "0"}), project)
        assert len(server.main_requests()) == 1
    assert finished.returncode == 1
    result = result_event(finished.stdout)
    assert (result["is_error"], result["api_error_status"]) == (True, 500)
    assert result["result"].startswith("API Error: 500 scripted failure.")


def test_claude_allowed_tools_before_a_prompt_argument_swallows_the_prompt(
        project: Path, tmp_path: Path, egress: EgressRecorder) -> None:
    require_cli("claude")
    with ModelServer(Script([Turn.say("never asked")])) as server:
        env = claude(server.base_url, tmp_path / "home", egress.proxy_env(), "", session_id=str(uuid.uuid4()),
                     resume=False, allowed_bash="true").env
        argv = ["claude", "-p", "--allowedTools", "Bash(true)", "say hi", "--output-format", "json"]
        finished = run_cli(Invocation(argv, env), project)
        assert server.main_requests() == []
    # The variadic option took "say hi" as a second tool: hence --allowedTools=... and stdin.
    assert finished.returncode == 1
    assert "Input must be provided either through stdin or as a prompt argument" in finished.stderr
