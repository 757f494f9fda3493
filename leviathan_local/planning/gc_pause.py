"""Pausing the cyclic garbage collector around a bulk load, safely across threads.

A board load builds some hundred thousand objects and no cycles: the collector would walk them
all several times over (measured: a third of a 10,000-task load). Loads may overlap (the app's
reload worker and a view's), so pauses are counted: the collector comes back when the last
one ends, and only if it was on before the first.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
