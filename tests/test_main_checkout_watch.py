"""Issue 14, defect 7: an agent that writes into the main checkout fails its attempt.

The agent is a real `command` process (the scripted agent running the task's steps) that writes
outside its worktree, `worktrees/slot-0`, into the main checkout two levels up. Whatever it
changed there stays as it is (it is the human's checkout); the task is blocked for a human to say
whether the change was theirs, and the attempt is not counted.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from conftest import git, write
from engine_fixtures import GREEN, POLICY, RED, make_project, task_yaml, unittest_file

from leviathan_local import events
from leviathan_local.backlog.merge_driver import ensure_registered
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.commands.transitions import run_unblock
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.git.repo import find_repo

MAIN = "$LEVIATHAN_WORKTREE/../.."  # the main checkout, seen from the slot


def attempt(root: Path, task_id: str = "t"):
    return run_attempt(find_repo(root), task_id)


def events_of(root: Path, kind: str) -> list[dict]:
    lines = events.log_path(find_repo(root)).read_text().splitlines()
    return [event["data"] for event in map(json.loads, lines) if event["kind"] == kind]


@pytest.mark.parametrize(("write_there", "path"), [
    (f"echo escaped > {MAIN}/ESCAPE.md", "ESCAPE.md"),
    (f"echo 'forbidden_patterns: []' >> {MAIN}/.leviathan/policy.yaml", ".leviathan/policy.yaml"),
    (f"echo '# mine' >> {MAIN}/README.md", "README.md"),
    (f"mkdir -p {MAIN}/src/deep && echo x > {MAIN}/src/deep/new.py", "src/deep/new.py"),
    (f"printf '#!/bin/sh\\\\necho owned\\\\n' > {MAIN}/.git/hooks/pre-commit", ".git/hooks/pre-commit"),
], ids=["untracked-file", "policy", "tracked-file", "new-directory", "git-hook"])
def test_an_agent_writing_into_the_main_checkout_fails_and_blocks_its_task(git_repo: Path, write_there: str,
                                                                            path: str) -> None:
    root = make_project(git_repo, task_yaml("t", green=f"{GREEN}; {write_there}"))
    before = (root / path).read_bytes() if (root / path).exists() else None
    result = attempt(root)
    assert result.outcome == "failed"
    assert result.reason.startswith("green: the main checkout changed during the attempt"), result.reason
    assert path in result.reason
    assert (root / path).read_bytes() != before  # nothing the human owns is restored or removed
    task = load_backlog(find_repo(root)).task("t")
    assert task.status is Status.BLOCKED and task.get("blocked_type") == "decision"
    assert task.attempts == 0 and "leviathan unblock t" in task.get("blocked_reason")
    failed = events_of(root, "attempt.failed")[-1]
    assert failed["main_checkout_changed"] is True and path in failed["reason"]
    log = (find_repo(root).state_dir / "attempts" / f"{result.attempt_id}.log").read_text()
    assert f"error: the main checkout changed" in log and path in log
    assert files_of(root, result.commit) == ["calc.py", "tests/test_add.py"]  # its work kept on the branch


def files_of(root: Path, commit: str) -> list[str]:
    return sorted(git(root, "show", "--name-only", "--format=", commit).split())


def test_a_test_the_agent_wrote_that_writes_the_main_checkout_fails_too(git_repo: Path) -> None:
    """The tests run the agent's code: the watch covers the test command, not only the agent."""
    red = unittest_file("add", "open(\"../../ESCAPE.md\", \"w\").write(\"x\"); self.assertEqual(add(2, 3), 5)",
                        "from calc import add")
    root = make_project(git_repo, task_yaml("t", red=red))
    result = attempt(root)
    assert result.outcome == "failed" and "ESCAPE.md was added" in result.reason, result.reason
    # Found after green, whose test run wrote it (in red the test could not import `calc` yet).
    assert result.reason.startswith("green: ")
    assert (root / "ESCAPE.md").exists()


def test_an_escape_outranks_the_failure_that_ended_the_attempt(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("t", green=f"echo x > {MAIN}/ESCAPE.md; exit 3"))
    result = attempt(root)
    assert "ESCAPE.md" in result.reason and "the agent exited with 3" in result.reason
    assert load_backlog(find_repo(root)).task("t").status is Status.BLOCKED


def test_what_the_human_had_changed_before_the_attempt_is_no_escape(git_repo: Path) -> None:
    """The human's uncommitted work in the main checkout, left as it was, fails nothing."""
    root = make_project(git_repo, task_yaml("t"))
    write(root / "README.md", "# being edited\n")
    write(root / "notes" / "draft.md", "mine\n")
    write(root / ".leviathan" / "local-notes.txt", "ignored or not, watched\n")
    result = attempt(root)
    assert result.outcome == "succeeded", result.reason
    assert (root / "README.md").read_text() == "# being edited\n"


