"""A remote attempt's log copied to an output as it is written. In a Job the worker's stdout is
its pod's log, which the controller streams into its own copy of the attempt's log and the Run
tab (engine/runners/kubernetes.py): so the cluster shows what a local attempt shows, live."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

POLL_SECONDS = 0.2  # as often as the Run tab reads a local attempt's log


@contextmanager
def echoed(log: Path, out: BinaryIO) -> Iterator[None]:
    """Copy what is written to ``log`` (it may not exist yet) to ``out`` until the block ends,
    then the rest: every byte, once, in order."""
    finished = threading.Event()

    def copy() -> None:
        offset = 0
        while True:
            last = finished.wait(POLL_SECONDS)
            offset = _copy_from(log, out, offset)
            if last:
                return

    thread = threading.Thread(target=copy, name="log-echo", daemon=True)
    thread.start()
    try:
        yield
    finally:
        finished.set()
        thread.join()


def _copy_from(log: Path, out: BinaryIO, offset: int) -> int:
    try:
        with open(log, "rb") as handle:
            handle.seek(offset)
            new = handle.read()
    except FileNotFoundError:
        return offset
    if new:
        out.write(new)
        out.flush()
    return offset + len(new)
