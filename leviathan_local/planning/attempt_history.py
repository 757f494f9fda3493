"""Each task's attempts as the event log tells them: phases with verdicts and timings, the
outcome, and the tail of the last test run (for the task detail).

Engine side: read-only, no Textual.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from leviathan_local.events import Event
from leviathan_local.planning.cost import PhaseCost, agent_usd, agent_use, total, usd_text
from leviathan_local.repo_paths import RepoPaths

OUTCOME_KINDS = {"attempt.succeeded": "succeeded", "attempt.failed": "failed", "attempt.escalated": "needs_human"}
CYCLE_PHASES = ("red", "green", "refactor", "gates", "commit")  # in the order an attempt runs them
SETUP_PHASE = "setup"  # policy's `setup:` commands, before red; logged only where policy has some
VERDICT_MARKS = {"passed": "✓", "failed": "✗", "skipped": "–"}  # what the colour says, readable without it


def phases_shown(logged: Iterable[str]) -> tuple[str, ...]:
    """The phases a view draws, in the order an attempt runs them: `setup` first when ``logged``
    (the names of the phases that ran) holds it, then the cycle's. Without it, no setup column."""
    return (SETUP_PHASE, *CYCLE_PHASES) if SETUP_PHASE in set(logged) else CYCLE_PHASES


@dataclass(frozen=True)
class PhaseVerdict:
    phase: str
    verdict: str
    seconds: float | None
    # The `agent` field as logged, read only when shown: a board over a long log holds many phases.
    agent: Any = None

    @property
    def cost(self) -> PhaseCost | None:
        """None: no agent ran in it (or it logged nothing)."""
        return agent_use(self.agent)

    @property
    def cost_usd(self) -> float | None:
        return agent_usd(self.agent)

    def text(self) -> str:
        """`green ✓ 1.2s (3,500 in / 100 out tokens, $0.0120)`"""
        timing = f" {self.seconds:.1f}s" if self.seconds is not None else ""
        spent = f" ({self.cost.text()})" if self.cost is not None else ""
        return f"{self.phase} {VERDICT_MARKS.get(self.verdict, self.verdict)}{timing}{spent}"


@dataclass
class AttemptSummary:
    attempt_id: str
    started_at: str
    branch: str = ""
    outcome: str = "running"  # until the log says otherwise
    reason: str = ""
    phases: list[PhaseVerdict] = field(default_factory=list)

    @property
    def cost_usd(self) -> float | None:
        """The sum of its phases' known costs; None when none reported one."""
        return total(phase.cost_usd for phase in self.phases)

    def line(self) -> str:
        """`a1b2c3 failed (green: tests fail), cost $0.0120` and its phases below, one a line."""
        reason = f" ({self.reason})" if self.reason else ""
        head = f"{self.attempt_id} {self.started_at[:16]} {self.outcome}{reason}, cost {usd_text(self.cost_usd)}"
        return "\n".join([head, *(f"  {phase.text()}" for phase in self.phases)])


def task_cost_usd(attempts: Iterable[AttemptSummary]) -> float | None:
    """A task's cost so far: the sum over all its attempts (None: no phase reported a cost)."""
    return total(attempt.cost_usd for attempt in attempts)


def attempts_by_task(events: Iterable[Event]) -> dict[str, list[AttemptSummary]]:
    """Every task's attempts, oldest first."""
    found: dict[str, AttemptSummary] = {}
    by_task: dict[str, list[AttemptSummary]] = {}
    for event in events:
        attempt_id = event.data.get("attempt")
        if event.task is None or not isinstance(attempt_id, str):
            continue
        if event.kind == "attempt.started":
            summary = AttemptSummary(attempt_id, event.ts, branch=str(event.data.get("branch") or ""))
            found[attempt_id] = summary
            by_task.setdefault(event.task, []).append(summary)
            continue
        summary = found.get(attempt_id)
        if summary is None:
            continue  # an attempt that ended without starting (already done): nothing ran
        if event.kind == "phase.finished":
            seconds = event.data.get("seconds")
            summary.phases.append(PhaseVerdict(str(event.data.get("phase")), str(event.data.get("verdict")),
                                               float(seconds) if isinstance(seconds, (int, float)) else None,
                                               event.data.get("agent")))
        elif event.kind in OUTCOME_KINDS:
            summary.outcome = str(event.data.get("outcome") or OUTCOME_KINDS[event.kind])
            phase, reason = event.data.get("phase"), str(event.data.get("reason") or "")
            summary.reason = f"{phase}: {reason}" if phase and reason else reason
    return by_task


def last_test_output(paths: RepoPaths, attempt_id: str, test_command: str, max_lines: int = 20,
                     red_command: str | None = None) -> str | None:
    """The end of the last run of ``test_command`` in the attempt's log (or of ``red_command``,
    `tdd.red_command`, whose `{changed_tests}` differ from run to run), or None without one."""
    log = paths.state_dir / "attempts" / f"{attempt_id}.log"
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    markers = [f"\n$ {test_command}\n"]
    red_prefix = (red_command or "").split("{changed_tests}")[0]
    if red_prefix.strip():
        markers.append(f"\n$ {red_prefix}")
    text = "\n" + text  # so a command on the first line is found as on any other
    start = max(text.rfind(marker) for marker in markers)  # each marker starts at a line's start
    if start == -1:
        return None
    lines: list[str] = []
    for line in text[text.index("\n", start + 1) + 1:].split("\n"):
        lines.append(line)
        if line.startswith(("[exit ", "[timed out ")):  # the verdict line written after every command
            break
    return "\n".join(lines[-max_lines:]).rstrip("\n")
