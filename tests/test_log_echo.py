"""A worker's attempt log copied to its stdout as it is written (engine/remote/log_echo.py)."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from leviathan_local.engine.remote.log_echo import echoed


class Seen(io.BytesIO):
    """An output that says when it has been written to."""

    def __init__(self) -> None:
        super().__init__()
        self.written = threading.Event()

    def write(self, data: bytes) -> int:  # type: ignore[override]
        count = super().write(data)
        self.written.set()
        return count


def test_every_byte_is_copied_once_in_order_while_and_after_it_is_written(tmp_path: Path) -> None:
    log, out = tmp_path / "attempts" / "a.log", Seen()
    with echoed(log, out):  # the log does not exist yet: the attempt makes it
        log.parent.mkdir()
        with open(log, "ab") as handle:
            handle.write(b"red: passed\n")
            handle.flush()
            assert out.written.wait(10)  # copied while the block still runs
            assert out.getvalue() == b"red: passed\n"
            handle.write(b"green: ")
            handle.write(b"passed\n")
        # Written just before the block ends: copied all the same.
    assert out.getvalue() == b"red: passed\ngreen: passed\n"


def test_a_log_never_written_copies_nothing(tmp_path: Path) -> None:
    out = Seen()
    with echoed(tmp_path / "none.log", out):
        pass
    assert out.getvalue() == b""
