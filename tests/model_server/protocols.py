"""Which protocol serves which path (matched on the path's end, so any base URL prefix works)."""

from __future__ import annotations

from .anthropic import AnthropicMessages
from .chat import ChatCompletions
from .responses import OpenAIResponses
from .wire import Exchange

EXCHANGES_BY_PATH: dict[str, Exchange] = {
    "/messages": AnthropicMessages(),
    "/responses": OpenAIResponses(),
    "/chat/completions": ChatCompletions(),
}
