"""The OpenAI Responses API (``POST /v1/responses``), streamed, with function and custom tool calls: codex."""

from __future__ import annotations

import json
from typing import Any

from .ids import new_id
from .script import ToolCall, Turn
from .wire import Reply


class OpenAIResponses:
    name = "responses"

    def is_main(self, body: dict[str, Any]) -> bool:
        return bool(body.get("tools"))

    def respond(self, reply: Reply, body: dict[str, Any], turn: Turn) -> None:
        response_id = new_id("resp")
        items = output_items(turn, _custom_tool_names(body))
        usage = {"input_tokens": turn.usage.input_tokens,
                 "input_tokens_details": {"cached_tokens": turn.usage.cached_input_tokens},
                 "output_tokens": turn.usage.output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
                 "total_tokens": turn.usage.input_tokens + turn.usage.output_tokens}
        response = {"id": response_id, "object": "response", "created_at": 0, "model": body.get("model"),
                    "status": "completed", "output": items, "usage": usage}
        if not body.get("stream"):
            reply.json(response)
            return
        reply.start_stream()
        _event(reply, {"type": "response.created", "response": {**response, "status": "in_progress", "output": []}})
        for index, item in enumerate(items):
            _event(reply, {"type": "response.output_item.added", "output_index": index, "item": item})
            if item["type"] == "message":
                text = item["content"][0]["text"]
                _event(reply, {"type": "response.output_text.delta", "item_id": item["id"], "output_index": index,
                               "content_index": 0, "delta": text})
            _event(reply, {"type": "response.output_item.done", "output_index": index, "item": item})
        _event(reply, {"type": "response.completed", "response": response})


def output_items(turn: Turn, custom_tools: set[str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if turn.text:
        items.append({"type": "message", "id": new_id("msg"), "role": "assistant", "status": "completed",
                      "content": [{"type": "output_text", "text": turn.text, "annotations": []}]})
    items.extend(_call_item(call, custom_tools) for call in turn.tool_calls)
    return items


def _call_item(call: ToolCall, custom_tools: set[str]) -> dict[str, Any]:
    call_id = new_id("call")
    if call.name in custom_tools or call.raw_input is not None:
        # A freeform tool (codex's apply_patch) takes its input as plain text.
        return {"type": "custom_tool_call", "id": new_id("ctc"), "call_id": call_id, "name": call.name,
                "input": call.raw_input or "", "status": "completed"}
    return {"type": "function_call", "id": new_id("fc"), "call_id": call_id, "name": call.name,
            "arguments": json.dumps(call.arguments), "status": "completed"}


def _custom_tool_names(body: dict[str, Any]) -> set[str]:
    return {tool.get("name", "") for tool in body.get("tools", []) if tool.get("type") == "custom"}


def _event(reply: Reply, payload: dict[str, Any]) -> None:
    reply.event(payload, event=payload["type"])


def input_texts(body: dict[str, Any]) -> list[str]:
    """Every text of a request's ``input`` items (user, assistant, tool outputs), in order."""
    texts = []
    for item in body.get("input", []):
        content = item.get("content")
        if isinstance(content, list):
            texts.extend(part.get("text", "") for part in content if isinstance(part, dict))
        elif isinstance(content, str):
            texts.append(content)
        if "output" in item:
            texts.append(json.dumps(item["output"]) if not isinstance(item["output"], str) else item["output"])
    return texts
