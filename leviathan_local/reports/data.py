"""A status report as data (schema `status_report.schema.json`, `schema_version` 1).

Built from the backlog as it is now, the event log's window (see `window`), the
previous report (for trends and the coverage change) and, when policy names one, a coverage
command. Rendering is elsewhere: markdown in `markdown`, the chart in `svg`.
"""

from __future__ import annotations

import re
from typing import Any

from leviathan_local import events
from leviathan_local.backlog.model import Status, Task
from leviathan_local.backlog.store import load_backlog
from leviathan_local.clock import format_timestamp, now, parse_timestamp
from leviathan_local.config.policy import Policy
from leviathan_local.config.policy_load import load_policy
from leviathan_local.engine.process import run_shell
from leviathan_local.planning.selection import select
from leviathan_local.planning.wsjf import Score, score_task
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.reports.window import AttemptSummary, attempts_in, cost_by_task, window
from leviathan_local.wording import agrees, plural

SCHEMA_VERSION = 1
WSJF_BUCKETS = ((0.0, 2.0), (2.0, 5.0), (5.0, 10.0), (10.0, 20.0), (20.0, None))
TOP_RANKED = 10
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")


def build_report(paths: RepoPaths, halt_reason: str | None = None, previous: dict[str, Any] | None = None,
                 run_window: bool = False) -> dict[str, Any]:
    """The report now; ``run_window``: cover the latest run rather than the time since ``previous``."""
    policy, tasks, moment = load_policy(paths), load_backlog(paths).tasks, now()
    logged = events.read_events(paths)
    seen = window(logged, from_kind="run.started") if run_window else \
        window(logged, after_seq=(previous or {}).get("events_through"))
    attempts = attempts_in(seen)
    succeeded = [a for a in attempts if a.outcome == "succeeded"]
    by_status = {status.value: sum(task.status is status for task in tasks) for status in Status}
    selection = select(tasks, policy, moment)
    open_tasks = [task for task in tasks if task.status not in (Status.DONE,)]
    scores = [score_task(task, policy, moment) for task in open_tasks]
    coverage = measure_coverage(paths, policy)
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "timestamp": format_timestamp(moment),
        "halt_reason": halt_reason,
        "events_through": logged[-1].seq if logged else 0,
        "completed_items": sorted({a.task for a in succeeded}),
        "items_processed": len({a.task for a in attempts}),
        "items_completed": len({a.task for a in succeeded}),
        "items_blocked": by_status[Status.BLOCKED.value],
        "cycle_time_avg": cycle_time_avg(logged, succeeded),
        "backlog_size_by_status": by_status,
        "wsjf_distribution": _buckets([score.value for score in scores]),
        "top_ranked": [{"id": r.task.id, "title": r.task.title, "score": round(r.score.value, 2)}
                       for r in selection.actionable[:TOP_RANKED]],
        "blocked": [{"id": t.id, "type": t.get("blocked_type"), "reason": t.get("blocked_reason")}
                    for t in tasks if t.status is Status.BLOCKED],
        "escalations": escalations(open_tasks, scores),
        "attempts": [attempt.as_json() for attempt in attempts],
        "cost": cost_by_task(attempts),
        "coverage": coverage,
        "coverage_delta": _delta(coverage, (previous or {}).get("coverage")),
    }
    report["trends"] = _trends(report, tasks_total=len(tasks), previous=previous)
    report["risks"] = risks(report, policy)
    return report


def is_run_report(report: dict[str, Any]) -> bool:
    """A report a run wrote at its halt names its `halt_reason`; one written on demand
    (`leviathan status`, the app's `g`) has none and covers no run."""
    return bool(report.get("halt_reason"))


def cycle_time_avg(logged: list[events.Event], succeeded: list[AttemptSummary]) -> float | None:
    """The mean seconds, over ``succeeded`` attempts, from each one's `attempt.started` event to
    its commit (the end of its commit phase; its `attempt.succeeded` event if it logged none).

    Event timestamps have whole seconds, which suits attempts that take minutes; the whole log
    is searched, since an attempt may have started before the report's window.
    """
    started: dict[str, str] = {}
    committed: dict[str, str] = {}
    for event in logged:
        attempt = event.data.get("attempt")
        if event.kind == "attempt.started":
            started[attempt] = event.ts
        elif event.kind == "phase.finished" and event.data.get("phase") == "commit":
            committed[attempt] = event.ts
        elif event.kind == "attempt.succeeded":
            committed.setdefault(attempt, event.ts)
    spans = [(parse_timestamp(committed[a.id]) - parse_timestamp(started[a.id])).total_seconds()
             for a in succeeded if a.id in started and a.id in committed]
    return round(sum(spans) / len(spans), 3) if spans else None


