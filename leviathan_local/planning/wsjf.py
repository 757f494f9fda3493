"""WSJF: score = (impact + time_criticality + risk_reduction) × aging / effort.

aging = min(1 + aging_per_day × days since created_at, aging_cap). Missing inputs are
estimated (and reported as estimates); every score can be explained term by term.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from leviathan_local.backlog.model import Task
from leviathan_local.config import globs
from leviathan_local.config.policy import Policy

IMPACT_KEYWORDS = (
    (8, ("security", "vulnerability", "critical", "crash", "performance")),
    (5, ("bug", "error", "fix", "improvement")),
    (3, ("documentation", "docs", "cleanup", "minor")),
)
DEFAULT_IMPACT = 5
TIME_CRITICALITY_BY_PRIORITY = {"high": 8, "medium": 5, "low": 2}
DEFAULT_TIME_CRITICALITY = 3
RISK_REDUCTION_BY_TYPE = {"security": 8, "bug": 5, "test": 3, "performance": 3}
DEFAULT_RISK_REDUCTION = 2
EFFORT_BY_SIZE = {"xs": 1, "s": 2, "small": 2, "m": 3, "medium": 3, "l": 5, "large": 5, "xl": 8}
DEFAULT_EFFORT = 3


@dataclass(frozen=True)
class Score:
    value: float
    terms: dict[str, Any]
    estimated: tuple[str, ...] = ()
    estimate_reasons: dict[str, str] = field(default_factory=dict)
    split_suggested: bool = False
    escalations: tuple[str, ...] = ()
    escalation_approved: bool = False


@dataclass(frozen=True)
class _Inputs:
    """The parts of a score that do not depend on the clock."""

    impact: int
    criticality: int
    risk: int
    effort: int
    reasons: dict[str, str]
    split_suggested: bool
    escalations: tuple[str, ...]
    approved: bool


# id(task.data) -> (task.data, policy settings, inputs). A backlog load reuses the parsed
# fields of every unchanged task, so a reload (the app's, on each save) scores only what changed.
_INPUTS_MEMO: dict[int, tuple[dict, tuple, _Inputs]] = {}
_INPUTS_MEMO_LIMIT = 50_000


def score_task(task: Task, policy: Policy, now: datetime) -> Score:
    inputs = _inputs(task, policy)
    reasons = inputs.reasons
    created = task.created_at
    days_old = max((now - created).total_seconds() / 86400, 0.0) if created else 0.0
    if created is None:
        reasons = {**reasons, "created_at": "no created_at: age taken as 0 days"}
    settings = policy.wsjf
    aging = min(1 + settings.aging_per_day * days_old, settings.aging_cap)
    impact, criticality, risk, effort = inputs.impact, inputs.criticality, inputs.risk, inputs.effort
    value = (impact + criticality + risk) * aging / effort
    terms = {
        "impact": impact, "time_criticality": criticality, "risk_reduction": risk, "effort": effort,
        "days_old": round(days_old, 3), "aging": round(aging, 4),
        "aging_per_day": settings.aging_per_day, "aging_cap": settings.aging_cap,
        "formula": f"({impact} + {criticality} + {risk}) × {aging:.2f} / {effort}",
    }
    return Score(value, terms, tuple(reasons), reasons, inputs.split_suggested, inputs.escalations, inputs.approved)


def _inputs(task: Task, policy: Policy) -> _Inputs:
    settings = (policy.wsjf, policy.escalation)
    known = _INPUTS_MEMO.get(id(task.data))
    if known is not None and known[0] is task.data and known[1] == settings:
        return known[2]
    reasons: dict[str, str] = {}
    impact = _given_or(task, "impact", reasons, lambda: _impact_estimate(task))
    criticality = _given_or(task, "time_criticality", reasons, lambda: _criticality_estimate(task))
    risk = _given_or(task, "risk_reduction", reasons, lambda: _risk_estimate(task))
    effort = _given_or(task, "effort", reasons, lambda: _effort_estimate(task))
    escalations = escalation_reasons(task, policy, effort)
    approved = bool(task.get("escalation_approved_at")) and bool(escalations)
    inputs = _Inputs(impact, criticality, risk, effort, reasons, effort > policy.wsjf.slice_threshold,
                     () if approved else escalations, approved)
    if len(_INPUTS_MEMO) >= _INPUTS_MEMO_LIMIT:
        _INPUTS_MEMO.clear()
    _INPUTS_MEMO[id(task.data)] = (task.data, settings, inputs)
    return inputs


def _given_or(task: Task, name: str, reasons: dict[str, str], estimate) -> int:
    given = task.get(name)
    if given is not None:
        return int(given)
    value, why = estimate()
    reasons[name] = why
    return value


def _impact_estimate(task: Task) -> tuple[int, str]:
    found = _words_found(f"{task.title} {task.description}", _IMPACT_WORDS)
    for value, keywords in IMPACT_KEYWORDS:
        for keyword in keywords:
            if keyword in found:
                return value, f'keyword "{keyword}"'
    return DEFAULT_IMPACT, "no keyword matched"


def _criticality_estimate(task: Task) -> tuple[int, str]:
    priority = str(task.get("priority") or "").lower()
    if priority in TIME_CRITICALITY_BY_PRIORITY:
        return TIME_CRITICALITY_BY_PRIORITY[priority], f"priority {priority}"
    return DEFAULT_TIME_CRITICALITY, "no priority"


def _risk_estimate(task: Task) -> tuple[int, str]:
    kind = task.type or ""
    if kind in RISK_REDUCTION_BY_TYPE:
        return RISK_REDUCTION_BY_TYPE[kind], f"type {kind}"
    return DEFAULT_RISK_REDUCTION, f"type {kind}" if kind else "no type"


def _effort_estimate(task: Task) -> tuple[int, str]:
    size = str(task.get("estimated_size") or "").lower()
    if size in EFFORT_BY_SIZE:
        return EFFORT_BY_SIZE[size], f"estimated_size {size}"
    return DEFAULT_EFFORT, "no estimated_size"


@lru_cache(maxsize=64)
def _keyword_pattern(keywords: tuple[str, ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    # Word prefixes, case-insensitive: "auth" also finds "authentication". Longest first, so
    # that one search finds every keyword present.
    ordered = sorted({k.lower() for k in keywords}, key=len, reverse=True)
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, ordered)) + ")", re.IGNORECASE)
    return pattern, {k.lower(): k for k in keywords}


def _words_found(text: str, keywords: tuple[str, ...]) -> set[str]:
    """Which of ``keywords`` occur in ``text`` as word prefixes (one regex pass)."""
    if not text or not keywords:
        return set()
    pattern, original = _keyword_pattern(keywords)
    return {original[hit.lower()] for hit in pattern.findall(text)}


_IMPACT_WORDS = tuple(keyword for _, keywords in IMPACT_KEYWORDS for keyword in keywords)


def escalation_reasons(task: Task, policy: Policy, effort: int) -> tuple[str, ...]:
    rules = policy.escalation
    found = []
    if effort >= rules.effort_at_least:
        found.append(f"effort {effort} >= {rules.effort_at_least}")
    if task.type in rules.types:
        found.append(f"type {task.type}")
    searchable = {"title": task.title, "description": task.description, "tags": " ".join(task.tags)}
    if not _words_found("\n".join(searchable.values()), rules.keywords):
        hits: dict[str, set[str]] = {}  # the common case: one search, no keyword anywhere
    else:
        hits = {name: _words_found(text, rules.keywords) for name, text in searchable.items()}
    for keyword in rules.keywords:
        where = [name for name, words in hits.items() if keyword in words]
        if where:
            found.append(f'keyword "{keyword}" in {", ".join(where)}')
    for path in task.allowed_paths:
        for pattern in rules.paths:
            if globs.overlaps(path, pattern):
                found.append(f"path {path} touches escalation path {pattern}")
    return tuple(found)


def explain(score: Score) -> list[str]:
    terms = score.terms
    lines = []
    for name in ("impact", "time_criticality", "risk_reduction", "effort"):
        reason = score.estimate_reasons.get(name)
        lines.append(f"{name} {terms[name]}" + (f" (estimated: {reason})" if reason else ""))
    age_note = f" (estimated: {score.estimate_reasons['created_at']})" if "created_at" in score.estimate_reasons else ""
    lines.append(f"aging {terms['aging']:.2f} = min(1 + {terms['aging_per_day']:g} × {terms['days_old']:g} days, "
                 f"{terms['aging_cap']:g}){age_note}")
    lines.append(f"score {score.value:.3f} = {terms['formula']}")
    if score.split_suggested:
        lines.append(f"split suggested: effort {terms['effort']} is above the slice threshold")
    if score.escalation_approved:
        lines.append("escalation rules matched, approved by a human (escalation_approved_at)")
    lines.extend(f"escalated: {reason}" for reason in score.escalations)
    return lines


def ranking_key(task: Task, score: Score) -> tuple:
    """Higher score first, then the older task, then id; tasks without created_at come last."""
    created = task.created_at
    return (-score.value, created is None, created.timestamp() if created else 0.0, task.id)
