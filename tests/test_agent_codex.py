"""codex-cli 0.171 against the scripted model: apply_patch, exec_command, and ``exec resume``."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from agent_cli_fixtures import (
    TEST_EVIDENCE, TEST_SCRIPT, Finished, changed_files, egress, project, require_cli, run_cli, save_sample,
)
from model_server import ModelServer, Script, Turn, Usage, refused_port
from model_server.clients import codex
from model_server.egress import EgressRecorder

pytestmark = pytest.mark.agents
__all__ = ["egress", "project"]  # the fixtures, imported for pytest

RED_PROMPT = "Add greeting.txt saying hello, then run the tests with sh test.sh."
GREEN_PROMPT = "Now make it say hello, world."
TEST_SCRIPT_COMMAND = f"sh {TEST_SCRIPT}"
# By default codex never gives up on an unreachable model ("Reconnecting... waiting for
# network"); with these three it fails the turn at the first error.
BOUNDED_RETRIES = ["-c", "features.unbounded_connection_retries=false",
                   "-c", "model_providers.scripted.request_max_retries=0",
                   "-c", "model_providers.scripted.stream_max_retries=0"]


def events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def patch(*lines: str) -> str:
    return "\n".join(["*** Begin Patch", *lines, "*** End Patch", ""])


def test_codex_patches_runs_the_tests_and_resumes_its_thread(project: Path, tmp_path: Path,
                                                              egress: EgressRecorder) -> None:
    require_cli("codex")
    greeting, last_message = project / "greeting.txt", tmp_path / "last-message.txt"
    script = Script([
        Turn.call("apply_patch", raw_input=patch("*** Add File: greeting.txt", "+hello"), usage=Usage(1000, 50)),
        Turn.call("exec_command", cmd=f"sh {TEST_SCRIPT}", usage=Usage(1200, 30)),
        Turn.say("red: wrote greeting.txt and ran the tests", usage=Usage(1300, 20)),
        Turn.call("apply_patch", raw_input=patch("*** Update File: greeting.txt", "-hello", "+hello, world")),
        Turn.say("green: done"),
    ])
    with ModelServer(script) as server:
        def phase(prompt: str, thread_id: str | None) -> Finished:
            invocation = codex(server.base_url, tmp_path / "home", egress.proxy_env(), prompt,
                               thread_id=thread_id, last_message=last_message)
            return run_cli(invocation, project)

        red = phase(RED_PROMPT, thread_id=None)
        assert red.returncode == 0, red.stderr
        assert greeting.read_text() == "hello\n"
        assert (project / TEST_EVIDENCE).read_text() == "ran\n"
        red_events = events(red.stdout)
        thread_id = red_events[0]["thread_id"]
        assert red_events[0]["type"] == "thread.started"
        commands = [e["item"] for e in red_events if e["type"] == "item.completed"
                    and e["item"]["type"] == "command_execution"]
        assert [(c["command"], c["exit_code"], c["status"]) for c in commands] == [
            (f"/bin/bash -lc '{TEST_SCRIPT_COMMAND}'", 0, "completed")]
        changes = [e["item"] for e in red_events if e["type"] == "item.completed" and e["item"]["type"] == "file_change"]
        assert [c["status"] for c in changes] == ["completed"]
        assert red_events[-1] == {"type": "turn.completed", "usage": {
            "input_tokens": 3500, "cached_input_tokens": 0, "cache_write_input_tokens": 0, "output_tokens": 100,
            "reasoning_output_tokens": 0}}
        assert last_message.read_text() == "red: wrote greeting.txt and ran the tests"
        red_requests = len(server.main_requests())

        green = phase(GREEN_PROMPT, thread_id=thread_id)
        assert green.returncode == 0, green.stderr
        assert greeting.read_text() == "hello, world\n"
        green_events = events(green.stdout)
        assert green_events[0] == {"type": "thread.started", "thread_id": thread_id}
        # turn.completed counts the whole thread, red included: a phase's tokens are the difference.
        assert green_events[-1]["usage"]["input_tokens"] == 3500 + 2 * 100
        first_green_request = json.dumps(server.main_requests()[red_requests].body)
        for earlier in (RED_PROMPT, "red: wrote greeting.txt and ran the tests", GREEN_PROMPT):
            assert earlier in first_green_request
    assert changed_files(project) == ["greeting.txt", TEST_EVIDENCE]
    assert script.remaining == 0
    save_sample("codex-exec.jsonl", red.stdout, project)



def test_codex_with_the_model_unreachable_fails_at_once_when_its_retries_are_bounded(
        project: Path, tmp_path: Path, egress: EgressRecorder) -> None:
    require_cli("codex")
    invocation = codex(f"http://127.0.0.1:{refused_port()}", tmp_path / "home", egress.proxy_env(), "hello",
                       thread_id=None, last_message=tmp_path / "last-message.txt")
    finished = run_cli(replace(invocation, argv=[*invocation.argv[:-1], *BOUNDED_RETRIES, "-"]), project, timeout=60)
    assert finished.returncode == 1
    assert events(finished.stdout)[-1] == {"type": "turn.failed",
                                           "error": {"message": "Connection failed: error sending request"}}


def test_codex_fails_the_turn_on_a_model_error_once_its_retries_are_bounded(
        project: Path, tmp_path: Path, egress: EgressRecorder) -> None:
    require_cli("codex")
    with ModelServer(Script([Turn.fail("http_500")])) as server:
        invocation = codex(server.base_url, tmp_path / "home", egress.proxy_env(), "hello",
                           thread_id=None, last_message=tmp_path / "last-message.txt")
        finished = run_cli(replace(invocation, argv=[*invocation.argv[:-1], *BOUNDED_RETRIES, "-"]), project)
        assert len(server.main_requests()) == 1
    assert finished.returncode == 1
    assert events(finished.stdout)[-1]["type"] == "turn.failed"