def escalations(open_tasks: list[Task], scores: list[Score]) -> list[dict[str, Any]]:
    """Tasks waiting for a human decision: escalation rules that match (not yet approved), and
    tasks an attempt blocked as `escalation` (a `manual` agent in a headless run)."""
    found = []
    for task, score in zip(open_tasks, scores):
        reasons = list(score.escalations)
        if task.status is Status.BLOCKED and task.get("blocked_type") == "escalation":
            reasons.append(str(task.get("blocked_reason") or "blocked for a human decision"))
        if reasons:
            found.append({"id": task.id, "reasons": reasons})
    return found


def measure_coverage(paths: RepoPaths, policy: Policy) -> float | None:
    """The last percentage the policy's coverage command prints (None without one, or on failure)."""
    command = policy.reports.coverage_command
    if not command:
        return None
    result = run_shell(command, paths.root, None, policy.limits.attempt_timeout_seconds)
    found = _PERCENT.findall(result.output) if result.passed else []
    return float(found[-1]) if found else None


def _buckets(values: list[float]) -> dict[str, int]:
    return {(f"{low:g}-{high:g}" if high is not None else f"{low:g}+"):
            sum(low <= value < (high if high is not None else float("inf")) for value in values)
            for low, high in WSJF_BUCKETS}


def _delta(current: float | None, before: Any) -> float | None:
    return round(current - float(before), 2) if current is not None and isinstance(before, (int, float)) else None


def _trends(report: dict[str, Any], tasks_total: int, previous: dict[str, Any] | None) -> dict[str, Any]:
    done = report["backlog_size_by_status"][Status.DONE.value]
    rate = round(done / tasks_total, 4) if tasks_total else 0.0
    before = (previous or {}).get("trends", {})
    old_rate = (before.get("completion_rate") or {}).get("current")
    old_blocked = (previous or {}).get("items_blocked")
    return {
        "previous_timestamp": (previous or {}).get("timestamp"),
        "completion_rate": {"current": rate, "previous": old_rate,
                            "change": round(rate - old_rate, 4) if old_rate is not None else None},
        "blocked": {"current": report["items_blocked"], "previous": old_blocked,
                    "change": report["items_blocked"] - old_blocked if old_blocked is not None else None},
    }


def risks(report: dict[str, Any], policy: Policy) -> list[str]:
    """What a reader should look at first, most pressing first."""
    found = []
    if report["halt_reason"] in ("CircuitBreakerTripped", "TargetBlocked"):
        found.append(f"the run halted with {report['halt_reason']}")
    exhausted = [b["id"] for b in report["blocked"] if b["type"] == "attempts_exhausted"]
    if exhausted:
        found.append(f"{plural(len(exhausted), 'task')} used up {agrees(len(exhausted), 'its', 'their')} attempts: "
                     f"{', '.join(exhausted)}")
    failed = [a for a in report["attempts"] if a["outcome"] == "failed"]
    if failed:
        found.append(f"{len(failed)} of {plural(len(report['attempts']), 'attempt')} failed in this window")
    if report["escalations"]:
        escalated = len(report["escalations"])
        found.append(f"{plural(escalated, 'task')} {agrees(escalated, 'waits', 'wait')} "
                     "for a human decision (escalated)")
    reviews = report["backlog_size_by_status"][Status.REVIEW.value]
    if reviews >= policy.limits.max_open_reviews:
        found.append(f"{plural(reviews, 'branch', 'branches')} {agrees(reviews, 'waits', 'wait')} for review, "
                     "the limit (max_open_reviews) is reached")
    if report["coverage_delta"] is not None and report["coverage_delta"] < 0:
        found.append(f"coverage fell by {-report['coverage_delta']:g} points")
    return found
