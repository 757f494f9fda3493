"""Each step of an attempt's cycle timed and logged: `phase.started`, then `phase.finished` with
its verdict, seconds and the agent's ledger, and its PhaseRecord, however it ends.

Its own module because the phases (attempt_cycle.py) and the gates and commit (attempt_gates.py)
are timed alike, and the cycle imports the gates: the timing can live in neither without a circle.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from leviathan_local import events
from leviathan_local.engine.attempt_state import AttemptState, PhaseFailed, PhaseRecord


@contextmanager
def timed(attempt: AttemptState, phase: str) -> Iterator[dict[str, str]]:
    """Every phase, gates and commit included, logs `phase.started`, then `phase.finished` with
    its verdict and seconds, however it ends. The block may set the verdict and detail."""
    started = time.monotonic()
    bound = attempt.policy.limits.phase_timeout_seconds
    attempt.phase_deadline = started + bound if bound else None
    events.append_event(attempt.paths, "phase.started", attempt.task.id, attempt=attempt.attempt_id, phase=phase)
    outcome = {"verdict": "passed", "detail": ""}
    try:
        yield outcome
    except PhaseFailed as failure:  # a shutdown too: its detail says so
        _record(attempt, phase, "failed", started, failure.reason)
        raise
    except Exception as error:
        _record(attempt, phase, "failed", started, f"{type(error).__name__}: {error}")
        raise
    _record(attempt, phase, outcome["verdict"], started, outcome["detail"])


def _record(attempt: AttemptState, phase: str, verdict: str, started: float, detail: str = "") -> None:
    seconds = round(time.monotonic() - started, 3)
    report = attempt.agent_reports.get(phase)
    agent = report.ledger() if report else {}
    attempt.phases.append(PhaseRecord(phase, verdict, seconds, detail, agent))
    ledger = {"agent": agent} if agent else {}  # only a phase an agent ran has one
    events.append_event(attempt.paths, "phase.finished", attempt.task.id, attempt=attempt.attempt_id,
                        phase=phase, verdict=verdict, seconds=seconds, detail=detail, **ledger)
