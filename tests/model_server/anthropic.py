"""The Anthropic Messages API (``POST /v1/messages``), streamed or not, with tool use: Claude Code."""

from __future__ import annotations

import json
from typing import Any

from .ids import new_id
from .script import Turn
from .wire import Reply


class AnthropicMessages:
    name = "anthropic"

    def is_main(self, body: dict[str, Any]) -> bool:
        # Claude Code's main loop always offers its tools; its side requests (a session title,
        # asked for unless non-essential traffic is off) offer none.
        return bool(body.get("tools"))

    def respond(self, reply: Reply, body: dict[str, Any], turn: Turn) -> None:
        model = body.get("model", "scripted-model")
        blocks = content_blocks(turn)
        stop_reason = "tool_use" if turn.tool_calls else "end_turn"
        usage = {"input_tokens": turn.usage.input_tokens, "output_tokens": turn.usage.output_tokens,
                 "cache_creation_input_tokens": 0, "cache_read_input_tokens": turn.usage.cached_input_tokens}
        message = {"id": new_id("msg"), "type": "message", "role": "assistant", "model": model,
                   "content": blocks, "stop_reason": stop_reason, "stop_sequence": None, "usage": usage}
        if not body.get("stream"):
            reply.json(message)
            return
        reply.start_stream()
        reply.event({"type": "message_start", "message": {**message, "content": [], "stop_reason": None,
                                                          "usage": {**usage, "output_tokens": 1}}},
                    event="message_start")
        for index, block in enumerate(blocks):
            _stream_block(reply, index, block)
        reply.event({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                     "usage": {"output_tokens": turn.usage.output_tokens}}, event="message_delta")
        reply.event({"type": "message_stop"}, event="message_stop")


def content_blocks(turn: Turn) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "text", "text": turn.text}] if turn.text else []
    for call in turn.tool_calls:
        blocks.append({"type": "tool_use", "id": new_id("toolu"), "name": call.name, "input": call.arguments})
    return blocks


def _stream_block(reply: Reply, index: int, block: dict[str, Any]) -> None:
    if block["type"] == "text":
        start, delta = {"type": "text", "text": ""}, {"type": "text_delta", "text": block["text"]}
    else:
        start = {**block, "input": {}}
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
    reply.event({"type": "content_block_start", "index": index, "content_block": start}, event="content_block_start")
    reply.event({"type": "content_block_delta", "index": index, "delta": delta}, event="content_block_delta")
    reply.event({"type": "content_block_stop", "index": index}, event="content_block_stop")


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``tool_result`` blocks of a request's messages: what the CLI's tools gave back."""
    results = []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, list):
            results.extend(block for block in content if block.get("type") == "tool_result")
    return results
