"""Which tasks may run now, in WSJF order, and why every other task is skipped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from leviathan_local.backlog.model import Status, Task
from leviathan_local.config import globs
from leviathan_local.config.policy import Policy, Scope
from leviathan_local.planning.wsjf import Score, ranking_key, score_task

# Skip reasons, in the order they are checked: the first that applies is reported.
SKIP_REASONS = ("status", "not_ready", "deps", "scope", "forbidden_path", "attempts_exhausted", "escalated")


@dataclass(frozen=True)
class Ranked:
    task: Task
    score: Score
    rank: int


@dataclass(frozen=True)
class Skipped:
    task: Task
    reason: str
    detail: str
    # Scoring is the expensive part, so tasks that cannot run for other reasons are not scored.
    score: Score | None = None


@dataclass(frozen=True)
class Selection:
    actionable: list[Ranked]
    skipped: list[Skipped]


def select(tasks: list[Task], policy: Policy, now: datetime) -> Selection:
    statuses = {task.id: task.status for task in tasks}
    candidates: list[tuple[Task, Score]] = []
    skipped: list[Skipped] = []
    for task in tasks:
        verdict = skip_reason(task, policy, statuses)
        if verdict is not None:
            skipped.append(Skipped(task, *verdict))
            continue
        score = score_task(task, policy, now)
        if score.escalations:
            detail = "; ".join(score.escalations) + f" (a human decides: `leviathan ready {task.id} --approve-escalation`)"
            skipped.append(Skipped(task, "escalated", detail, score))
        else:
            candidates.append((task, score))
    candidates.sort(key=lambda pair: ranking_key(*pair))
    actionable = [Ranked(task, score, rank) for rank, (task, score) in enumerate(candidates, start=1)]
    return Selection(actionable, skipped)


def skip_reason(task: Task, policy: Policy, statuses: dict[str, Status]) -> tuple[str, str] | None:
    """Why ``task`` cannot run, apart from escalation (which needs its score)."""
    if task.status in (Status.DOING, Status.REVIEW, Status.DONE, Status.BLOCKED):
        reason = task.get("blocked_reason")
        return "status", f"status is {task.status.value}" + (f": {reason}" if reason else "")
    if task.status is not Status.READY:
        return "not_ready", f"status is {task.status.value}; `leviathan ready {task.id}` when it is refined"
    if not task.acceptance_criteria:
        return "not_ready", "no acceptance_criteria: nothing could verify it"
    waiting = [f"{dep} ({statuses[dep].value})" if dep in statuses else f"{dep} (unknown)"
               for dep in task.dependencies if statuses.get(dep) is not Status.DONE]
    if waiting:
        return "deps", "waits for " + ", ".join(waiting)
    scope, problem = _scope_problem(task, policy)
    if problem:
        return "scope", problem
    paths = policy.paths_for(task.allowed_paths, scope)
    for path in paths:
        for pattern in policy.forbidden_for(scope):
            if globs.within(path, pattern):
                return "forbidden_path", f"{path} is inside forbidden pattern {pattern}"
    if task.attempts >= policy.limits.max_attempts_per_task:
        return "attempts_exhausted", f"{task.attempts} of {policy.limits.max_attempts_per_task} attempts used"
    return None


def _scope_problem(task: Task, policy: Policy) -> tuple[Scope | None, str | None]:
    name = task.get("scope")
    scope = policy.scope_named(name)
    if name is not None and scope is None and policy.scopes:
        known = ", ".join(sorted(policy.scopes)) or "none"
        return None, f"scope {name!r} is not defined in policy.yaml (defined: {known})"
    if not task.allowed_paths and scope is None:
        return None, "no allowed_paths and no scope: the task may change nothing"
    if scope is not None:
        outside = [p for p in task.allowed_paths if not any(globs.within(p, s) for s in scope.allowed_paths)]
        if outside:
            return scope, f"{', '.join(outside)} outside scope {scope.name!r} ({', '.join(scope.allowed_paths)})"
    return scope, None
