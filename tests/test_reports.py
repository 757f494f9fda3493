"""Status reports after real runs on throw-away repositories, checked against their schema."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timedelta, timezone
from pathlib import Path
from statistics import mean

import jsonschema
import pytest
from conftest import git
from engine_fixtures import POLICY, RECIPE_POLICY, make_project, task_yaml
from test_cli import run_cli

import leviathan_local
from leviathan_local import events
from leviathan_local.backlog.store import update_task
from leviathan_local.clock import parse_timestamp
from leviathan_local.commands.run import run_headless
from leviathan_local.commands.status import run_status
from leviathan_local.git.repo import RepoPaths, find_repo
from leviathan_local.reports.files import make_report, write_report

SCHEMA = json.loads((Path(leviathan_local.__file__).parent / "reports" / "status_report.schema.json").read_text())
BAD = task_yaml("bad", green="true", allowed="[bad.py, tests/]").replace("effort: 2", "effort: 5")  # ranks after good
MIXED = (task_yaml("good") + BAD
         + "  - id: risky\n    title: Rotate the auth secret\n    type: security\n    status: ready\n"
           "    acceptance_criteria: [rotated]\n")


ROOMY = POLICY.replace("attempt_timeout_seconds: 30", "attempt_timeout_seconds: 30, max_open_reviews: 5")


def reports_dir(root: Path) -> Path:
    return root / "DOCS" / "status"


def latest(root: Path) -> dict:
    report = json.loads((reports_dir(root) / "latest.json").read_text())
    jsonschema.validate(report, SCHEMA)
    return report


def run(root: Path) -> str:
    out = io.StringIO()
    run_headless(find_repo(root), out=out)
    return out.getvalue()


def cycle_times_in_log(paths: RepoPaths) -> list[float]:
    """Seconds from each attempt's `attempt.started` event to its passed commit phase, by the log."""
    logged = events.read_events(paths)
    started = {e.data["attempt"]: parse_timestamp(e.ts) for e in logged if e.kind == "attempt.started"}
    return [(parse_timestamp(e.ts) - started[e.data["attempt"]]).total_seconds() for e in logged
            if e.kind == "phase.finished" and e.data["phase"] == "commit" and e.data["verdict"] == "passed"]


