from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git, write

from leviathan_local.cli.main import main
from leviathan_local.events import GENESIS, append_event, event_hash, log_path, read_events, verify_chain
from leviathan_local.git.repo import RepoPaths


def fill(paths: RepoPaths, count: int = 4) -> list[str]:
    for number in range(count):
        append_event(paths, "task.ready", f"t{number % 2}", before="new")
    return log_path(paths).read_text().splitlines(keepends=True)


def test_events_are_hash_chained(repo_paths: RepoPaths) -> None:
    fill(repo_paths)
    events = read_events(repo_paths)
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[0].prev == GENESIS
    assert all(later.prev == earlier.hash for earlier, later in zip(events, events[1:]))
    assert all(e.hash == event_hash(e.as_dict()) for e in events)
    assert events[0].ts == "2026-11-22T12:00:00Z"
    assert verify_chain(repo_paths).ok and verify_chain(repo_paths).count == 4


@pytest.mark.parametrize("tamper", ["edit", "delete", "swap", "torn", "garbage"])
def test_tampering_is_found_at_the_first_broken_line(repo_paths: RepoPaths, tamper: str) -> None:
    lines = fill(repo_paths)
    if tamper == "edit":
        lines[1] = lines[1].replace('"before":"new"', '"before":"done"')
    elif tamper == "delete":
        del lines[1]
    elif tamper == "swap":
        lines[1], lines[2] = lines[2], lines[1]
    elif tamper == "torn":
        lines[-1] = lines[-1][:20]
    else:
        lines[2] = "not json\n"
    log_path(repo_paths).write_text("".join(lines))
    report = verify_chain(repo_paths)
    assert not report.ok
    assert report.broken_line == {"edit": 2, "delete": 2, "swap": 2, "torn": 4, "garbage": 3}[tamper]


def test_filter_by_task_and_absent_log(repo_paths: RepoPaths) -> None:
    assert read_events(repo_paths) == [] and verify_chain(repo_paths).ok
    assert not repo_paths.state_dir.exists()  # reading never creates anything
    fill(repo_paths)
    assert [e.seq for e in read_events(repo_paths, task_id="t1")] == [2, 4]


def test_concurrent_appends_from_processes_keep_one_chain(repo_paths: RepoPaths) -> None:
    code = ("import sys; from leviathan_local.git.repo import find_repo; from leviathan_local.events import append_event\n"
            "paths = find_repo(sys.argv[1])\n"
            "for n in range(50): append_event(paths, 'load.test', sys.argv[2], n=n)\n")
    workers = [subprocess.Popen([sys.executable, "-c", code, str(repo_paths.root), f"w{w}"]) for w in range(4)]
    assert all(worker.wait() == 0 for worker in workers)
    report = verify_chain(repo_paths)
    assert report.ok and report.count == 200
    assert sorted(len(read_events(repo_paths, task_id=f"w{w}")) for w in range(4)) == [50] * 4


def test_cli_events_and_verify_exit_codes(repo_paths: RepoPaths, capsys) -> None:
    fill(repo_paths, 2)

    def run(*args: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as exited:
            main(["--repo", str(repo_paths.root), *args])
        return exited.value.code, capsys.readouterr().out

    code, out = run("events", "--json", "--task", "t0")
    assert code == 0 and [json.loads(line)["task"] for line in out.splitlines()] == ["t0"]
    code, out = run("events")
    assert code == 0 and "task.ready" in out
    assert run("events", "verify") == (0, "event log OK: 2 events, chain intact\n")
    text = log_path(repo_paths).read_text().replace('"before":"new"', '"before":"x"', 1)
    log_path(repo_paths).write_text(text)
    code, out = run("events", "verify")
    assert code == 1 and "BROKEN at line 1 (seq 1)" in out


def test_an_append_after_a_torn_line_keeps_both_lines_apart(repo_paths: RepoPaths) -> None:
    lines = fill(repo_paths, 2)
    log_path(repo_paths).write_text(lines[0] + lines[1][:15])
    append_event(repo_paths, "after.crash")
    text = log_path(repo_paths).read_text()
    assert text.count("\n") == 3 and '"kind":"after.crash"' in text.splitlines()[2]
    report = verify_chain(repo_paths)
    assert not report.ok and report.broken_line == 2


def test_the_log_lives_in_the_git_common_dir_shared_by_linked_worktrees(git_repo: Path, capsys) -> None:
    write(git_repo / ".leviathan" / "backlog.yaml", "tasks:\n" + "".join(
        f"  - id: {task_id}\n    status: new\n    acceptance_criteria: [x]\n" for task_id in ("a", "b")))
    git(git_repo, "add", ".leviathan")
    git(git_repo, "commit", "-qm", "backlog")
    linked = git_repo.parent / "linked"
    git(git_repo, "worktree", "add", "-q", "-b", "side", str(linked))

    def run(root: Path, *args: str) -> str:
        with pytest.raises(SystemExit) as exited:
            main(["--repo", str(root), *args])
        assert exited.value.code == 0
        return capsys.readouterr().out

    run(git_repo, "ready", "a")
    run(linked, "ready", "b")  # from the linked worktree, on its own copy of the backlog
    # Where git itself says the common dir is, asked from the linked worktree.
    common = Path(git(linked, "rev-parse", "--path-format=absolute", "--git-common-dir").strip())
    assert common == git_repo / ".git"
    log = common / "leviathan" / "events.ndjson"
    assert [(event["task"], event["kind"]) for event in map(json.loads, log.read_text().splitlines())] == [
        ("a", "task.ready"), ("b", "task.ready")]
    linked_git_dir = Path(git(linked, "rev-parse", "--path-format=absolute", "--git-dir").strip())
    assert linked_git_dir != common and not (linked_git_dir / "leviathan").exists()
    for root in (git_repo, linked):  # one chain, seen the same from either checkout
        assert [json.loads(line)["seq"] for line in run(root, "events", "--json").splitlines()] == [1, 2]
        assert run(root, "events", "verify") == "event log OK: 2 events, chain intact\n"
