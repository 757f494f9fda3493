"""aider 0.86 against the scripted model: a SEARCH/REPLACE edit, its test command, the chat restored."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_cli_fixtures import (
    TEST_EVIDENCE, TEST_SCRIPT, Finished, changed_files, egress, project, require_cli, run_cli, save_sample,
)
from model_server import ModelServer, Script, Turn, Usage
from model_server.chat import message_texts
from model_server.clients import aider
from model_server.egress import EgressRecorder

pytestmark = pytest.mark.agents
__all__ = ["egress", "project"]  # the fixtures, imported for pytest

RED_PROMPT = "Add greeting.txt saying hello."
GREEN_PROMPT = "Now make it say hello, world."


def edit_block(path: str, search: str, replace: str) -> str:
    return f"{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"


def first_holding(texts: list[str], needle: str) -> int:
    return next(index for index, text in enumerate(texts) if needle in text)


def test_aider_edits_runs_its_test_command_and_restores_the_chat(project: Path, tmp_path: Path,
                                                                 egress: EgressRecorder) -> None:
    require_cli("aider")
    greeting, state_dir = project / "greeting.txt", tmp_path / "aider-state"
    red_answer = "red: adding greeting.txt\n\n" + edit_block("greeting.txt", "", "hello\n")
    script = Script([
        Turn.say(red_answer, usage=Usage(1000, 50)),
        Turn.say("green: updating\n\n" + edit_block("greeting.txt", "hello\n", "hello, world\n")),
    ])
    with ModelServer(script) as server:
        def phase(prompt: str, restore: bool) -> Finished:
            message = tmp_path / "prompt.md"
            message.write_text(prompt)
            invocation = aider(server.base_url, tmp_path / "home", egress.proxy_env(), message,
                               state_dir=state_dir, restore=restore, test_cmd=f"sh {TEST_SCRIPT}")
            return run_cli(invocation, project)

        red = phase(RED_PROMPT, restore=False)
        assert red.returncode == 0, red.stderr
        assert greeting.read_text() == "hello\n"
        # --auto-test ran the test command after the edit (the model's own shell blocks never run).
        assert (project / TEST_EVIDENCE).read_text() == "ran\n"
        assert "Applied edit to greeting.txt" in red.stdout
        assert "Tokens: 1.0k sent, 50 received. Cost: $0.0011 message, $0.0011 session." in red.stdout

        green = phase(GREEN_PROMPT, restore=True)
        assert green.returncode == 0, green.stderr
        assert greeting.read_text() == "hello, world\n"
        green_request = server.main_requests()[1].body
        texts = message_texts(green_request)
        # The restored chat history (re-read from its markdown file, so spacing differs): red's
        # prompt and red's whole answer come before green's prompt.
        assert first_holding(texts, RED_PROMPT) < first_holding(texts, red_answer.strip()) < first_holding(
            texts, GREEN_PROMPT)
    # aider's history files stayed in the state directory: nothing of aider's in the work tree.
    assert changed_files(project) == ["greeting.txt", TEST_EVIDENCE]
    assert list(project.glob(".aider*")) == []
    assert RED_PROMPT in (state_dir / "chat.history.md").read_text()
    save_sample("aider-stdout.txt", red.stdout, project)


def test_aider_exits_0_when_its_edit_cannot_be_applied_and_never_runs_the_models_shell(
        project: Path, tmp_path: Path, egress: EgressRecorder) -> None:
    require_cli("aider")
    (project / "greeting.txt").write_text("hello\n")
    not_matching = edit_block("greeting.txt", "goodbye\n", "hello, world\n")
    shell = "\n```bash\ntouch model-shell-ran.txt\n```\n"
    # aider asks the model again after a failed edit (up to 3 reflections): each gets the same answer.
    script = Script([Turn.say(not_matching + shell)] * 4)
    with ModelServer(script) as server:
        message = tmp_path / "prompt.md"
        message.write_text("Make greeting.txt say hello, world.")
        finished = run_cli(aider(server.base_url, tmp_path / "home", egress.proxy_env(), message,
                                 state_dir=tmp_path / "aider-state", restore=False, test_cmd="true"), project)
    assert finished.returncode == 0  # the failure is only in what it printed
    assert "SearchReplaceNoExactMatch" in finished.stdout
    assert "Only 3 reflections allowed, stopping." in finished.stdout
    assert len(server.main_requests()) == 4
    assert (project / "greeting.txt").read_text() == "hello\n"
    assert not (project / "model-shell-ran.txt").exists()
