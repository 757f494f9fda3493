"""The one-commit rule against agents that use git themselves, and the slot an attempt leaves.

Whatever the agent does with git, a finished attempt is ONE commit on its branch whose parent is
the base, holding everything the agent changed (committed or not) and the writeback; an agent
that moved HEAD onto content it did not make fails the gates, naming where HEAD went.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git, write
from engine_fixtures import GREEN, POLICY, RECIPE_POLICY, RED, make_project, task_yaml

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.git.repo import find_repo

COMMIT = "git add -A && git commit -qm"


def attempt(root: Path, task_id: str = "t"):
    return run_attempt(find_repo(root), task_id)


def base_of(root: Path) -> str:
    return git(root, "rev-parse", "main").strip()


def branch_commits(root: Path, branch: str) -> list[str]:
    return git(root, "rev-list", f"main..{branch}").split()


def files_of(root: Path, commit: str) -> list[str]:
    return sorted(git(root, "show", "--name-only", "--format=", commit).split())


def test_an_agent_that_commits_in_every_phase_still_makes_one_commit(git_repo: Path) -> None:
    """aider commits by default: red and green each commit; refactor leaves a change uncommitted."""
    red, green = f"{RED} && {COMMIT} 'aider: test add'", f"{GREEN} && {COMMIT} 'aider: implement add'"
    refactor = "printf '\\n\\n# tidy\\n' >> calc.py"
    root = make_project(git_repo, task_yaml("t", red=red, green=green, refactor=refactor))
    result = attempt(root)
    assert result.outcome == "succeeded", result.reason
    assert branch_commits(root, result.branch) == [result.commit]
    assert git(root, "rev-parse", f"{result.commit}^").strip() == base_of(root)  # its parent is the base
    assert files_of(root, result.commit) == [".leviathan/backlog.yaml", "calc.py", "tests/test_add.py"]
    assert git(root, "show", f"{result.commit}:calc.py").endswith("# tidy\n")  # the uncommitted change too
    message = git(root, "log", "-1", "--format=%B", result.commit)
    assert "folded into this one:\n- aider: test add\n- aider: implement add\n" in message
    assert "status: done" in git(root, "show", f"{result.commit}:.leviathan/backlog.yaml")


def test_an_agent_that_switches_to_a_branch_of_its_own_has_its_work_folded_back(git_repo: Path) -> None:
    green = f"git checkout -q -b wip && {GREEN} && {COMMIT} 'wip'"
    root = make_project(git_repo, task_yaml("t", green=green))
    result = attempt(root)
    assert result.outcome == "succeeded", result.reason
    assert branch_commits(root, result.branch) == [result.commit]  # not an empty branch
    assert files_of(root, result.commit) == [".leviathan/backlog.yaml", "calc.py", "tests/test_add.py"]
    assert git(root, "branch", "--list", "wip") == ""  # its own branch is gone: the attempt's holds the work
    assert load_backlog(find_repo(root)).task("t").status is Status.REVIEW


def previous_attempt(root: Path) -> None:
    """A branch left by an earlier attempt, on the same base: commits the agent did not make."""
    git(root, "branch", "agent/t-old", "main")
    git(root, "worktree", "add", "-q", "../old", "agent/t-old")
    write(root.parent / "old" / "tests" / "test_old.py", "")
    git(root.parent / "old", "add", "tests/test_old.py")
    git(root.parent / "old", "commit", "-qm", "earlier work")
    git(root, "worktree", "remove", "../old")


@pytest.mark.parametrize(("refactor", "setup", "reason"), [
    ("git checkout -q older", lambda root: git(root, "branch", "older", "main~1"),
     "moved HEAD to branch older at {older}, which is not built on the attempt's base"),
    ("git checkout -q agent/t-old", previous_attempt,
     "moved HEAD to branch agent/t-old at {agent/t-old}, onto 1 of 1 commit that already existed "
     "(refs/heads/agent/t-old)"),
    ("git reset -q --soft HEAD~1", lambda root: None,
     "moved HEAD to branch {branch} at {main~1}, which is not built on the attempt's base"),
], ids=["other-branch", "previous-attempt", "reset-below-base"])
def test_an_agent_that_moved_head_onto_content_it_did_not_make_fails_the_gates(git_repo: Path, refactor, setup,
                                                                               reason: str) -> None:
    """In the last phase: the scripted agent reads its steps from the worktree's backlog, which
    another commit may not hold. (A soft reset keeps the files, but nothing tells it from a hard one.)"""
    root = make_project(git_repo, task_yaml("t", refactor=refactor))
    setup(root)
    names = git(root, "branch", "--format=%(refname:short)").split()
    refs = {name: git(root, "rev-parse", name).strip() for name in names}
    result = attempt(root)
    names = {"branch": result.branch, "main~1": git(root, "rev-parse", "main~1").strip()[:12],
             **{name: commit[:12] for name, commit in refs.items()}}
    assert result.outcome == "failed" and result.reason.startswith(f"gates: {result.branch}: the agent "), result.reason
    assert reason.format(**names) in result.reason
    assert {name: git(root, "rev-parse", name).strip() for name in refs} == refs  # no other branch moved
    assert git(root, "rev-parse", f"{result.commit}^").strip() == base_of(root)  # kept as one commit on the base


def test_the_commit_holds_what_the_checks_saw(git_repo: Path) -> None:
    """A check that changes the files after the agent's last phase would commit what nothing verified."""
    policy = POLICY + "invariants:\n  - {name: reformat, check: \"echo '# reformatted' >> calc.py\"}\n"
    root = make_project(git_repo, task_yaml("t"), policy)
    result = attempt(root)
    assert result.outcome == "failed"
    assert "calc.py: changed after the agent's last phase, by the test command or an invariant" in result.reason