def test_the_backlog_changing_elsewhere_during_the_attempt_is_no_escape(git_repo: Path) -> None:
    """A human adds a task and the tool writes another task's status while the agent works (here
    the agent step does both, as they would be done meanwhile): the tool cannot tell who, and
    neither touches the attempt's own task. The human's editor leaves its swap file and backup
    beside the backlog, as the tool's atomic writes leave their temp file for a moment."""
    status_write = "python -c \"import sys; p=sys.argv[1]; t=open(p).read(); " \
                   "open(p,'w').write(t.replace('id: other\\n    title: Add other\\n    status: ready', " \
                   "'id: other\\n    title: Add other\\n    status: blocked'))\" " + f"{MAIN}/.leviathan/backlog.yaml"
    add_task = f"printf '  - {{id: later, title: Added meanwhile, status: new}}\\n' >> {MAIN}/.leviathan/backlog.yaml"
    editor = f"echo swap > {MAIN}/.leviathan/.backlog.yaml.swp; echo old > {MAIN}/.leviathan/backlog.yaml~"
    root = make_project(git_repo, task_yaml("t", green=f"{GREEN}; {status_write}; {add_task}; {editor}")
                        + task_yaml("other"))
    result = attempt(root)
    assert result.outcome == "succeeded", result.reason
    backlog = load_backlog(find_repo(root))
    assert backlog.task("later").title == "Added meanwhile" and backlog.task("other").status is Status.BLOCKED
    log = (find_repo(root).state_dir / "attempts" / f"{result.attempt_id}.log").read_text()
    assert "backlog.yaml changed in the main checkout during the attempt outside this task's own fields" in log


def test_the_attempts_own_task_changing_in_the_backlog_blocks_it(git_repo: Path) -> None:
    """Its criteria or allowed paths changed: the attempt worked to a premise that no longer holds,
    and an agent may not widen its own scope for the next attempt."""
    widen = (f"sed -i 's/allowed_paths: \\[calc.py, tests\\/\\]/allowed_paths: [\"**\"]/' "
             f"{MAIN}/.leviathan/backlog.yaml")
    root = make_project(git_repo, task_yaml("t", green=f"{GREEN}; {widen}"))
    result = attempt(root)
    assert result.outcome == "failed"
    assert "backlog.yaml: task t's fields allowed_paths changed" in result.reason, result.reason
    assert load_backlog(find_repo(root)).task("t").allowed_paths == ["**"]  # left as written


def test_a_blocked_escape_is_unblocked_back_to_ready(git_repo: Path) -> None:
    """Unblocked, the task is ready with no attempt counted; an agent that escapes again is blocked again."""
    root = make_project(git_repo, task_yaml("t", green=f"{GREEN}; echo x > {MAIN}/ESCAPE.md"))
    assert attempt(root).outcome == "failed"
    (root / "ESCAPE.md").unlink()
    assert run_unblock(find_repo(root), "t", "it was me", io.StringIO()) == 0
    task = load_backlog(find_repo(root)).task("t")
    assert task.status is Status.READY and task.attempts == 0
    assert attempt(root).outcome == "failed" and (root / "ESCAPE.md").exists()
    assert load_backlog(find_repo(root)).task("t").status is Status.BLOCKED


def test_the_default_policy_is_unchanged_by_the_watch(git_repo: Path) -> None:
    """A plain attempt writes nothing into the main checkout but the backlog's status."""
    root = make_project(git_repo, task_yaml("t"), POLICY)
    assert attempt(root).outcome == "succeeded"
    assert git(root, "status", "--porcelain") == " M .leviathan/backlog.yaml\n"


def test_an_agent_committing_in_the_main_checkout_fails(git_repo: Path) -> None:
    """A commit leaves every file clean: HEAD moving is what shows it."""
    commit = f"echo x >> {MAIN}/README.md && git -C {MAIN} commit -qam sneaky"
    root = make_project(git_repo, task_yaml("t", green=f"{GREEN}; {commit}"))
    result = attempt(root)
    assert result.outcome == "failed"
    assert "HEAD moved from main at " in result.reason and "(a commit, checkout, reset or pull)" in result.reason
    assert git(root, "log", "-1", "--format=%s") == "sneaky\n"  # left as it is


def test_a_review_approved_during_the_attempt_is_no_escape(git_repo: Path) -> None:
    """The tool's own merge moves HEAD (here `leviathan merge` runs while the agent works, as a
    human would run it from the TUI): its `review.approved` event names the commit."""
    approve = f"{sys.executable} -m leviathan_local --repo {MAIN} merge other"
    root = make_project(git_repo, task_yaml("other", allowed="[calc.py, tests/]")
                        + task_yaml("t", red=unittest_file("sub", "self.assertEqual(sub(3, 2), 1)", "from ops import sub"),
                                    green=f"printf 'def sub(a, b):\\n    return a - b\\n' > ops.py; {approve}",
                                    allowed="[ops.py, tests/]"))
    assert attempt(root, "other").outcome == "succeeded"
    # As `leviathan attempt` and `run` do before any attempt: `merge` then finds the backlog merge
    # driver registered and writes no git config while the attempt watches it.
    ensure_registered(find_repo(root))
    result = attempt(root)
    assert result.outcome == "succeeded", result.reason
    assert load_backlog(find_repo(root)).task("other").status is Status.DONE
    assert events_of(root, "review.approved")[-1]["commit"] == git(root, "rev-parse", "main").strip()
