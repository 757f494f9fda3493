from __future__ import annotations

import pytest

from leviathan_local.gates import scope_violations, secret_findings
from leviathan_local.git.repo import Change
from leviathan_local.policy import ALWAYS_FORBIDDEN

FORBIDDEN = (".github/**", "**/*.pem", *ALWAYS_FORBIDDEN)


def violations(*changes: Change, allowed=("src/", "tests/**")) -> list[str]:
    return [f"{v.path}: {v.reason}" for v in scope_violations(list(changes), list(allowed), FORBIDDEN)]


def test_allowed_changes_pass() -> None:
    assert violations(Change("src/a.py", "M"), Change("tests/unit/test_a.py", "A"), Change("src/b.py", "D")) == []


def test_out_of_scope_forbidden_and_the_backlog() -> None:
    assert violations(Change("docs/x.md", "A")) == ["docs/x.md: outside allowed_paths (src/, tests/**)"]
    assert violations(Change("src/key.pem", "A")) == ["src/key.pem: matches forbidden pattern **/*.pem"]
    assert violations(Change(".leviathan/backlog.yaml", "M"), allowed=("src/", ".leviathan/")) == [
        ".leviathan/backlog.yaml: matches forbidden pattern .leviathan/**"]


def test_a_rename_counts_where_it_came_from() -> None:
    assert violations(Change("src/moved.py", "R", old_path="lib/orig.py")) == [
        "lib/orig.py: outside allowed_paths (src/, tests/**)"]


def test_symlinks_may_not_reach_outside() -> None:
    assert violations(Change("src/link", "A", symlink_target="../.leviathan/backlog.yaml")) == [
        "src/link: symlink target .leviathan/backlog.yaml: matches forbidden pattern .leviathan/**"]
    assert violations(Change("src/up", "A", symlink_target="../../etc/passwd"))[0].endswith(
        "symlink points outside the repository (../../etc/passwd)")
    assert violations(Change("src/abs", "A", symlink_target="/etc/passwd"))
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
