from __future__ import annotations

from pathlib import Path

import pytest
from engine_fixtures import make_project, task_yaml

from leviathan_local.config.policy import ALWAYS_FORBIDDEN
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.engine.gates import scope_violations, secret_findings
from leviathan_local.git.attempt_tree import Change
from leviathan_local.git.repo import find_repo

FORBIDDEN = (".github/**", "**/*.pem", *ALWAYS_FORBIDDEN)


def violations(*changes: Change, allowed=("src/", "tests/**")) -> list[str]:
    return [f"{v.path}: {v.reason}" for v in scope_violations(list(changes), list(allowed), FORBIDDEN)]


def test_allowed_changes_pass() -> None:
    assert violations(Change("src/a.py", "M"), Change("tests/unit/test_a.py", "A"), Change("src/b.py", "D")) == []


def test_out_of_scope_forbidden_and_the_backlog() -> None:
    assert violations(Change("docs/x.md", "A")) == ["docs/x.md: added, outside allowed_paths (src/, tests/**)"]
    assert violations(Change("docs/x.md", "D")) == ["docs/x.md: deleted, outside allowed_paths (src/, tests/**)"]
    assert violations(Change("src/key.pem", "A")) == ["src/key.pem: added, matches forbidden pattern **/*.pem"]
    assert violations(Change(".leviathan/backlog.yaml", "M"), allowed=("src/", ".leviathan/")) == [
        ".leviathan/backlog.yaml: modified, matches forbidden pattern .leviathan/**"]
    assert violations(Change("run.sh", "M", modes=(0o100644, 0o100755), content_changed=False)) == [
        "run.sh: mode 100644 -> 100755 (content unchanged), outside allowed_paths (src/, tests/**)"]


def test_a_rename_counts_where_it_came_from() -> None:
    assert violations(Change("src/moved.py", "R", old_path="lib/orig.py")) == [
        "lib/orig.py: renamed to src/moved.py, outside allowed_paths (src/, tests/**)"]
    assert violations(Change("lib/moved.py", "R", old_path="src/orig.py")) == [
        "lib/moved.py: renamed from src/orig.py, outside allowed_paths (src/, tests/**)"]


def test_symlinks_may_not_reach_outside() -> None:
    assert violations(Change("src/link", "A", symlink_target="../.leviathan/backlog.yaml")) == [
        "src/link: symlink to ../.leviathan/backlog.yaml: its target .leviathan/backlog.yaml "
        "matches forbidden pattern .leviathan/**"]
    assert violations(Change("src/up", "A", symlink_target="../../etc/passwd")) == [
        "src/up: symlink to ../../etc/passwd points outside the repository"]
    assert violations(Change("src/abs", "A", symlink_target="/etc/passwd")) == [
        "src/abs: symlink to /etc/passwd points outside the repository"]
    assert violations(Change("src/ok", "A", symlink_target="other.py")) == []


@pytest.mark.parametrize("line", [
    "key = 'AKIAIOSFODNN7EXAMPLE'",
    "token: ghp_" + "a" * 36,
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "SLACK = 'xoxb-1234567890-abcdef'",
    'password = "hunter2hunter2hunter2x9"',
    "stripe = 'sk_live_" + "4" * 24 + "'",
])
def test_secret_formats_are_found(line: str) -> None:
    [finding] = secret_findings({"src/config.py": [line]})
    assert finding.path == "src/config.py" and "looks like a" in finding.reason
    assert line not in finding.reason


@pytest.mark.parametrize("line", ["password = os.environ['PASSWORD']", "token = get_token()", "AKIA is a prefix"])
def test_ordinary_code_is_not_a_secret(line: str) -> None:
    assert secret_findings({"src/a.py": [line]}) == []


# Through real attempts: a scripted agent makes the change in its refactor phase, on a real
# worktree, and the gates judge what git records (not a hand-built Change).
@pytest.mark.parametrize(("refactor", "reason"), [
    ("rm README.md", "README.md: deleted, outside allowed_paths (calc.py, tests/)"),
    ("mv README.md tests/README.md", "README.md: renamed to tests/README.md, outside allowed_paths (calc.py, tests/)"),
    ("ln -s /etc/passwd tests/passwd", "tests/passwd: symlink to /etc/passwd points outside the repository"),
    ("ln -s ../../../outside tests/up", "tests/up: symlink to ../../../outside points outside the repository"),
    ("ln -s ../README.md tests/readme",
     "tests/readme: symlink to ../README.md: its target README.md outside allowed_paths (calc.py, tests/)"),
    ("chmod +x README.md",
     "README.md: mode 100644 -> 100755 (content unchanged), outside allowed_paths (calc.py, tests/)"),
], ids=["delete", "rename-in", "symlink-etc-passwd", "symlink-up", "symlink-in-repo", "mode-change"])
def test_an_attempt_that_reaches_outside_its_paths_fails_the_gates(git_repo: Path, refactor: str, reason: str) -> None:
    root = make_project(git_repo, task_yaml("t", refactor=refactor))
    result = run_attempt(find_repo(root), "t")
    assert result.outcome == "failed"
    assert result.reason == f"gates: {reason}"
