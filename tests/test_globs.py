import pytest

from leviathan_local.config.globs import escapes_repo, matches, overlaps, within


@pytest.mark.parametrize(("path", "pattern", "expected"), [
    ("src/api/v1/users.py", "src/api/**/*.py", True),
    ("src/api/users.py", "src/api/**/*.py", True),
    ("src/api/users.txt", "src/api/**/*.py", False),
    ("docs/a/b.md", "docs/", True),
    ("docsx/a.md", "docs/", False),
    ("key.pem", "**/*.pem", True),
    ("a/b/key.pem", "**/*.pem", True),
    ("src/a/b.py", "src/*.py", False),
    ("requirements.txt", "requirements.txt", True),
    ("./docs/x.md", "docs/**", True),
])
def test_matches(path: str, pattern: str, expected: bool) -> None:
    assert matches(path, pattern) is expected


@pytest.mark.parametrize(("inner", "outer", "expected"), [
    ("src/api/**/*.py", "src/", True),
    ("src/api/**/*.py", "src/**", True),
    ("docs/guide.md", "docs/**", True),
    ("src/", "src/*.py", False),
    ("src/", "docs/", False),
    ("README.md", "**/*.md", True),
    ("src/**", "**/*.py", False),
])
def test_within_is_conservative(inner: str, outer: str, expected: bool) -> None:
    assert within(inner, outer) is expected


def test_overlaps_and_escapes() -> None:
    assert overlaps("db/schema/", "db/") and overlaps("src/**", "src/api/x.py") and not overlaps("src/", "docs/")
    assert escapes_repo("../x") and escapes_repo("/etc/passwd") and escapes_repo("a/../../b") and escapes_repo("C:\\x")
    assert not escapes_repo("a..b/c") and not escapes_repo("src/")