def test_a_run_with_success_failure_block_and_escalation_reports_them_all(git_repo: Path) -> None:
    root = make_project(git_repo, MIXED, ROOMY)
    output = run(root)
    report = latest(root)
    assert report["halt_reason"] in output and report["completed_items"] == ["good"]
    assert report["items_processed"] == 2 and report["items_completed"] == 1 and report["items_blocked"] == 1
    assert report["blocked"] == [{"id": "bad", "type": "attempts_exhausted", "reason": report["blocked"][0]["reason"]}]
    assert [e["id"] for e in report["escalations"]] == ["risky"]
    outcomes = sorted((a["task"], a["outcome"]) for a in report["attempts"])
    assert outcomes == [("bad", "failed"), ("bad", "failed"), ("good", "succeeded")]
    good = next(a for a in report["attempts"] if a["task"] == "good")
    assert [p["name"] for p in good["phases"]] == ["red", "green", "refactor", "gates", "commit"]
    assert report["cycle_time_avg"] == mean(cycle_times_in_log(find_repo(root)))
    assert report["backlog_size_by_status"]["review"] == 1 and report["halt_reason"] is not None
    assert "1 task used up its attempts: bad" in report["risks"]
    stem = next(p.stem for p in reports_dir(root).glob("2*.json"))
    markdown = (reports_dir(root) / f"{stem}.md").read_text()
    assert f"![Backlog by status, completions over the last runs, and agent cost per task]({stem}.svg)" in markdown
    for header in ("| status | tasks |", "| id | type | reason |", "| attempt | task | outcome | red | green |",
                   "| id | why |", "## Notable risks"):
        assert header in markdown
    assert "| bad | attempts_exhausted |" in markdown
    svg = ElementTree.parse(reports_dir(root) / f"{stem}.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and len(svg.findall(".//{*}rect")) >= 8
    assert (reports_dir(root) / "latest.md").read_text().count("(latest.svg)") == 1
    assert f"Report: DOCS/status/{stem}.md" in output


def test_trends_compare_with_the_previous_report(git_repo: Path, monkeypatch) -> None:
    root = make_project(git_repo, task_yaml("good") + BAD, ROOMY)
    run(root)
    first = latest(root)
    monkeypatch.setenv("LEVIATHAN_NOW", "2026-11-23T09:30:00Z")
    paths = find_repo(root)
    update_task(paths, "bad", {"status": "done"})  # a human settles it; the blocked count drops
    run(root)
    second = latest(root)
    assert second["trends"]["previous_timestamp"] == first["timestamp"] == "2026-11-22T12:00:00Z"
    assert second["trends"]["blocked"] == {"current": 0, "previous": 1, "change": -1}
    assert second["trends"]["completion_rate"]["previous"] == first["trends"]["completion_rate"]["current"] == 0.0
    assert second["trends"]["completion_rate"]["change"] == 0.5
    assert second["attempts"] == []  # the second run's window holds no attempt
    assert sorted(p.name for p in reports_dir(root).glob("2*.json")) == ["20261122T120000Z.json",
                                                                        "20261123T093000Z.json"]
    chart = ElementTree.parse(reports_dir(root) / "20261123T093000Z.svg").getroot()
    assert "Completed per run (last 2)" in "".join(chart.itertext())


def test_status_exports_without_touching_docs(git_repo: Path, capsys) -> None:
    root = make_project(git_repo, task_yaml("good"))
    paths = find_repo(root)
    out = io.StringIO()
    assert run_status(paths, report_format="json", output="-", out=out) == 0
    report = json.loads(out.getvalue())
    jsonschema.validate(report, SCHEMA)
    assert report["halt_reason"] is None and report["top_ranked"][0]["id"] == "good"
    assert not reports_dir(root).exists()
    target = git_repo.parent / "export.md"
    run_status(paths, report_format="md", output=str(target), out=io.StringIO())
    assert target.read_text().startswith("# Status report 2026-11-22T12:00:00Z\n\n**On demand:**")
    assert "| 1 | good | Add good |" in target.read_text()
    assert not reports_dir(root).exists()
    run_status(paths, out=io.StringIO())  # on demand, into DOCS/status
    assert latest(root)["halt_reason"] is None


def test_reports_can_ride_along_in_the_halt_commit(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("good"), POLICY + "reports: {commit: true}\n")
    run(root)
    files = git(root, "show", "--name-only", "--format=", "HEAD").split()
    assert ".leviathan/backlog.yaml" in files and "DOCS/status/latest.json" in files
    assert "DOCS/status/20261122T120000Z.svg" in files
    assert git(root, "status", "--porcelain") == ""


def test_a_report_that_cannot_be_written_never_breaks_the_run(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("good"))
    (root / "DOCS").write_text("a file where the reports directory would go\n")
    git(root, "add", "DOCS")
    git(root, "commit", "-qm", "docs file")
    output = run(root)
    assert "warning: status report not written" in output and output.endswith("Halted: AllDoneOrBlocked\n")
    assert git(root, "log", "-1", "--format=%s").startswith("[leviathan] Save backlog state on halt")


def test_coverage_change_comes_from_the_policy_command(git_repo: Path, monkeypatch) -> None:
    policy = POLICY + 'reports: {coverage_command: "cat coverage.txt"}\n'
    root = make_project(git_repo, task_yaml("good"), policy)
    paths: RepoPaths = find_repo(root)
    (root / "coverage.txt").write_text("TOTAL   120   20   83%\n")
    run_status(paths, out=io.StringIO())
    assert latest(root)["coverage"] == 83.0 and latest(root)["coverage_delta"] is None
    (root / "coverage.txt").write_text("TOTAL   120   24   80.5%\n")
    monkeypatch.setenv("LEVIATHAN_NOW", "2026-11-22T13:00:00Z")
    run_status(paths, out=io.StringIO())
    assert latest(root)["coverage_delta"] == -2.5
    assert "coverage fell by 2.5 points" in latest(root)["risks"]


def test_cycle_time_runs_from_the_attempt_start_event_to_the_commit(git_repo: Path, monkeypatch) -> None:
    # A clock one second further at every event: deterministic, and an attempt's span in the
    # log (worktree and writeback included) differs from the sum of its phases' durations.
    ticks = iter(range(10_000))
    start = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
    monkeypatch.setattr(events, "now", lambda: start + timedelta(seconds=next(ticks)))
    root = make_project(git_repo, task_yaml("good") + task_yaml("again"), ROOMY)
    run(root)
    report = latest(root)
    spans = cycle_times_in_log(find_repo(root))
    assert len(spans) == 2 and all(span >= 5 for span in spans)  # five phases at least lie between
    assert report["cycle_time_avg"] == mean(spans)
    assert report["cycle_time_avg"] != pytest.approx(mean(a["seconds"] for a in report["attempts"]))


def test_a_manual_agent_in_a_headless_run_is_reported_as_waiting_for_a_human(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("good"), RECIPE_POLICY.replace("{kind: recipe}", "{kind: manual}"))
    run(root)
    report = latest(root)  # valid against the schema
    [attempt] = report["attempts"]
    assert (attempt["task"], attempt["outcome"], attempt["phases"]) == ("good", "needs_human", [])
    [blocked] = report["blocked"]
    assert (blocked["id"], blocked["type"]) == ("good", "escalation")
    assert report["escalations"] == [{"id": "good", "reasons": [blocked["reason"]]}]
    assert "phase red of good is manual" in blocked["reason"]
    assert report["items_processed"] == 1 and report["items_completed"] == 0 and report["cycle_time_avg"] is None
    assert "1 task waits for a human decision (escalated)" in report["risks"]
    markdown = (reports_dir(root) / "latest.md").read_text()
    assert "## Waiting for a human decision" in markdown and "| good | phase red of good is manual" in markdown


def test_format_without_output_prints_that_format_and_leaves_docs_alone(git_repo: Path, capsys) -> None:
    root = make_project(git_repo, task_yaml("good"))
    code, out, _ = run_cli(capsys, "--repo", str(root), "status", "--format", "json")
    assert code == 0
    report = json.loads(out)  # nothing but the report on standard output
    jsonschema.validate(report, SCHEMA)
    assert report["top_ranked"][0]["id"] == "good"
    code, out, _ = run_cli(capsys, "--repo", str(root), "status", "--format", "md")
    assert code == 0 and out.startswith("# Status report 2026-11-22T12:00:00Z\n") and "| 1 | good | Add good |" in out
    assert not reports_dir(root).exists()
    code, out, _ = run_cli(capsys, "--repo", str(root), "status")  # neither option: DOCS/status as before
    assert code == 0 and "wrote DOCS/status/20261122T120000Z.json" in out and latest(root)["halt_reason"] is None


def log_attempt(paths: RepoPaths, task: str, attempt: str, phases: tuple[tuple[str, str, float], ...]) -> None:
    """An attempt as the engine logs it, through the event log's own writer."""
    events.append_event(paths, "attempt.started", task, attempt=attempt, branch=f"agent/{task}")
    for name, verdict, seconds in phases:
        events.append_event(paths, "phase.started", task, attempt=attempt, phase=name)
        events.append_event(paths, "phase.finished", task, attempt=attempt, phase=name, verdict=verdict,
                            seconds=seconds)
    events.append_event(paths, "attempt.failed", task, attempt=attempt, reason="tests fail")


def test_the_attempts_table_shows_setup_when_an_attempt_ran_one(git_repo: Path) -> None:
    paths = find_repo(make_project(git_repo, task_yaml("good")))
    log_attempt(paths, "good", "attempt-good-aaaaaa", (("red", "passed", 0.4), ("green", "failed", 1.2)))
    write_report(paths, make_report(paths))
    plain = (reports_dir(git_repo) / "latest.md").read_text()
    assert "| attempt | task | outcome | red | green | refactor | gates | commit | seconds | cost |" in plain
    assert "| attempt-good-aaaaaa | good | failed | passed 0.40s | failed 1.20s | - | - | - | 1.60 | unknown |" in plain
    # The next window: one attempt ran policy's setup (cached: skipped), one did not.
    log_attempt(paths, "good", "attempt-good-bbbbbb",
                (("setup", "passed", 3.1), ("red", "passed", 0.4), ("green", "failed", 1.2)))
    log_attempt(paths, "good", "attempt-good-cccccc", (("setup", "skipped", 0.0), ("red", "failed", 0.3)))
    log_attempt(paths, "good", "attempt-good-dddddd", (("red", "failed", 0.2),))
    write_report(paths, make_report(paths))
    markdown = (reports_dir(git_repo) / "latest.md").read_text()
    assert "| attempt | task | outcome | setup | red | green | refactor | gates | commit | seconds | cost |" in markdown
    assert ("| attempt-good-bbbbbb | good | failed | passed 3.10s | passed 0.40s | failed 1.20s | - | - | - |"
            in markdown)
    assert "| attempt-good-cccccc | good | failed | skipped 0.00s | failed 0.30s | - |" in markdown
    assert "| attempt-good-dddddd | good | failed | - | failed 0.20s | - |" in markdown


def completion_bars(svg: Path) -> list[str]:
    """The completion panel's bars, by their tooltips (`<timestamp>: <completed>`)."""
    chart = ElementTree.parse(svg).getroot()
    return [rect.find("{*}title").text for rect in chart.iter("{http://www.w3.org/2000/svg}rect")
            if rect.find("{*}title") is not None and rect.get("fill") == "#43a047"]


def test_the_chart_plots_runs_only_as_the_app_does(git_repo: Path, monkeypatch) -> None:
    root = make_project(git_repo, task_yaml("good"))
    paths = find_repo(root)
    write_report(paths, make_report(paths))  # on demand, before any run
    chart_text = "".join(ElementTree.parse(reports_dir(root) / "latest.svg").getroot().itertext())
    assert "Completed per run" in chart_text and "No run has halted yet." in chart_text
    assert completion_bars(reports_dir(root) / "latest.svg") == []
    run(root)
    assert latest(root)["items_completed"] == 1
    monkeypatch.setenv("LEVIATHAN_NOW", "2026-11-22T13:00:00Z")
    for _ in range(2):  # on demand after the run: they completed nothing, and are no run
        write_report(paths, make_report(paths))
    for name in ("20261122T130000Z-2.svg", "latest.svg"):
        assert completion_bars(reports_dir(root) / name) == ["2026-11-22T12:00:00Z: 1"]
        assert "Completed per run (last 1)" in "".join(ElementTree.parse(reports_dir(root) / name).getroot().itertext())
