"""Review, approve (merge) and reject on throw-away repositories, with real attempts."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from conftest import git, write
from engine_fixtures import POLICY, SCRIPTED_AGENT, make_project, task_yaml

from leviathan_local import events
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.cli.main import main
from leviathan_local.commands.review import run_merge, run_reject, run_review
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.errors import BacklogError, LeviathanError
from leviathan_local.git.repo import RepoPaths, find_repo
from leviathan_local.review.approve import LocalChangesInTheWay, MergeRefused, approve
from leviathan_local.review.reject import reject


@pytest.fixture
def reviewed(git_repo: Path) -> tuple[RepoPaths, str]:
    """A project whose task `add` finished an attempt and waits for review."""
    root = make_project(git_repo, task_yaml("add", extra="    pr_number: 42\n")
                       + "  - id: other\n    title: Other\n    status: new\n    pr_number: null\n")
    result = run_attempt(find_repo(root), "add")
    assert result.outcome == "succeeded", result.reason
    return find_repo(root), result.branch


def head(paths: RepoPaths, ref: str = "HEAD") -> str:
    return git(paths.root, "rev-parse", ref).strip()


def branches(paths: RepoPaths) -> list[str]:
    return git(paths.root, "branch", "--format=%(refname:short)").split()


def test_review_lists_branch_attempt_files_phases_and_gates(reviewed) -> None:
    paths, branch = reviewed
    out = io.StringIO()
    assert run_review(paths, as_json=True, out=out) == 0
    [item] = json.loads(out.getvalue())["reviews"]
    assert item["task_id"] == "add" and item["branch"] == branch and item["attempt_id"].startswith("attempt-add-")
    files = {f["path"]: (f["kind"], f["added"], f["deleted"]) for f in item["files"]}
    assert files["calc.py"] == ("A", 2, 0) and files["tests/test_add.py"][0] == "A"
    assert ".leviathan/backlog.yaml" in files
    assert [p["name"] for p in item["phases"]] == ["red", "green", "refactor", "gates", "commit"]
    assert all(p["verdict"] == "passed" and p["seconds"] >= 0 for p in item["phases"])
    assert item["gates"] == ["allowed paths", "forbidden patterns", "secrets"]
    text = io.StringIO()
    run_review(paths, out=text)
    assert f"branch   {branch}" in text.getvalue() and "leviathan merge add" in text.getvalue()


def test_approve_merges_marks_done_and_keeps_every_human_edit(reviewed) -> None:
    paths, branch = reviewed
    before, tip = head(paths), head(paths, branch)
    (paths.root / "README.md").write_text("# demo\nlocal notes, not committed\n")
    paths.backlog.write_text(paths.backlog.read_text() + "  - id: idea  # added while reviewing\n    title: Idea\n")
    approval = approve(paths, "add")
    assert git(paths.root, "log", "-1", "--format=%P", "HEAD").split() == [before, tip]
    message = git(paths.root, "log", "-1", "--format=%B", "HEAD")
    assert message.startswith(f"Merge {branch}: Add add") and "Leviathan-Task: add" in message
    assert "approved by Test User <test@example.com>" in message
    assert (paths.root / "calc.py").read_text().startswith("def add")
    task = load_backlog(paths).task("add")
    branch_task = git(paths.root, "show", f"{tip}:.leviathan/backlog.yaml")
    assert task.status is Status.DONE and task.get("branch_name") == branch
    assert f"last_attempt_id: {task.get('last_attempt_id')}" in branch_task
    assert task.get("completed_at") == "2026-11-22T12:00:00Z"
    assert branch not in branches(paths)
    # the human's uncommitted edits are all still there, and uncommitted
    assert "local notes" in (paths.root / "README.md").read_text()
    assert "- id: idea  # added while reviewing" in paths.backlog.read_text()
    assert sorted(git(paths.root, "status", "--porcelain").split("\n")[:-1]) == [
        " M .leviathan/backlog.yaml", " M README.md"]
    assert "pr_number: 42" in paths.backlog.read_text() and "pr_number: null" in paths.backlog.read_text()
    [event] = [e for e in events.read_events(paths, task_id="add") if e.kind == "review.approved"]
    assert event.data["approver"] == "Test User <test@example.com>" and event.data["commit"] == approval.commit
    assert approval.base_moved is False


def test_a_default_branch_that_only_saved_the_backlog_needs_no_new_checks(reviewed) -> None:
    paths, branch = reviewed
    git(paths.root, "commit", "-qm", "[leviathan] Save backlog state on halt", "--", ".leviathan/backlog.yaml")
    approval = approve(paths, "add")
    assert approval.base_moved and approval.checks == []
    assert load_backlog(paths).task("add").status is Status.DONE
    assert git(paths.root, "status", "--porcelain") == ""


def test_approve_with_a_moved_default_branch_checks_the_merged_result(reviewed) -> None:
    paths, branch = reviewed
    write(paths.root / "docs" / "notes.md", "unrelated work on main\n")
    git(paths.root, "add", "docs")
    git(paths.root, "commit", "-qm", "docs", "--", "docs")
    approval = approve(paths, "add")
    assert approval.base_moved and approval.checks == ["tests"]
    assert (paths.root / "calc.py").exists() and (paths.root / "docs" / "notes.md").exists()
    assert branch not in branches(paths)


def test_approve_refuses_a_merge_that_breaks_the_moved_default_branch(reviewed) -> None:
    paths, branch = reviewed
    write(paths.root / "tests" / "test_guard.py",
          "import os, unittest\n\n\nclass Guard(unittest.TestCase):\n    def test_no_calc(self):\n"
          "        self.assertFalse(os.path.exists('calc.py'), 'calc.py is retired')\n")
    git(paths.root, "add", "tests/test_guard.py")
    git(paths.root, "commit", "-qm", "retire calc", "--", "tests/test_guard.py")
    before, backlog_before = head(paths), paths.backlog.read_bytes()
    with pytest.raises(MergeRefused) as refused:
        approve(paths, "add")
    assert "merged result fails: tests" in refused.value.message and refused.value.exit_code == 1
    assert "reject" in (refused.value.hint or "")
    assert head(paths) == before and branch in branches(paths) and not (paths.root / "calc.py").exists()
    assert paths.backlog.read_bytes() == backlog_before
    assert load_backlog(paths).task("add").status is Status.REVIEW


def unchanged(paths: RepoPaths, branch: str) -> tuple:
    """What a refused approval must leave as it was."""
    return (head(paths), branches(paths), paths.backlog.read_bytes(), git(paths.root, "status", "--porcelain"),
            checked_out(paths))


def checked_out(paths: RepoPaths) -> list[str]:
    """The branches some worktree (the main checkout included) has checked out."""
    return [line.split("refs/heads/", 1)[1] for line in git(paths.root, "worktree", "list", "--porcelain").splitlines()
            if line.startswith("branch ")]


def test_approve_refuses_a_merge_that_breaks_an_invariant_the_default_branch_added(reviewed) -> None:
    paths, branch = reviewed
    policy = paths.root / ".leviathan" / "policy.yaml"
    policy.write_text(policy.read_text() + 'invariants:\n  - {name: no calc, check: "test ! -e calc.py"}\n')
    git(paths.root, "commit", "-qm", "calc.py may not come back", "--", ".leviathan/policy.yaml")
    before = unchanged(paths, branch)
    with pytest.raises(MergeRefused) as refused:
        approve(paths, "add")
    assert "merged result fails: invariant no calc (`test ! -e calc.py`) exited 1" in refused.value.message
    assert "tests" not in refused.value.message.split("fails:")[1]  # the tests passed; the invariant did not
    assert refused.value.exit_code == 1 and unchanged(paths, branch) == before
    assert not (paths.root / "calc.py").exists() and load_backlog(paths).task("add").status is Status.REVIEW


def test_approve_refuses_when_another_file_conflicts_with_the_moved_default_branch(reviewed) -> None:
    paths, branch = reviewed
    write(paths.root / "calc.py", "def add(a, b):\n    return sum((a, b))\n")
    git(paths.root, "add", "calc.py")
    git(paths.root, "commit", "-qm", "someone wrote calc.py meanwhile", "--", "calc.py")
    before = unchanged(paths, branch)
    with pytest.raises(MergeRefused) as refused:
        approve(paths, "add")
    assert refused.value.message == f"{branch} conflicts with main in: calc.py" and refused.value.exit_code == 1
    assert "leviathan reject add --reason" in refused.value.hint and f"git merge {branch}" in refused.value.hint
    assert unchanged(paths, branch) == before and "sum((a, b))" in (paths.root / "calc.py").read_text()


def test_approve_refuses_when_an_uncommitted_backlog_edit_conflicts_with_the_merge(reviewed, tmp_path: Path) -> None:
    paths, branch = reviewed
    # A reviewer renamed the task on the branch itself...
    elsewhere = tmp_path / "on-the-branch"
    git(paths.root, "worktree", "add", "-q", str(elsewhere), branch)
    backlog = elsewhere / ".leviathan" / "backlog.yaml"
    backlog.write_text(backlog.read_text().replace("title: Add add", "title: Add numbers"))
    git(elsewhere, "commit", "-qam", "a better title")
    git(paths.root, "worktree", "remove", str(elsewhere))
    # ...and, differently, in the main checkout's backlog, not committed.
    paths.backlog.write_text(paths.backlog.read_text().replace("title: Add add", "title: Add two numbers"))
    before = unchanged(paths, branch)
    with pytest.raises(LocalChangesInTheWay) as refused:
        approve(paths, "add")
    assert ".leviathan/backlog.yaml (task add: title" in refused.value.message and refused.value.exit_code == 2
    assert "nothing was changed" in refused.value.hint
    assert unchanged(paths, branch) == before and "title: Add two numbers" in paths.backlog.read_text()


@pytest.mark.parametrize("in_the_way", ["untracked", "modified", "staged"])
def test_approve_refuses_when_local_changes_are_in_the_way(git_repo: Path, in_the_way: str) -> None:
    root = make_project(git_repo, task_yaml("add", refactor="echo '# refactored' >> tests/test_base.py"))
    paths = find_repo(root)
    result = run_attempt(paths, "add")
    assert result.outcome == "succeeded", result.reason
    target = {"untracked": "calc.py", "modified": "tests/test_base.py", "staged": "tests/test_base.py"}[in_the_way]
    (root / target).write_text("# the human's own work\n")
    if in_the_way == "staged":
        git(root, "add", target)
    before = head(paths)
    with pytest.raises(LocalChangesInTheWay) as refused:
        approve(paths, "add")
    assert target in refused.value.message and refused.value.exit_code == 2
    assert (root / target).read_text() == "# the human's own work\n"
    assert head(paths) == before and load_backlog(paths).task("add").status is Status.REVIEW


def test_approve_needs_the_default_branch_checked_out_and_a_review_task(reviewed) -> None:
    paths, _ = reviewed
    with pytest.raises(BacklogError, match="not waiting for review"):
        approve(paths, "other")
    paths.contract.write_text("default_branch: main\n")
    git(paths.root, "switch", "-qc", "elsewhere")
    with pytest.raises(LeviathanError, match="on elsewhere, not main"):
        approve(paths, "add")


def test_reject_counts_the_attempt_and_tells_the_next_attempt_why(reviewed) -> None:
    paths, branch = reviewed
    rejection = reject(paths, "add", "name the function `plus`")
    task = load_backlog(paths).task("add")
    assert rejection.after is Status.READY and task.status is Status.READY and task.attempts == 1
    assert task.get("review_feedback") == "name the function `plus`"
    assert branch in branches(paths)  # kept for inspection
    [event] = [e for e in events.read_events(paths, task_id="add") if e.kind == "review.rejected"]
    assert event.data["reason"] == "name the function `plus`" and event.data["reviewer"].startswith("Test User")
    second = run_attempt(paths, "add")
    prompt = paths.state_dir / "attempts" / f"{second.attempt_id}-red.prompt.md"
    assert "name the function `plus`" in prompt.read_text()
    final = reject(paths, "add", "still wrong", delete_branch=True)
    assert final.after is Status.BLOCKED and final.attempts == 2
    task = load_backlog(paths).task("add")
    assert task.get("blocked_type") == "attempts_exhausted" and "still wrong" in task.get("blocked_reason")
    assert second.branch not in branches(paths) and branch in branches(paths)


def held_by_a_pool_slot(paths: RepoPaths, branch: str) -> Path:
    """The branch checked out in a pool worktree again, as an interrupted attempt may leave it."""
    slot = paths.root / "worktrees" / "slot-0"
    git(slot, "switch", "-q", branch)
    assert branch in checked_out(paths)
    return slot


def test_reject_lets_go_of_the_branch_so_it_can_be_checked_out_and_deleted(reviewed, tmp_path: Path) -> None:
    paths, branch = reviewed
    slot = held_by_a_pool_slot(paths, branch)
    reject(paths, "add", "try again")
    assert branch in branches(paths) and branch not in checked_out(paths) and slot.exists()
    git(paths.root, "worktree", "add", "-q", str(tmp_path / "inspect"), branch)  # checked out elsewhere
    git(paths.root, "worktree", "remove", str(tmp_path / "inspect"))
    git(paths.root, "branch", "-D", branch)


def test_approve_lets_go_of_the_branch_and_deletes_it(reviewed) -> None:
    paths, branch = reviewed
    slot = held_by_a_pool_slot(paths, branch)
    approve(paths, "add")
    assert branch not in branches(paths) and branch not in checked_out(paths)
    assert git(slot, "status", "--porcelain", "--branch").startswith("## HEAD (no branch)")


def test_review_commands_from_the_cli(reviewed, capsys) -> None:
    paths, _ = reviewed
    with pytest.raises(SystemExit) as exit_:
        main(["--repo", str(paths.root), "reject", "add", "--reason", " "])
    assert exit_.value.code == 2 and "needs a reason" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["--repo", str(paths.root), "merge", "nope"])
    assert exit_.value.code == 2
    with pytest.raises(SystemExit) as exit_:
        main(["--repo", str(paths.root), "merge", "add"])
    assert exit_.value.code == 0 and "add: merged" in capsys.readouterr().out


def test_approving_a_task_only_the_uncommitted_backlog_holds_marks_it_done_there(git_repo: Path) -> None:
    # Seed 000, edge case 3: the agent reads its steps from the main checkout, since no commit has the task.
    agent = git_repo.parent / "main_backlog_agent.py"
    agent.write_text(SCRIPTED_AGENT.replace('open(".leviathan/backlog.yaml")',
                                            f"open({str(git_repo / '.leviathan' / 'backlog.yaml')!r})"))
    root = make_project(git_repo, "  - id: other\n    title: Other\n    status: new\n",
                        POLICY.replace("AGENT_SCRIPT", str(agent)))
    paths = find_repo(root)
    paths.backlog.write_text(paths.backlog.read_text() + task_yaml("add"))  # not committed
    result = run_attempt(paths, "add")
    assert result.outcome == "succeeded", result.reason
    assert "id: add" not in git(root, "show", f"{result.branch}:.leviathan/backlog.yaml")
    out = io.StringIO()
    assert run_merge(paths, "add", out=out) == 0
    task = load_backlog(paths).task("add")
    assert task.status is Status.DONE and task.get("branch_name") == result.branch
    assert task.get("last_attempt_id") == result.attempt_id and task.get("completed_at") == "2026-11-22T12:00:00Z"
    assert "marked done in your uncommitted .leviathan/backlog.yaml" in out.getvalue()
    assert (root / "calc.py").exists() and result.branch not in branches(paths)
    assert git(root, "status", "--porcelain") == " M .leviathan/backlog.yaml\n"  # still the human's to commit
    assert "id: add" not in git(root, "show", "HEAD:.leviathan/backlog.yaml")
    [event] = [e for e in events.read_events(paths, task_id="add") if e.kind == "review.approved"]
    assert event.data["done_uncommitted"] is True


def test_a_review_task_whose_branch_is_gone_is_shown_and_can_be_rejected(reviewed) -> None:
    paths, branch = reviewed
    git(paths.root, "branch", "-D", branch)
    out = io.StringIO()
    run_review(paths, out=out)
    assert f"branch {branch} does not exist (deleted by hand?)" in out.getvalue()
    assert "reject it so it runs again" in out.getvalue() and "leviathan merge add" not in out.getvalue()
    with pytest.raises(BacklogError, match="which does not exist"):
        approve(paths, "add")
    text = io.StringIO()
    assert run_reject(paths, "add", "the branch was lost", delete_branch=True, out=text) == 0
    assert f"branch {branch} was already gone" in text.getvalue()
    task = load_backlog(paths).task("add")
    assert task.status is Status.READY and task.attempts == 1 and task.get("review_feedback") == "the branch was lost"
    [event] = [e for e in events.read_events(paths, task_id="add") if e.kind == "review.rejected"]
    assert event.data["branch_missing"] is True and event.data["branch_deleted"] is False
