"""Every writer opens the event log before it changes anything. With a log that cannot be
appended to (a directory in its place, or mode 0444), `reject`, `discover`, `attempt` and `run`
(its recovery of a dead attempt included) exit 2 naming the log, and every file of the
repository is as it was: backlog, branches, worktrees, the attempt records."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git, write
from engine_fixtures import RED, make_project, task_yaml
from test_file_errors import assert_explained, unprivileged_prefix
from test_review import reviewed  # noqa: F401 (fixture)

from leviathan_local import events
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.engine.recovery import recover
from leviathan_local.git.repo import find_repo

LOG = ".git/leviathan/events.ndjson"
STATE = ".git/leviathan/"
# What of the state dir holds state; the rest are caches and lock files, which a refused
# command may create or refresh without changing anything.
STATE_KEPT = ("events.ndjson", "running", "attempts")
HOW = ["directory", "read-only"]
MESSAGE = {"directory": f"{LOG} is a directory, where a file is expected", "read-only": f"permission denied: {LOG}"}


def break_log(root: Path, how: str, aside: Path) -> None:
    """Make the log unwritable; a directory in its place puts the log's content ``aside``."""
    log = root / LOG
    if how == "directory":
        if log.exists():
            log.replace(aside)
        log.mkdir(parents=True)
    else:
        if not log.exists():
            write(log, "")
        log.chmod(0o444)


def mend_log(root: Path, how: str, aside: Path) -> None:
    log = root / LOG
    if how == "directory":
        log.rmdir()
        if aside.exists():
            aside.replace(log)
    else:
        log.chmod(0o644)


