"""Issue 14, defect 4: a task id must work as a git branch name and in the file names the tool
builds, refused at load time (file, line, hint) otherwise. git's rules are decided in Python
(`git/refnames.py`); these tests hold that module to the real `git check-ref-format`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli import run_cli

from leviathan_local.backlog.validate import MAX_ID_LENGTH, id_problem
from leviathan_local.git.refnames import ref_problem

SHORT = "1a2b3c"  # an attempt's short id (secrets.token_hex(3))
BRANCH = "agent/{id}-{short}"  # engine/attempt.py's branch name
# The file names the tool builds from a task id (engine/attempt.py, engine/attempt_cycle.py, engine/runlock.py,
# review/merge_check.py).
FILE_NAMES = ("attempt-{id}-{short}.log", "attempt-{id}-{short}-refactor.prompt.md", "attempt-{id}-{short}.json",
              ".attempt-{id}-{short}.tmp", "merge-check-{id}-{short}.log")


def git_accepts(*arguments: str) -> bool:
    return subprocess.run(["git", "check-ref-format", *arguments], capture_output=True).returncode == 0


@pytest.mark.parametrize("task_id, problem", [
    ("..", "git branch name (`agent/<id>-...`): it may not contain `..`"),
    ("a..b", "it may not contain `..`"),
    (".hidden", "it may not start with `.`"),
    ("x.lock", "it may not end with `.lock`"),
    ("ends.", "it may not end with `.`"),
    ("-x", "id may not start with `-`"),
    ("x" * 300, "id is 300 characters long; at most 128"),
    ("a b", "id may hold only letters, digits"),
])
def test_an_id_git_or_a_file_name_cannot_hold_is_refused_at_load(git_repo: Path, capsys, task_id: str,
                                                                  problem: str) -> None:
    write(git_repo / ".leviathan" / "backlog.yaml",
          f"tasks:\n  - id: ok\n    status: new\n  - id: '{task_id}'\n    status: ready\n")
    code, out, err = run_cli(capsys, "--repo", str(git_repo), "plan", "--json")
    assert code == 2 and out == "" and "Traceback" not in err, err
    assert f".leviathan/backlog.yaml:4:5: task {task_id!r} field 'id': " in err and problem in err, err
    assert "\nhint: fix it in .leviathan/backlog.yaml" in err  # one problem


def test_the_longest_id_fits_every_file_name_and_branch(tmp_path: Path) -> None:
    longest = "a" * MAX_ID_LENGTH
    assert id_problem(longest) is None
    for template in FILE_NAMES:
        (tmp_path / template.format(id=longest, short=SHORT)).write_text("")  # the file system agrees
    assert git_accepts("--branch", BRANCH.format(id=longest, short=SHORT))


# Any text git may be handed on a command line: the characters it refuses, and those it allows.
names = st.text(st.sampled_from("a.-/_@{}~^:?*[\\ \t\x7f\x01Zé9") | st.characters(exclude_categories=("Cs",),
                                                                                       exclude_characters="\x00"),
                max_size=12)
ids = st.text(st.sampled_from("aZ9._-"), min_size=1, max_size=10)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names)
def test_ref_rules_agree_with_git_check_ref_format(name: str) -> None:
    for ref in (f"refs/heads/{name}", f"refs/heads/{BRANCH.format(id=name, short=SHORT)}", name):
        if ref.startswith("-"):
            continue  # git's command line takes it for an option, whatever the ref rules say (`-/0`)
        assert (ref_problem(ref) is None) == git_accepts(ref), (ref, ref_problem(ref))


@settings(max_examples=200, deadline=None)
@given(task_id=ids)
def test_every_id_accepted_is_a_branch_git_accepts(task_id: str) -> None:
    if id_problem(task_id) is None:
        assert git_accepts("--branch", BRANCH.format(id=task_id, short=SHORT)), task_id
        assert git_accepts(f"refs/heads/{task_id}"), task_id  # a ref of its own, too
