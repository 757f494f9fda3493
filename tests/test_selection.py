from __future__ import annotations

from datetime import datetime, timezone

from leviathan_local.backlog.model import Status, Task, parse_status
from leviathan_local.config.policy import Limits, Policy, Scope
from leviathan_local.planning.selection import select

NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
GOOD = {"allowed_paths": ["src/"], "acceptance_criteria": ["works"], "effort": 2}


def task(task_id: str, **data) -> Task:
    data = {"id": task_id, "status": "ready", **GOOD, **data}
    return Task(id=task_id, data=data, status=parse_status(data.get("status"), data.get("ready")))


def reasons(tasks: list[Task], policy: Policy = Policy()) -> dict[str, str]:
    return {skipped.task.id: skipped.reason for skipped in select(tasks, policy, NOW).skipped}


def test_each_skip_reason() -> None:
    policy = Policy(scopes={"docs": Scope("docs", ("docs/",), tdd=False)}, forbidden_patterns=(".github/**",),
                    limits=Limits(max_attempts_per_task=2))
    tasks = [
        task("ok"),
        task("done", status="done"),
        task("blocked", status="blocked", blocked_reason="waiting"),
        task("new", status="new"),
        task("vague", acceptance_criteria=[]),
        task("dep", dependencies=["new"]),
        task("dep-done", dependencies=["done"]),
        task("unknown-scope", scope="infra"),
        task("outside-scope", scope="docs", allowed_paths=["src/"]),
        task("in-scope", scope="docs", allowed_paths=["docs/guide.md"]),
        task("scope-paths", scope="docs", allowed_paths=[]),
        task("nothing", allowed_paths=[]),
        task("workflows", allowed_paths=[".github/workflows/ci.yml"]),
        task("own-backlog", allowed_paths=[".leviathan/"]),
        task("tired", attempts=2),
        task("big", effort=13),
    ]
    assert reasons(tasks, policy) == {
        "done": "status", "blocked": "status", "new": "not_ready", "vague": "not_ready", "dep": "deps",
        "unknown-scope": "scope", "outside-scope": "scope", "nothing": "scope",
        "workflows": "forbidden_path", "own-backlog": "forbidden_path", "tired": "attempts_exhausted",
        "big": "escalated",
    }
    actionable = [ranked.task.id for ranked in select(tasks, policy, NOW).actionable]
    assert sorted(actionable) == ["dep-done", "in-scope", "ok", "scope-paths"]


def test_skip_details_explain_themselves() -> None:
    skipped = {s.task.id: s.detail for s in select([task("a", dependencies=["b"]), task("b", status="new")],
                                                   Policy(), NOW).skipped}
    assert skipped["a"] == "waits for b (new)"


def test_leviathan_dialect_pending_with_ready_flag_is_actionable() -> None:
    tasks = [task("lev", status="pending", ready=True), task("lev-no", status="pending")]
    selection = select(tasks, Policy(), NOW)
    assert [r.task.id for r in selection.actionable] == ["lev"]
    assert reasons(tasks) == {"lev-no": "not_ready"}


def test_scope_is_a_label_when_policy_defines_no_scopes() -> None:
    assert reasons([task("labelled", scope="observability")]) == {}


def test_first_failing_reason_wins() -> None:
    assert reasons([task("x", status="new", attempts=5, effort=13)]) == {"x": "not_ready"}