def leviathan(root: Path, how: str, *args: str) -> tuple[int, str, str]:
    """The CLI as its own process: a read-only log needs root's override capabilities dropped."""
    prefix = unprivileged_prefix() if how == "read-only" else []
    result = subprocess.run([*prefix, sys.executable, "-m", "leviathan_local", "--repo", str(root), *args],
                            capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


def repository_state(root: Path) -> dict[str, bytes | None]:
    """Every file and directory of the repository, .git included (refs, index, worktrees), with
    its bytes; in the state dir only what holds state."""
    found: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if name.startswith(STATE) and not name[len(STATE):].startswith(STATE_KEPT):
            continue
        found[name] = None if path.is_dir() else path.read_bytes()
    return found


def assert_refused(root: Path, how: str, *args: str) -> None:
    before = repository_state(root)
    assert_explained(leviathan(root, how, *args), MESSAGE[how])
    assert repository_state(root) == before


@pytest.fixture
def project(git_repo: Path) -> Path:
    return make_project(git_repo, task_yaml("a"))


@pytest.mark.parametrize("how", HOW)
def test_reject_with_an_unwritable_log_changes_nothing(reviewed, how: str, tmp_path: Path) -> None:
    paths, branch = reviewed
    break_log(paths.root, how, tmp_path / "log")
    assert_refused(paths.root, how, "reject", "add", "--reason", "needs a test", "--delete-branch")
    assert branch in git(paths.root, "branch", "--list", branch)
    assert load_backlog(paths).task("add").status is Status.REVIEW


@pytest.mark.parametrize("how", HOW)
def test_discover_with_an_unwritable_log_changes_nothing(git_repo: Path, how: str, tmp_path: Path) -> None:
    write(git_repo / ".leviathan" / "backlog.yaml", "tasks:\n  # kept as written\n  - id: a\n    status: new\n")
    write(git_repo / "app.py", "# TODO: handle a missing user\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "a todo")
    break_log(git_repo, how, tmp_path / "log")
    assert_refused(git_repo, how, "discover")
    # A dry run writes nothing and logs nothing: it still works.
    code, out, err = leviathan(git_repo, how, "discover", "--dry-run")
    assert code == 0 and "handle a missing user" in out, err


@pytest.mark.parametrize("how", HOW)
def test_an_attempt_with_an_unwritable_log_changes_nothing(project: Path, how: str, tmp_path: Path) -> None:
    break_log(project, how, tmp_path / "log")
    assert_refused(project, how, "attempt", "a")
    assert not (project / "worktrees").exists()


@pytest.mark.parametrize("how", HOW)
def test_a_run_with_an_unwritable_log_changes_nothing(project: Path, how: str, tmp_path: Path) -> None:
    break_log(project, how, tmp_path / "log")
    assert_refused(project, how, "run")
    assert not (project / "worktrees").exists()


# For a step's script: the state dir of the repository whose worktree it runs in.
FIND_STATE_DIR = ("common = subprocess.run(['git', 'rev-parse', '--git-common-dir'], capture_output=True, text=True,"
                  " check=True).stdout.strip()\nstate = os.path.join(common, 'leviathan')\n")


def kill_own_attempt(script: Path) -> str:
    """A red step that writes its test, then SIGKILLs the `leviathan attempt` running it (the pid
    its record names): the attempt dies as a crash would leave it."""
    script.write_text(
        "import json, os, signal, subprocess\n"
        + FIND_STATE_DIR +
        "record = os.path.join(state, 'running', os.environ['LEVIATHAN_ATTEMPT_ID'] + '.json')\n"
        "os.kill(json.load(open(record))['pid'], signal.SIGKILL)\n")
    return f"{RED} && python {script}"


@pytest.mark.parametrize("how", HOW)
def test_recovery_with_an_unwritable_log_leaves_the_dead_attempt_for_the_next_run(
        git_repo: Path, how: str, tmp_path: Path) -> None:
    root = make_project(git_repo, task_yaml("a", red=kill_own_attempt(tmp_path / "die.py")))
    died = subprocess.run([sys.executable, "-m", "leviathan_local", "--repo", str(root), "attempt", "a"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert died.returncode == -9
    paths = find_repo(root)
    assert load_backlog(paths).task("a").status is Status.DOING
    assert list((paths.state_dir / "running").glob("*.json")), "the dead attempt's record"
    assert (root / "worktrees" / "slot-0" / "tests" / "test_add.py").exists(), "its work, not yet kept"

    break_log(root, how, tmp_path / "log")
    assert_refused(root, how, "run")  # nothing killed, committed, cleaned or counted

    mend_log(root, how, tmp_path / "log")
    notes = recover(paths, None)
    task = load_backlog(paths).task("a")
    assert (task.status, task.attempts) == (Status.READY, 1), notes
    assert [event.kind for event in events.read_events(paths)][-1] == "attempt.recovered"
    assert events.verify_chain(paths).ok


def break_log_midway(script: Path, aside: Path) -> str:
    """A red step that writes its test, then puts a directory where the event log is."""
    script.write_text(
        "import os, subprocess\n"
        + FIND_STATE_DIR +
        "log = os.path.join(state, 'events.ndjson')\n"
        f"os.replace(log, {str(aside)!r})\n"
        "os.mkdir(log)\n")
    return f"{RED} && python {script}"


def test_a_log_that_breaks_during_an_attempt_leaves_the_backlog_to_recovery(git_repo: Path, tmp_path: Path) -> None:
    # The status writeback is refused, not made without its event: the task stays `doing` with
    # its record, for the next run to count once the log is mended. The agent's work, which the
    # slot's cleaning would otherwise lose, is kept on the branch first.
    aside = tmp_path / "log"
    root = make_project(git_repo, task_yaml("a", red=break_log_midway(tmp_path / "break.py", aside)))
    paths = find_repo(root)
    code, out, err = leviathan(root, "directory", "attempt", "a")
    assert_explained((code, out, err), MESSAGE["directory"])
    task = load_backlog(paths).task("a")
    assert (task.status, task.attempts) == (Status.DOING, 0)
    branch = str(task.get("branch_name"))
    assert "tests/test_add.py" in git(root, "show", "--name-only", "--format=", branch).split()
    assert list((paths.state_dir / "running").glob("*.json")), "the record, for the next run"

    mend_log(root, "directory", aside)
    recover(paths, None)
    task = load_backlog(paths).task("a")
    assert (task.status, task.attempts) == (Status.READY, 1)
    assert [event.kind for event in events.read_events(paths)][-1] == "attempt.recovered"
    assert events.verify_chain(paths).ok
