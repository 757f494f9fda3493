"""Unique ids for messages and tool calls, per server process (deterministic: a counter)."""

from __future__ import annotations

import itertools
import threading

_counter = itertools.count(1)
_lock = threading.Lock()


def new_id(prefix: str) -> str:
    with _lock:
        return f"{prefix}_{next(_counter):06d}"
