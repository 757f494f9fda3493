"""`leviathan prune`: finished agent/* branches and reports beyond `reports.keep`, a dry run
unless --apply; what it keeps, and why, on a repository with one branch of every kind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import git, write
from engine_fixtures import POLICY, make_project, task_yaml
from test_cli import run_cli

from leviathan_local import events
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.git.repo import RepoPaths, find_repo
from leviathan_local.review.reject import reject

VERDICT = re.compile(r"^  (\S+)\s+(\S+)  (.*)  \(tip [0-9a-f]{12}\)$")
STAMPS = ["20261201T100000Z", "20261201T110000Z", "20261201T110000Z-2", "20261201T120000Z", "20261202T090000Z"]


def branches(root: Path) -> list[str]:
    return git(root, "branch", "--list", "agent/*", "--format=%(refname:short)").split()


def branch_at(root: Path, name: str, parent: str = "HEAD", new_commit: bool = True) -> str:
    tip = git(root, "rev-parse", parent).strip()
    if new_commit:
        tip = git(root, "commit-tree", f"{tip}^{{tree}}", "-p", tip, "-m", "work").strip()
    git(root, "branch", name, tip)
    return tip


@pytest.fixture
def cluttered(git_repo: Path) -> tuple[RepoPaths, dict[str, str]]:
    done = task_yaml("d").replace("status: ready", "status: done")
    root = make_project(git_repo, task_yaml("a", green="true") + task_yaml("b") + task_yaml("c") + done,
                        POLICY.replace("attempt_timeout_seconds: 30", "attempt_timeout_seconds: 30, max_open_reviews: 5")
                        + "reports: {keep: 2}\n")
    paths = find_repo(root)
    named = {"failed": run_attempt(paths, "a").branch}  # kept for inspection, task a ready again
    named["rejected"] = run_attempt(paths, "b").branch
    reject(paths, "b", "not like this")
    named["review"] = run_attempt(paths, "c").branch
    branch_at(root, "agent/merged-0a0b0c", new_commit=False)  # main holds it
    branch_at(root, "agent/d-1a2b3c")  # an old branch of a task done since
    named["unknown"] = "agent/nobody-2b3c4d"
    branch_at(root, named["unknown"])
    for stamp in STAMPS:
        for suffix in ("json", "md", "svg"):
            write(root / "DOCS" / "status" / f"{stamp}.{suffix}", "{}")
    for name in ("latest.json", "latest.md", "notes.md"):
        write(root / "DOCS" / "status" / name, "{}")
    return paths, named


def test_prune_is_a_dry_run_that_says_what_it_would_delete_and_keep(cluttered, capsys) -> None:
    paths, named = cluttered
    before = branches(paths.root), sorted(p.name for p in (paths.root / "DOCS" / "status").iterdir())
    code, out, _ = run_cli(capsys, "--repo", str(paths.root), "prune")
    assert code == 0, out
    lines = {found[2]: f"{found[1]} {found[3]}" for found in map(VERDICT.match, out.splitlines()) if found}
    assert lines == {
        named["failed"]: "keep holds 1 commit not in main (task a is ready): name it with --branch to delete it",
        named["rejected"]: "delete rejected in review",
        named["review"]: "keep task c is in review",
        "agent/merged-0a0b0c": "delete merged into main",
        "agent/d-1a2b3c": "delete task d is done",
        named["unknown"]: "keep holds 1 commit not in main (no task in the backlog names it): name it with "
                          "--branch to delete it",
    }, out
    assert ("Reports in DOCS/status: 5 (reports.keep 2): delete the 3 oldest (20261201T100000Z to "
            "20261201T110000Z-2, 9 files), keep the newest 2 and latest.*.\n") in out
    assert out.endswith("Dry run: nothing deleted. `leviathan prune --apply` deletes what is marked delete.\n")
    assert (branches(paths.root), sorted(p.name for p in (paths.root / "DOCS" / "status").iterdir())) == before
    assert not [e for e in events.read_events(paths) if e.kind == "prune.applied"]


def test_prune_apply_deletes_logs_the_tips_and_keeps_review_branches_even_named(cluttered, capsys) -> None:
    paths, named = cluttered
    tips = {name: git(paths.root, "rev-parse", name).strip() for name in branches(paths.root)}
    code, out, _ = run_cli(capsys, "--repo", str(paths.root), "prune", "--apply",
                           "--branch", named["failed"], "--branch", named["review"])
    assert code == 0, out
    assert branches(paths.root) == sorted([named["review"], named["unknown"]])  # in review: never touched
    assert f"  deleted {named['failed']}  named with --branch (1 commit not in main)" in out
    left = sorted(p.name for p in (paths.root / "DOCS" / "status").iterdir())
    assert left == sorted([f"{stamp}.{suffix}" for stamp in STAMPS[-2:] for suffix in ("json", "md", "svg")]
                          + ["latest.json", "latest.md", "notes.md"])  # a human's notes.md stays
    [applied] = [e for e in events.read_events(paths) if e.kind == "prune.applied"]
    assert applied.data["branches"] == {name: tips[name] for name in tips
                                        if name not in (named["review"], named["unknown"])}
    assert len(applied.data["reports"]) == 9
    assert run_cli(capsys, "--repo", str(paths.root), "prune", "--apply")[1].count("deleted") == 0  # nothing left


def test_prune_refuses_a_bad_branch_name_or_retention_before_deleting_anything(cluttered, capsys) -> None:
    paths, _ = cluttered
    before = branches(paths.root)
    code, _, err = run_cli(capsys, "--repo", str(paths.root), "prune", "--apply", "--branch", "main")
    assert code == 2 and "--branch main is no agent/* branch" in err
    code, _, err = run_cli(capsys, "--repo", str(paths.root), "prune", "--apply", "--branch", "agent/gone-000000")
    assert code == 2 and "--branch agent/gone-000000 is no branch here" in err
    policy = paths.policy.read_text().replace("reports: {keep: 2}", "reports: {keep: 0}")
    paths.policy.write_text(policy)
    code, _, err = run_cli(capsys, "--repo", str(paths.root), "prune", "--apply")
    assert code == 2 and "keep" in err and "expected an integer >= 1, found 0" in err, err
    assert branches(paths.root) == before and len(list((paths.root / "DOCS" / "status").iterdir())) == 18
