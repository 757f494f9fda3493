"""The scripted model server itself, spoken to over real HTTP on 127.0.0.1 (no agent CLI needed)."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from model_server import FALLBACK_TURN, ModelServer, Script, ToolCall, Turn, Usage, refused_port

TOOLS = [{"name": "Write", "input_schema": {"type": "object"}}]


def post(server: ModelServer, path: str, body: dict[str, Any], timeout: float = 10) -> bytes:
    request = urllib.request.Request(server.base_url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def sse(raw: bytes) -> list[Any]:
    datas = [line[len("data: "):] for line in raw.decode().splitlines() if line.startswith("data: ")]
    return [data if data == "[DONE]" else json.loads(data) for data in datas]


def test_anthropic_streams_text_then_a_tool_use_with_its_usage() -> None:
    turn = Turn(text="writing", tool_calls=(ToolCall("Write", {"file_path": "/x", "content": "y"}),),
                usage=Usage(input_tokens=7, output_tokens=3))
    with ModelServer(Script([turn])) as server:
        events = sse(post(server, "/v1/messages?beta=true", {"model": "m", "stream": True, "tools": TOOLS}))
    assert [e["type"] for e in events] == [
        "message_start", "content_block_start", "content_block_delta", "content_block_stop",
        "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]
    assert events[0]["message"]["usage"]["input_tokens"] == 7
    assert events[4]["content_block"]["name"] == "Write"
    assert json.loads(events[5]["delta"]["partial_json"]) == {"file_path": "/x", "content": "y"}
    assert events[7]["delta"]["stop_reason"] == "tool_use"
    assert events[7]["usage"] == {"output_tokens": 3}


def test_a_side_request_gets_a_short_answer_and_leaves_the_script_alone() -> None:
    with ModelServer(Script([Turn.say("scripted")])) as server:
        side = json.loads(post(server, "/v1/messages", {"model": "haiku", "messages": []}))
        main = json.loads(post(server, "/v1/messages", {"model": "m", "tools": TOOLS}))
        extra = json.loads(post(server, "/v1/messages", {"model": "m", "tools": TOOLS}))
        assert [r.main for r in server.requests] == [False, True, True]
    assert side["content"] == [{"type": "text", "text": "ok"}]
    assert main["content"] == [{"type": "text", "text": "scripted"}]
    assert extra["content"] == [{"type": "text", "text": FALLBACK_TURN.text}]


def test_responses_render_apply_patch_as_a_custom_tool_call_and_shell_as_a_function_call() -> None:
    tools = [{"type": "custom", "name": "apply_patch"}, {"type": "function", "name": "exec_command"}]
    turn = Turn(tool_calls=(ToolCall("apply_patch", raw_input="*** Begin Patch\n*** End Patch\n"),
                            ToolCall("exec_command", {"cmd": "true"})), usage=Usage(11, 5, cached_input_tokens=4))
    with ModelServer(Script([turn])) as server:
        events = sse(post(server, "/v1/responses", {"model": "m", "stream": True, "tools": tools}))
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert [(item["type"], item["name"]) for item in done] == [("custom_tool_call", "apply_patch"),
                                                               ("function_call", "exec_command")]
    assert done[0]["input"].startswith("*** Begin Patch")
    assert json.loads(done[1]["arguments"]) == {"cmd": "true"}
    completed = events[-1]
    assert completed["type"] == "response.completed"
    assert completed["response"]["usage"]["input_tokens_details"] == {"cached_tokens": 4}


@pytest.mark.parametrize("stream", [True, False])
def test_chat_completions_report_usage_streamed_or_not(stream: bool) -> None:
    with ModelServer(Script([Turn.say("edit block", usage=Usage(9, 2))])) as server:
        raw = post(server, "/v1/chat/completions", {"model": "scripted", "stream": stream, "messages": []})
    if stream:
        chunks = sse(raw)
        assert chunks[-1] == "[DONE]"
        assert chunks[0]["choices"][0]["delta"]["content"] == "edit block"
        usage = chunks[-2]["usage"]
    else:
        completion = json.loads(raw)
        assert completion["choices"][0]["message"]["content"] == "edit block"
        usage = completion["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == (9, 2)


def test_every_request_is_recorded_with_its_body_and_headers() -> None:
    with ModelServer(Script([Turn.say("hi")])) as server:
        post(server, "/v1/chat/completions", {"model": "scripted", "messages": [{"role": "user", "content": "Q"}]})
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(server.base_url + "/v1/models", timeout=10)
    assert missing.value.code == 404
    chat, models = server.requests
    assert (chat.protocol, chat.main, chat.body["messages"][0]["content"]) == ("chat", True, "Q")
    assert chat.headers["Content-Type"] == "application/json"
    assert (models.method, models.path, models.protocol, models.main) == ("GET", "/v1/models", "other", False)


def test_a_scripted_http_500_then_the_next_turn() -> None:
    with ModelServer(Script([Turn.fail("http_500"), Turn.say("recovered")])) as server:
        with pytest.raises(urllib.error.HTTPError) as failed:
            post(server, "/v1/chat/completions", {"model": "m"})
        assert failed.value.code == 500
        assert json.loads(post(server, "/v1/chat/completions", {"model": "m"}))["choices"][0]["message"][
            "content"] == "recovered"


def test_a_scripted_drop_closes_the_connection_without_an_answer() -> None:
    with ModelServer(Script([Turn.fail("drop")])) as server:
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            post(server, "/v1/messages", {"model": "m", "tools": TOOLS})


def test_a_scripted_hang_holds_the_request_until_the_server_stops() -> None:
    server = ModelServer(Script([Turn.fail("hang")]))
    with server:
        with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
            post(server, "/v1/responses", {"model": "m", "tools": [{"type": "function", "name": "x"}]}, timeout=0.5)
    assert server.requests[0].main  # the stop released the hanging handler: the exit did not block


def test_nothing_listens_on_a_refused_port() -> None:
    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{refused_port()}/v1/messages", timeout=10)
    assert isinstance(refused.value.reason, ConnectionRefusedError)


def test_a_scenario_file_loads_its_turns(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"turns": [
        {"tool_calls": [{"name": "Bash", "arguments": {"command": "true"}}], "usage": {"input_tokens": 5}},
        {"failure": "hang"}, {"text": "done"}]}))
    script = Script.load(scenario)
    assert script.next_turn() == Turn(tool_calls=(ToolCall("Bash", {"command": "true"}),), usage=Usage(5))
    assert script.next_turn().failure == "hang"
    assert script.next_turn().text == "done"


def test_a_scenario_file_with_an_unknown_field_names_it(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"turns": [{"txt": "typo"}]}))
    with pytest.raises(ValueError, match=r"scenario.json: turns\[0\] has unknown fields \['txt'\]"):
        Script.load(scenario)


def test_offline_runs_a_command_where_only_loopback_exists() -> None:
    offline = Path(__file__).parent / "model_server" / "offline.py"
    probe = "print(sorted(line.split(':')[0].strip() for line in open('/proc/net/dev').readlines()[2:]))"
    finished = subprocess.run([sys.executable, str(offline), sys.executable, "-c", probe],
                              capture_output=True, text=True, timeout=60)
    if "no network namespace" in finished.stderr:
        pytest.skip(finished.stderr.strip())
    assert (finished.returncode, finished.stdout.strip()) == (0, "['lo']")
