"""How a run ends: its halt reasons and exit codes, its report, and the halt's backlog commit.

On every halt, after the last attempt stopped: commit `.leviathan/backlog.yaml` if and only
if it is dirty, staging nothing else (seed 002).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from leviathan_local.backlog.store import load_backlog
from leviathan_local.config.policy_load import load_policy
from leviathan_local.engine.attempt_state import AttemptResult
from leviathan_local.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_REVIEW_LIMIT, EXIT_WORK_FAILED
from leviathan_local.git.repo import RepoPaths, commit_files, file_is_dirty
from leviathan_local.wording import plural

log = logging.getLogger(__name__)
BACKLOG_PATH = ".leviathan/backlog.yaml"


class HaltReason(StrEnum):
    ALL_DONE_OR_BLOCKED = "AllDoneOrBlocked"
    CAP_REACHED = "CapReached"
    BUDGET_REACHED = "BudgetReached"  # limits.max_cost_usd_per_run
    CIRCUIT_BREAKER_TRIPPED = "CircuitBreakerTripped"
    SHUTDOWN_REQUESTED = "ShutdownRequested"
    TARGET_COMPLETED = "TargetCompleted"
    TARGET_BLOCKED = "TargetBlocked"
    FILTER_EXHAUSTED = "FilterExhausted"
    NO_MATCHING_ITEMS = "NoMatchingItems"
    REVIEW_LIMIT_REACHED = "ReviewLimitReached"  # tasks are ready, but max_open_reviews branches wait


EXIT_CODES = {
    HaltReason.CIRCUIT_BREAKER_TRIPPED: EXIT_WORK_FAILED,
    HaltReason.TARGET_BLOCKED: EXIT_WORK_FAILED,
    HaltReason.SHUTDOWN_REQUESTED: EXIT_INTERRUPTED,
    HaltReason.REVIEW_LIMIT_REACHED: EXIT_REVIEW_LIMIT,
}


@dataclass
class RunReport:
    halt_reason: HaltReason | None = None
    halt_detail: str = ""  # what stopped it and what to do, where the reason alone does not say
    attempts: list[AttemptResult] = field(default_factory=list)
    halt_commit: str | None = None
    notes: list[str] = field(default_factory=list)
    report_files: tuple[str, ...] = ()  # the status report this run wrote
    spent_usd: float = 0.0  # what its attempts' agents cost, as far as known

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.halt_reason, EXIT_OK)

    def halt_line(self) -> str:
        """`Halted: <Reason>`, with what stopped the run and what to do where the reason needs it."""
        reason = self.halt_reason.value if self.halt_reason else "Error"
        return f"Halted: {reason}" + (f": {self.halt_detail}" if self.halt_detail else "")


def review_limit_detail(open_reviews: int, limit: int, ready: int) -> str:
    waits = "1 branch waits" if open_reviews == 1 else f"{open_reviews} branches wait"
    return (f"{waits} for review and max_open_reviews is {limit}, so {plural(ready, 'ready task')} did not start; "
            "approve or reject (`leviathan review`, then `leviathan merge ID` or `leviathan reject ID --reason ...`), "
            "or raise limits.max_open_reviews in .leviathan/policy.yaml")


def write_run_report(paths: RepoPaths, reason: str, report: RunReport,
                     halt_report: Callable[[RepoPaths, str], tuple[str, ...]] | None) -> list[str]:
    """Write the run's status report; the files to commit with the halt, if policy says so.
    A report that cannot be written is a warning: it never stops the halt commit."""
    if halt_report is None:
        return []
    try:
        written = halt_report(paths, reason)
        commit_reports = load_policy(paths).reports.commit
    except Exception as error:  # noqa: BLE001 - a report must never break a run
        message = f"warning: status report not written: {error}"
        log.warning(message)
        report.notes.append(message)
        return []
    report.report_files = written
    return list(written) if commit_reports else []


def commit_backlog_on_halt(paths: RepoPaths, reason: str, report: RunReport, also: list[str] = ()) -> str | None:
    """Commit the backlog alone iff it is dirty (plus ``also``, the run's report when policy
    commits reports); a git failure is a warning, never a crash."""
    try:
        load_backlog(paths)  # never commit a file that does not load (a human may be mid-edit)
        files = ([BACKLOG_PATH] if file_is_dirty(paths, BACKLOG_PATH) else []) + list(also)
        if not files:
            return None
        commit = commit_files(paths, files, f"[leviathan] Save backlog state on halt ({reason})")
        if commit is None:
            return None  # dirty by status only (staged, then changed back): nothing to save
    except Exception as error:  # noqa: BLE001 - whatever git says, the halt must finish cleanly
        message = f"warning: backlog not committed on halt: {error}"
        log.warning(message)
        report.notes.append(message)
        return None
    log.info("committed the backlog on halt (%s): %s", reason, commit[:12])
    return commit
