"""Overlapping pauses of the garbage collector (two loads in two threads) end with it on."""

from __future__ import annotations

import gc

from leviathan_local.planning.gc_pause import collector_paused


def test_overlapping_pauses_restore_the_collector_once_both_end() -> None:
    assert gc.isenabled()
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    assert not gc.isenabled()
    first.__exit__(None, None, None)  # the first load ends while the second still runs
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
