"""The cost ledger's reading side: each agent phase's tokens and cost, read from a real event log,
in the attempt history, the board, `leviathan review` and the status report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import jsonschema
import pytest
from conftest import FIXED_NOW, git, write
from engine_fixtures import make_project, task_yaml
from ledger_fixtures import log_attempt
from test_cli import run_cli
from test_reports import SCHEMA, latest, reports_dir

from leviathan_local import events
from leviathan_local.backlog.store import update_task
from leviathan_local.clock import parse_timestamp
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.git.repo import RepoPaths, find_repo
from leviathan_local.planning.attempt_history import attempts_by_task, task_cost_usd
from leviathan_local.planning.board import load_board, sort_rows
from leviathan_local.planning.cost import PhaseCost, phase_cost, total, usd_text
from leviathan_local.reports.svg import COST_COLOUR

RED = {"session": "s-1", "tokens_in": 1200, "tokens_out": 80, "cost_usd": 0.0042, "cost_source": "agent"}
GREEN_NO_COST = {"session": "s-1", "tokens_in": 2100, "tokens_out": 150}  # the agent said no price
RED_2 = {"session": "s-2", "tokens_in": 3500, "tokens_out": 100, "cost_usd": 0.012, "cost_source": "agent"}
GREEN_2 = {"session": "s-2", "tokens_in": 5200, "tokens_out": 640, "cost_usd": 0.0315, "cost_source": "prices"}
PAID_FIRST, PAID_SECOND, PAID_SO_FAR = 0.0042, 0.0435, 0.0477


@pytest.fixture
def ledger(git_repo: Path) -> RepoPaths:
    """`add` ran for real with a `command` agent (no agent field: unknown cost) and waits for review;
    `paid` failed once, then succeeded, with an agent that reported its use; `later` never ran."""
    root = make_project(git_repo, task_yaml("add") + task_yaml("paid", allowed="[paid.py, tests/]")
                       + task_yaml("later"))
    paths = find_repo(root)
    base = git(root, "rev-parse", "main").strip()
    git(root, "switch", "-qc", "agent/paid-bbbbbb")  # paid's branch first, while the checkout is clean
    write(root / "paid.py", "PAID = True\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "paid")
    head = git(root, "rev-parse", "HEAD").strip()
    git(root, "switch", "-q", "main")
    assert run_attempt(paths, "add").outcome == "succeeded"
    log_attempt(paths, "paid", "attempt-paid-aaaaaa",
                [("red", "passed", 0.4, RED), ("green", "failed", 1.2, GREEN_NO_COST)], "agent/paid-aaaaaa", base)
    log_attempt(paths, "paid", "attempt-paid-bbbbbb",
                [("red", "passed", 0.5, RED_2), ("green", "passed", 1.9, GREEN_2), ("refactor", "skipped", 0.0, None),
                 ("gates", "passed", 0.1, None), ("commit", "passed", 0.1, None)],
                "agent/paid-bbbbbb", base, commit=head)
    update_task(paths, "paid", {"status": "review", "attempts": 1, "last_attempt_id": "attempt-paid-bbbbbb",
                                "branch_name": "agent/paid-bbbbbb"})
    return paths


def test_the_history_sums_known_costs_per_attempt_and_task_and_says_unknown_without_one(ledger: RepoPaths) -> None:
    history = attempts_by_task(events.read_events(ledger))
    first, second = history["paid"]
    assert first.phases[0].cost == PhaseCost("s-1", 1200, 80, 0.0042, "agent")
    assert first.phases[1].cost == PhaseCost("s-1", 2100, 150, None, None)
    assert (first.cost_usd, second.cost_usd, task_cost_usd(history["paid"])) == (PAID_FIRST, PAID_SECOND, PAID_SO_FAR)
    assert "cost $0.0042" in first.line() and "green ✗ 1.2s (2,100 in / 150 out tokens, unknown)" in first.line()
    (plain,) = history["add"]  # the real engine's events, from a `command` agent: no agent field
    assert all(phase.cost is None for phase in plain.phases) and plain.cost_usd is None
    assert task_cost_usd(history["add"]) is None and "cost unknown" in plain.line()


def test_the_board_shows_each_tried_tasks_cost_and_sorts_by_it(ledger: RepoPaths) -> None:
    board = load_board(ledger, parse_timestamp(FIXED_NOW))
    cells = {row.task.id: row.cost_text for row in board.rows}
    assert cells == {"add": "unknown", "paid": "$0.0477", "later": ""}
    assert [row.task.id for row in sort_rows(board.rows, "cost")] == ["paid", "add", "later"]


def test_review_shows_the_attempts_cost_per_phase_and_the_tasks_so_far(ledger: RepoPaths, capsys) -> None:
    code, out, _ = run_cli(capsys, "--repo", str(ledger.root), "review")
    assert code == 0
    paid = out[out.index("paid: "):]
    assert "  red      passed    0.50s  3,500 in / 100 out tokens, $0.0120\n" in paid
    assert "  green    passed    1.90s  5,200 in / 640 out tokens, $0.0315\n" in paid
    assert "  gates    passed    0.10s\n" in paid  # no agent ran: nothing claimed
    assert "  cost     this attempt $0.0435, the task so far $0.0477 (2 attempts)\n" in paid
    add = out[out.index("add: "):out.index("paid: ")]
    assert "  cost     this attempt unknown, the task so far unknown (1 attempt)\n" in add
    code, out, _ = run_cli(capsys, "--repo", str(ledger.root), "review", "--json")
    items = {item["task_id"]: item for item in json.loads(out)["reviews"]}
    assert (items["paid"]["attempt_cost_usd"], items["paid"]["task_cost_usd"]) == (PAID_SECOND, PAID_SO_FAR)
    assert items["paid"]["phases"][1]["agent"] == GREEN_2 and items["paid"]["task_attempts"] == 2
    assert items["add"]["attempt_cost_usd"] is None and items["add"]["task_cost_usd"] is None


def test_the_status_report_has_cost_per_task_per_phase_and_the_total(ledger: RepoPaths, capsys) -> None:
    code, _, _ = run_cli(capsys, "--repo", str(ledger.root), "status")
    assert code == 0
    report = latest(ledger.root)  # valid against the schema
    assert report["schema_version"] == 1
    by_task = {item["task"]: item for item in report["cost"]["by_task"]}
    assert by_task["paid"] == {"task": "paid", "attempts": 2, "cost_usd": PAID_SO_FAR, "tokens_in": 12000,
                               "tokens_out": 970}
    assert by_task["add"] == {"task": "add", "attempts": 1, "cost_usd": None, "tokens_in": None, "tokens_out": None}
    assert report["cost"]["total_usd"] == PAID_SO_FAR
    second = next(a for a in report["attempts"] if a["id"] == "attempt-paid-bbbbbb")
    assert second["cost_usd"] == PAID_SECOND
    assert second["phases"][1] == {"name": "green", "verdict": "passed", "seconds": 1.9, **GREEN_2}
    assert second["phases"][3] == {"name": "gates", "verdict": "passed", "seconds": 0.1}
    markdown = (reports_dir(ledger.root) / "latest.md").read_text()
    assert "## Agent cost\n\nTotal: $0.0477.\n" in markdown
    assert "| paid | 2 | 12,000 in / 970 out tokens | $0.0477 |" in markdown
    assert "| add | 1 | tokens unknown | unknown |" in markdown
    assert "| attempt-paid-bbbbbb | paid | succeeded | passed 0.50s $0.0120 | passed 1.90s $0.0315 |" in markdown
    chart = ElementTree.parse(reports_dir(ledger.root) / "latest.svg").getroot()
    texts = [element.text for element in chart.iter("{http://www.w3.org/2000/svg}text")]
    assert "Agent cost per task (total $0.0477)" in texts and texts.count("unknown") == 1
    bars = [rect for rect in chart.iter("{http://www.w3.org/2000/svg}rect") if rect.get("fill") == COST_COLOUR]
    assert [bar.find("{*}title").text for bar in bars] == ["paid: $0.0477"]  # `add` has no bar: not "free"
    assert int(chart.get("height")) > 300


def test_a_report_without_attempts_says_so_and_draws_no_cost_panel(repo_paths: RepoPaths, capsys) -> None:
    write(repo_paths.root / ".leviathan" / "backlog.yaml", "tasks:\n  - id: a\n    status: new\n")
    code, _, _ = run_cli(capsys, "--repo", str(repo_paths.root), "status")
    assert code == 0
    assert latest(repo_paths.root)["cost"] == {"total_usd": None, "by_task": []}
    assert "## Agent cost\n\nNo attempt in this window.\n" in (reports_dir(repo_paths.root) / "latest.md").read_text()
    assert ElementTree.parse(reports_dir(repo_paths.root) / "latest.svg").getroot().get("height") == "300"


def test_a_report_of_an_earlier_version_without_cost_fields_still_validates() -> None:
    """The cost fields are optional: reports written before them stay valid schema_version 1."""
    attempt = {"id": "a", "task": "t", "outcome": "failed", "seconds": 1.0, "reason": "",
               "phases": [{"name": "red", "verdict": "failed", "seconds": 1.0}]}
    properties = SCHEMA["properties"]
    jsonschema.validate(attempt, properties["attempts"]["items"])
    assert "cost" not in SCHEMA["required"]


@pytest.mark.parametrize("agent", [
    "claude", ["tokens"], {"tokens_in": "many", "tokens_out": True, "cost_usd": -1, "session": 3, "cost_source": 1},
    {"cost_usd": float("nan")}, {"cost_usd": float("inf")},
])
def test_unreadable_agent_values_count_as_unknown_never_as_zero(agent: object) -> None:
    cost = phase_cost({"agent": agent})
    assert cost is None or cost == PhaseCost()
    assert total([None if cost is None else cost.cost_usd]) is None and usd_text(None) == "unknown"


def test_a_hand_edited_log_with_bad_agent_values_still_loads_the_board(ledger: RepoPaths) -> None:
    events.append_event(ledger, "attempt.started", "later", attempt="attempt-later-cccccc", branch="b", base="x")
    events.append_event(ledger, "phase.finished", "later", attempt="attempt-later-cccccc", phase="red",
                        verdict="failed", seconds=0.1, agent={"cost_usd": "lots", "tokens_in": -5})
    row = load_board(ledger, parse_timestamp(FIXED_NOW)).row("later")
    assert row is not None and row.cost_text == "unknown"
