"""Tasks and their state machine, independent of how the backlog file is laid out.

Two dialects load unchanged: Leviathan's (``task_id``/``id``, ``ready: true`` + ``status:
pending``, ``completed``) and the executor's (``NEW``…``DONE`` in any case). Writes keep the
dialect and the letter case each task already uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from leviathan_local.clock import parse_timestamp


class Status(StrEnum):
    NEW = "new"
    REFINED = "refined"
    READY = "ready"
    DOING = "doing"
    REVIEW = "review"
    DONE = "done"
    BLOCKED = "blocked"


STATUS_ALIASES: dict[str, Status] = {
    **{status.value: status for status in Status},
    "completed": Status.DONE,
    "merged": Status.DONE,
    "pr": Status.REVIEW,
}
PENDING = "pending"  # Leviathan dialect: ready or new depending on the `ready` flag
BLOCKED_TYPES = ("clarification", "decision", "escalation", "attempts_exhausted", "budget")
TASK_TYPES = ("feature", "bug", "refactor", "security", "docs", "test", "performance", "chore")
WSJF_INPUTS = ("impact", "time_criticality", "risk_reduction", "effort")

# Fields the tool may write; everything else belongs to the human.
TOOL_FIELDS = (
    "status", "ready", "attempts", "last_attempt_id", "branch_name", "blocked_reason",
    "blocked_type", "blocked_from", "completed_at", "escalation_approved_at", "source", "review_feedback",
)
FIELD_ALIASES = {"task_id": "id", "task_type": "type"}
_ALIAS_OF = {canonical: alias for alias, canonical in FIELD_ALIASES.items()}
_MISSING = object()
KNOWN_FIELDS = (
    "id", "title", "description", "type", "status", "ready", *WSJF_INPUTS, "priority",
    "estimated_size", "scope", "allowed_paths", "acceptance_criteria", "dependencies", "steps",
    "tags", "links", "security_notes", "test_notes", "created_at", "updated_at", "pr_number",
    *TOOL_FIELDS, *FIELD_ALIASES,
    # Computed by other tools (seed 003's executor); read and ignored, recomputed here.
    "wsjf_score", "aging_multiplier",
)


def parse_status(raw: Any, ready_flag: Any) -> Status | None:
    """Canonical status, or None when ``raw`` names no known status."""
    if raw is None:
        return Status.READY if ready_flag is True else Status.NEW
    text = str(raw).strip().lower()
    if text == PENDING:
        return Status.READY if ready_flag is True else Status.NEW
    return STATUS_ALIASES.get(text)


@dataclass
class Task:
    """One backlog entry: its fields as written, plus where they are in the file."""

    id: str
    data: dict[str, Any]
    status: Status
    line: int = 0  # 1-based line of the task in backlog.yaml
    # field -> (lines below the task's first line, 1-based column); relative so that a
    # task's cached parse stays valid when an edit above it moves it down the file.
    field_positions: dict[str, tuple[int, int]] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        """A field by its canonical name, also when written under an alias (`task_id`)."""
        value = self.data.get(name, _MISSING)
        if value is not _MISSING:
            return value
        alias = _ALIAS_OF.get(name)
        if alias is not None and alias in self.data:
            return self.data[alias]
        return default

    @property
    def dialect(self) -> str:
        raw = str(self.data.get("status", "")).lower()
        if "ready" in self.data or "task_id" in self.data or raw in (PENDING, "completed"):
            return "leviathan"
        return "executor"

    @property
    def title(self) -> str:
        return str(self.get("title") or "")

    @property
    def description(self) -> str:
        return str(self.get("description") or "")

    @property
    def type(self) -> str | None:
        value = self.get("type")
        return str(value).lower() if value is not None else None

    @property
    def allowed_paths(self) -> list[str]:
        return [str(p) for p in self.get("allowed_paths") or []]

    @property
    def acceptance_criteria(self) -> list[str]:
        return [str(c) for c in self.get("acceptance_criteria") or []]

    @property
    def dependencies(self) -> list[str]:
        return [str(d) for d in self.get("dependencies") or []]

    @property
    def tags(self) -> list[str]:
        return [str(t) for t in self.get("tags") or []]

    @property
    def attempts(self) -> int:
        return int(self.get("attempts") or 0)

    @cached_property
    def created_at(self) -> datetime | None:
        # Cached: ranking, aging and the board each read it (a Task is rebuilt on every load).
        value = self.get("created_at")
        return parse_timestamp(str(value)) if value else None

    def position(self, name: str) -> tuple[int, int]:
        """(line, column) of a field, or of the task's first field when it is absent."""
        offset, column = self.field_positions.get(name) or next(iter(self.field_positions.values()), (0, 1))
        return self.line + offset, column


def status_fields(task: Task, status: Status) -> dict[str, Any]:
    """The fields that record ``status`` in the task's own dialect and letter case."""
    if task.dialect == "leviathan":
        if status is Status.READY:
            return {"status": PENDING, "ready": True}
        if status is Status.NEW:
            return {"status": PENDING, "ready": False}
        name = "completed" if status is Status.DONE else status.value
        return {"status": name, "ready": False}
    raw = str(task.data.get("status") or "")
    return {"status": status.value.upper() if raw.isupper() else status.value}
