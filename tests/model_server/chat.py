"""OpenAI chat completions (``POST /v1/chat/completions``), streamed or not: aider through litellm."""

from __future__ import annotations

import json
from typing import Any

from .ids import new_id
from .script import Turn
from .wire import Reply


class ChatCompletions:
    name = "chat"

    def is_main(self, body: dict[str, Any]) -> bool:
        return True  # aider asks only for its edits (no git: no commit messages from a weak model)

    def respond(self, reply: Reply, body: dict[str, Any], turn: Turn) -> None:
        completion_id, model = new_id("chatcmpl"), body.get("model", "scripted-model")
        usage = {"prompt_tokens": turn.usage.input_tokens, "completion_tokens": turn.usage.output_tokens,
                 "total_tokens": turn.usage.input_tokens + turn.usage.output_tokens,
                 "prompt_tokens_details": {"cached_tokens": turn.usage.cached_input_tokens}}
        calls = [{"id": new_id("call"), "type": "function",
                  "function": {"name": call.name, "arguments": json.dumps(call.arguments)}}
                 for call in turn.tool_calls]
        finish = "tool_calls" if calls else "stop"
        message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
        if calls:
            message["tool_calls"] = calls
        base = {"id": completion_id, "created": 0, "model": model}
        if not body.get("stream"):
            reply.json({**base, "object": "chat.completion", "usage": usage,
                        "choices": [{"index": 0, "message": message, "finish_reason": finish}]})
            return
        chunk = {**base, "object": "chat.completion.chunk"}
        reply.start_stream()
        delta: dict[str, Any] = {"role": "assistant", "content": turn.text}
        if calls:
            delta["tool_calls"] = [{"index": index, **call} for index, call in enumerate(calls)]
        reply.event({**chunk, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
        reply.event({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        reply.event({**chunk, "choices": [], "usage": usage})
        reply.event("[DONE]")


def message_texts(body: dict[str, Any]) -> list[str]:
    """Every message's text in a request, in order (system, user, assistant)."""
    texts = []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(part.get("text", "") for part in content if isinstance(part, dict))
    return texts
