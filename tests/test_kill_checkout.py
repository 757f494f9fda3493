"""Issue 14, defect 1: a run SIGKILLed while its slot is being checked out (a repository of a few
thousand files) left the slot on the agent branch, half its files missing, and the branch could not
be deleted; recovery cleaned only the slots an attempt record named, and the record named the slot
only once the checkout was done."""

from __future__ import annotations

from pathlib import Path

from conftest import git
from kill_helpers import agent_branches, bulk_project, kill_when, leftovers, rerun, start_run, task_yaml
from test_run import policy_with


def test_a_run_killed_mid_checkout_leaves_no_slot_on_its_branch(git_repo: Path) -> None:
    # At one attempt per task the next run only recovers: no new attempt reuses (and so resets) the slot.
    paths = bulk_project(git_repo, task_yaml("a"), policy_with(max_attempts_per_task=1))
    slot = paths.root / "worktrees" / "slot-0"
    milestone = slot / "bulk" / "f1000.txt"  # a third of the checkout written
    run = start_run(paths, {"KILL_TEST_REPO": str(paths.root)})
    assert kill_when(run, milestone.exists, "the slot's checkout to be a third done")
    assert not (slot / "bulk" / "f2999.txt").exists(), "the kill came after the checkout: the test proves nothing"

    code, text = rerun(paths)

    assert code == 0, text
    assert "a: doing -> blocked (attempt counted)" in text, text
    assert leftovers(paths) == [], text
    assert "its checkout was cut short" in text, text
    dead_branches = [branch for branch in agent_branches(paths) if git(paths.root, "rev-list", f"main..{branch}") == ""]
    assert dead_branches == [], "a branch holding nothing was left behind"
