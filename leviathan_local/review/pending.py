"""What waits for review: each `review` task's branch, attempt, changes, phases and gates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leviathan_local import events
from leviathan_local.backlog.model import Status, Task
from leviathan_local.backlog.store import load_backlog
from leviathan_local.config.contract import load_contract
from leviathan_local.engine.evidence import Evidence, parse_trailers
from leviathan_local.errors import BacklogError
from leviathan_local.git.merge import FileStat, branch_exists, commit_message, diff_stats, merge_base
from leviathan_local.git.repo import RepoPaths, branch_head
from leviathan_local.planning.attempt_history import attempts_by_task, task_cost_usd
from leviathan_local.planning.cost import phase_cost, phases_total, usd_text
from leviathan_local.wording import plural


@dataclass
class ReviewItem:
    task_id: str
    title: str
    branch: str
    attempt_id: str | None
    base: str | None = None
    head: str | None = None
    files: list[FileStat] = field(default_factory=list)
    phases: list[dict[str, Any]] = field(default_factory=list)
    gates: list[str] = field(default_factory=list)
    problem: str | None = None  # why the branch cannot be shown (deleted by hand, ...)
    # The agents' cost (None: unknown, no phase reported one): this attempt's, and the task's so far
    # over all its attempts (failed ones too: they were paid for).
    attempt_cost_usd: float | None = None
    task_cost_usd: float | None = None
    task_attempts: int = 0
    evidence: list[Evidence] = field(default_factory=list)  # read back from the branch's commit trailers

    def cost_summary(self) -> str:
        """`this attempt $0.0300, the task so far $0.0500 (2 attempts)`"""
        return (f"this attempt {usd_text(self.attempt_cost_usd)}, the task so far {usd_text(self.task_cost_usd)}"
                f" ({plural(self.task_attempts, 'attempt')})")


def evidence_lines(item: ReviewItem) -> list[str]:
    """`green                exit=0 passed=3 ...`: one line per check, as its commit trailer says."""
    width = max((len(evidence.label()) for evidence in item.evidence), default=0)
    return [f"{evidence.label():<{width}}  {evidence.fields_text(with_name=False)}" for evidence in item.evidence]


def list_reviews(paths: RepoPaths) -> list[ReviewItem]:
    tasks = [task for task in load_backlog(paths).tasks if task.status is Status.REVIEW]
    if not tasks:
        return []
    default = load_contract(paths).default_branch
    logged = events.read_events(paths)
    succeeded = {event.data.get("attempt"): event for event in logged if event.kind == "attempt.succeeded"}
    history = attempts_by_task(logged)
    items = [_item(paths, task, default, succeeded) for task in tasks]
    for item in items:
        tried = history.get(item.task_id, [])
        item.task_cost_usd, item.task_attempts = task_cost_usd(tried), len(tried)
    return items


def review_task(paths: RepoPaths, task_id: str, need_branch: bool = True) -> Task:
    """The task, checked to be waiting for review (on a branch that exists, if ``need_branch``:
    approving needs it; rejecting does not, since a branch deleted by hand must not strand the task)."""
    task = load_backlog(paths).task(task_id)
    if task.status is not Status.REVIEW:
        raise BacklogError(f"task {task_id!r} is {task.status.value}, not waiting for review",
                           hint="`leviathan review` lists the tasks that wait for review")
    branch = task.get("branch_name")
    if need_branch and not review_branch_exists(paths, task):
        raise BacklogError(f"task {task_id!r} names branch {branch!r}, which does not exist",
                           hint=f"reject it (`leviathan reject {task_id} --reason ...`) so it runs again")
    return task


def review_branch_exists(paths: RepoPaths, task: Task) -> bool:
    branch = task.get("branch_name")
    return bool(branch) and branch_exists(paths, str(branch))


def _item(paths: RepoPaths, task: Task, default: str, succeeded: dict[Any, events.Event]) -> ReviewItem:
    branch, attempt_id = str(task.get("branch_name") or ""), task.get("last_attempt_id")
    item = ReviewItem(task.id, task.title, branch, attempt_id)
    event = succeeded.get(attempt_id)
    if event is not None:
        item.phases = list(event.data.get("phases") or [])
        item.gates = list(event.data.get("gates") or [])
        item.attempt_cost_usd = phases_total(phase_cost(phase) for phase in item.phases if isinstance(phase, dict))
    if not review_branch_exists(paths, task):
        item.problem = (f"branch {branch or '(none)'} does not exist (deleted by hand?): there is nothing "
                        f"to merge; reject it so it runs again")
        return item
    item.head = branch_head(paths, branch)
    item.evidence = parse_trailers(commit_message(paths, item.head))
    recorded = event.data.get("base") if event is not None else None
    item.base = recorded or merge_base(paths, branch_head(paths, default), item.head)
    if item.base:
        item.files = diff_stats(paths, item.base, item.head)
    return item
