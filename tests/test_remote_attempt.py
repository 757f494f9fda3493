"""Remote attempts for real, over `git daemon` on 127.0.0.1 (tests/remote_fixtures.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git
from engine_fixtures import task_yaml, wait_until
from remote_fixtures import daemon, remote_for, status, write_tasks  # noqa: F401 - daemon: a fixture

from leviathan_local.engine.remote.apply import apply_remote_attempt, begin_remote_attempt
from leviathan_local.engine.remote.cache import attempt_checkout, remote_cache
from leviathan_local.engine.remote.record import RECORD_FILE
from leviathan_local.engine.remote.worker import run_remote_attempt
from leviathan_local.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_WORK_FAILED, LeviathanError
from leviathan_local.events import read_events
from leviathan_local.git.remote import remote_branches_hold


def test_a_remote_attempt_reaches_review_on_the_controller(tmp_path: Path, daemon: tuple[Path, str]) -> None:
    remote = remote_for(tmp_path, daemon, task_yaml("add"))
    before = remote.refs()
    attempt_id, done = remote.attempt("add")
    assert done.returncode == EXIT_OK, done.stderr
    assert json.loads(done.stdout)["outcome"] == "succeeded"
    assert status(remote, "add") == ("doing", 0)  # the worker's backlog is not the authority

    result = apply_remote_attempt(remote.controller, remote.url, attempt_id)
    assert (result.outcome, status(remote, "add")) == ("succeeded", ("review", 0))
    short = attempt_id.rsplit("-", 1)[1]
    branch = f"refs/heads/agent/add-{short}"
    # Exactly two references more on the remote, nothing else moved.
    after = remote.refs()
    assert set(after) - set(before) == {branch, f"refs/leviathan/attempts/{attempt_id}"}
    assert {name: after[name] for name in before} == before
    root = remote.controller.root
    assert git(root, "rev-parse", branch).strip() == after[branch] == result.commit
    assert git(root, "rev-parse", f"{branch}^").strip() == before["refs/heads/main"]
    assert git(root, "show", f"{branch}:calc.py").startswith("def add")
    record = json.loads(git(root, "show", f"refs/leviathan/attempts/{attempt_id}:{RECORD_FILE}"))
    assert [phase["name"] for phase in record["phases"]] == ["red", "green", "refactor", "gates", "commit"]
    kinds = [event.kind for event in read_events(remote.controller, "add") if event.data.get("attempt") == attempt_id]
    assert kinds[0] == "attempt.started" and kinds[-1] == "attempt.succeeded"
    assert kinds.count("phase.finished") == 5
    assert (remote.controller.state_dir / "attempts" / f"{attempt_id}.log").read_text()
    # Applying again changes nothing.
    assert apply_remote_attempt(remote.controller, remote.url, attempt_id).reason == "already applied"
    assert sum(kind == "attempt.succeeded" for kind in (e.kind for e in read_events(remote.controller, "add"))) == 1


def test_parallel_remote_attempts_are_all_applied(tmp_path: Path, daemon: tuple[Path, str]) -> None:
    """Three workers at once, sharing one cache; one of them fails its green phase."""
    tasks = task_yaml("one") + task_yaml("two") + task_yaml("bad", green="echo 'def add(a, b): return 0' > calc.py")
    remote = remote_for(tmp_path, daemon, tasks)
    names = ("one", "two", "bad")
    started = [begin_remote_attempt(remote.controller, remote.url, name) for name in names]
    workers = [remote.worker(name, start.base, start.attempt_id) for name, start in zip(names, started)]
    codes = [(worker.communicate(timeout=180), worker.returncode)[1] for worker in workers]
    assert codes == [EXIT_OK, EXIT_OK, EXIT_WORK_FAILED]
    results = [apply_remote_attempt(remote.controller, remote.url, start.attempt_id) for start in started]
    assert [result.outcome for result in results] == ["succeeded", "succeeded", "failed"]
    assert [status(remote, name) for name in names] == [("review", 0), ("review", 0), ("ready", 1)]
    assert set(remote.refs()) == {"refs/heads/main", *(f"refs/heads/{start.refs.branch}" for start in started),
                                  *(f"refs/leviathan/attempts/{start.attempt_id}" for start in started)}
    # The failure's work is kept on its branch, as a local attempt keeps it.
    failed = [e for e in read_events(remote.controller, "bad") if e.kind == "attempt.failed"][-1]
    assert failed.data["phase"] == "green" and failed.data["branch_commit"] == results[2].commit is not None


def test_a_push_onto_an_existing_reference_is_refused_and_overwrites_nothing(tmp_path: Path,
                                                                              daemon: tuple[Path, str]) -> None:
    remote = remote_for(tmp_path, daemon, "")
    main = remote.refs()["refs/heads/main"]
    attempt_id = "attempt-add-abc123"
    # The agent itself creates the branch on the remote mid-attempt, at the base: a plain push of
    # the attempt's commit would fast-forward it, so only the create-only push keeps it as it is.
    squat = f"git --git-dir={remote.bare} update-ref refs/heads/agent/add-abc123 {main}"
    write_tasks(remote, task_yaml("add", green=f"{squat} && printf 'def add(a, b):\\n    return a + b\\n' > calc.py"))
    base = remote.refs()["refs/heads/main"]
    done = remote.worker("add", base, attempt_id)
    out, err = done.communicate(timeout=120)
    assert done.returncode == EXIT_BAD_INPUT, err
    assert "already has refs/heads/agent/add-abc123" in err and "nothing was pushed or overwritten" in err
    refs = remote.refs()
    assert refs["refs/heads/agent/add-abc123"] == main  # not moved
    assert f"refs/leviathan/attempts/{attempt_id}" not in refs  # atomic: not the record either

    # Asked again with the same id, the worker refuses before it runs anything.
    again = remote.worker("add", base, attempt_id)
    out, err = again.communicate(timeout=60)
    assert again.returncode == EXIT_BAD_INPUT and "already has" in err and "phase" not in out


def test_a_killed_remote_attempt_is_interrupted_not_counted(tmp_path: Path, daemon: tuple[Path, str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "agent.pgid"
    hang = f"python -c 'import os, time; open(\"{marker}.tmp\", \"w\").write(str(os.getpgid(0))); " \
           f"os.rename(\"{marker}.tmp\", \"{marker}\"); time.sleep(120)'"
    remote = remote_for(tmp_path, daemon, task_yaml("add", green=hang))
    started = begin_remote_attempt(remote.controller, remote.url, "add")
    worker = remote.worker("add", started.base, started.attempt_id)
    try:
        wait_until(marker.exists, "the agent's green phase to start")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.communicate()
        if marker.exists():
            os.killpg(int(marker.read_text()), signal.SIGKILL)  # its own group: the agent is ours to end
    before = remote.refs()
    assert not [name for name in before if name.startswith(("refs/leviathan/", "refs/heads/agent/"))]
    # The killed worker's clone is left behind; the next worker on the machine removes it.
    monkeypatch.setenv("XDG_CACHE_HOME", str(remote.cache))
    abandoned = remote_cache(remote.url) / "attempts" / started.attempt_id
    assert abandoned.is_dir()
    with attempt_checkout(remote.url, "attempt-add-next", started.base) as checkout:
        assert not abandoned.exists() and (checkout / ".leviathan" / "backlog.yaml").is_file()
    assert not checkout.exists()

    result = apply_remote_attempt(remote.controller, remote.url, started.attempt_id)
    assert result.outcome == "interrupted" and "left no record" in result.reason
    assert status(remote, "add") == ("ready", 0)
    failed = [e for e in read_events(remote.controller, "add") if e.kind == "attempt.failed"]
    assert failed[-1].data["outcome"] == "interrupted" and failed[-1].data["attempts"] == 0


def test_a_stopped_remote_attempt_pushes_its_record_and_is_not_counted(tmp_path: Path,
                                                                        daemon: tuple[Path, str]) -> None:
    marker = tmp_path / "agent.started"
    hang = f"touch {marker} && exec sleep 120"
    remote = remote_for(tmp_path, daemon, task_yaml("add", green=hang))
    started = begin_remote_attempt(remote.controller, remote.url, "add")
    worker = remote.worker("add", started.base, started.attempt_id)
    wait_until(marker.exists, "the agent's green phase to start")
    worker.send_signal(signal.SIGTERM)  # what Kubernetes sends a pod it evicts
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 130, err
    result = apply_remote_attempt(remote.controller, remote.url, started.attempt_id)
    assert result.outcome == "interrupted" and status(remote, "add") == ("ready", 0)
    # The red phase's test is kept on the branch, as a local attempt keeps it.
    assert git(remote.controller.root, "show", "--stat", f"agent/add-{started.refs.short}").count("tests/test_add.py")


def test_bad_remote_input_is_refused_before_anything_runs(tmp_path: Path, daemon: tuple[Path, str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    remote = remote_for(tmp_path, daemon, task_yaml("add"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(remote.cache))
    base = remote.refs()["refs/heads/main"]
    cases = [
        (remote.url, base, "attempt-other-abc", "is not an attempt at task add"),
        (remote.url, base, "attempt-add-ABC", "is no attempt id"),
        (remote.url, "abc123", None, "is no full commit id"),
        (remote.url, "0" * 40, None, "is no commit on any branch"),
        (f"{daemon[1]}/no-such.git", base, None, "listing"),
    ]
    for url, commit, attempt_id, expected in cases:
        with pytest.raises(LeviathanError) as refused:
            run_remote_attempt(url, "add", commit, attempt_id)
        assert (refused.value.exit_code, expected in str(refused.value)) == (EXIT_BAD_INPUT, True), refused.value
    assert set(remote.refs()) == {"refs/heads/main"}
    assert not list((remote.cache / "leviathan" / "remotes").glob("*/attempts/*/"))  # no clone left behind


@pytest.mark.parametrize("arguments, expected", [
    (["--base", "0" * 40], "--base, --attempt-id and --stream-log go with --remote URL"),
    (["--remote", "git://127.0.0.1:1/x.git"], "--remote needs --base SHA"),
])
def test_remote_options_go_together(tmp_path: Path, arguments: list[str], expected: str) -> None:
    done = subprocess.run([sys.executable, "-m", "leviathan_local", "attempt", "add", *arguments], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == EXIT_BAD_INPUT and expected in done.stderr


def test_a_base_behind_a_remote_branch_is_held_by_it_and_an_unpushed_one_is_not(
        tmp_path: Path, daemon: tuple[Path, str]) -> None:
    remote = remote_for(tmp_path, daemon, "")
    root = remote.controller.root
    behind = git(root, "rev-parse", "HEAD").strip()
    (root / "more.txt").write_text("more\n")
    git(root, "add", "more.txt")
    git(root, "commit", "-qm", "ahead")
    git(root, "push", "-q", "origin", "main")
    ahead = git(root, "rev-parse", "HEAD").strip()
    git(root, "reset", "-q", "--hard", behind)  # this clone's main is behind the remote's
    assert remote_branches_hold(root, remote.url, ahead)  # a tip
    assert remote_branches_hold(root, remote.url, behind)  # an ancestor of a tip this clone has
    (root / "local.txt").write_text("local\n")
    git(root, "add", "local.txt")
    git(root, "commit", "-qm", "not pushed")
    assert not remote_branches_hold(root, remote.url, git(root, "rev-parse", "HEAD").strip())