@pytest.mark.parametrize("outcome", ["succeeded", "failed"])
def test_a_finished_attempt_leaves_its_slot_clean_at_the_base(git_repo: Path, outcome: str) -> None:
    """Nothing of the attempt shows in worktrees/ (changed, untracked, staged or ignored files, a
    HEAD on its branch): it is all on the branch."""
    mess = ("echo '# junk' >> tests/test_base.py; echo x > tests/stray.txt; git add tests/stray.txt; "
            "mkdir -p __pycache__; echo c > __pycache__/x.pyc")
    refactor = mess + ("" if outcome == "succeeded" else "; echo out > notes.txt")
    root = make_project(git_repo, task_yaml("t", refactor=refactor, allowed="[calc.py, tests/, __pycache__/]"))
    result = attempt(root)
    assert result.outcome == outcome, result.reason
    slot = root / "worktrees" / "slot-0"
    assert git(slot, "status", "--porcelain", "--ignored") == ""
    assert git(slot, "rev-parse", "HEAD").strip() == base_of(root)
    assert git(slot, "branch", "--show-current") == ""  # detached: the branch is free to merge or delete
    assert "tests/stray.txt" in files_of(root, result.commit)  # the work is on the branch


def test_a_task_the_base_commit_lacks_is_committed_without_the_writeback(git_repo: Path) -> None:
    """Seed 000, edge case 3: the task was added to the backlog without being committed."""
    root = make_project(git_repo, task_yaml("other"), RECIPE_POLICY)  # recipe: steps from the main checkout
    paths = find_repo(root)
    paths.backlog.write_text(paths.backlog.read_text() + task_yaml("t"))
    result = attempt(root)
    assert result.outcome == "succeeded", result.reason
    assert files_of(root, result.commit) == ["calc.py", "tests/test_add.py"]
    log = (paths.state_dir / "attempts" / f"{result.attempt_id}.log").read_text()
    assert "warning: task t not found in the base commit's backlog; committing without the status writeback" in log
