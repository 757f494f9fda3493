"""Attempts written into a real event log the way the engine logs them, with the agent's use per
phase (the `agent` field the agent adapters add to `phase.finished` and to the attempt's phases)."""

from __future__ import annotations

from typing import Any

from leviathan_local import events
from leviathan_local.repo_paths import RepoPaths

# (phase, verdict, seconds, what its agent used, or None where no agent ran / it logged nothing)
Phase = tuple[str, str, float, "dict[str, Any] | None"]


def log_attempt(paths: RepoPaths, task_id: str, attempt_id: str, phases: list[Phase], branch: str, base: str,
                commit: str | None = None, attempts: int = 1) -> None:
    """An attempt that started, ran ``phases`` and then succeeded with ``commit``, or (without
    one) failed in its last phase."""
    events.append_event(paths, "attempt.started", task_id, attempt=attempt_id, branch=branch, base=base)
    for phase, verdict, seconds, agent in phases:
        events.append_event(paths, "phase.started", task_id, attempt=attempt_id, phase=phase)
        events.append_event(paths, "phase.finished", task_id, attempt=attempt_id, phase=phase, verdict=verdict,
                            seconds=seconds, detail="" if verdict == "passed" else "tests fail",
                            **({"agent": agent} if agent is not None else {}))
    if commit is None:
        events.append_event(paths, "attempt.failed", task_id, attempt=attempt_id, phase=phases[-1][0],
                            reason="tests fail", attempts=attempts, branch_commit=None, outcome="failed")
        return
    records = [{"name": phase, "verdict": verdict, "seconds": seconds, "detail": "",
                **({"agent": agent} if agent is not None else {})} for phase, verdict, seconds, agent in phases]
    events.append_event(paths, "attempt.succeeded", task_id, attempt=attempt_id, branch=branch, commit=commit,
                        base=base, phases=records, gates=["allowed paths", "forbidden patterns", "secrets"])
