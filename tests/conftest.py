"""Shared fixtures: real, throw-away git repositories (no mocks of git or the file system)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest
from hypothesis import settings
from pygit2.enums import ConfigLevel

from leviathan_local.git.repo import RepoPaths, find_repo

FIXED_NOW = "2026-11-22T12:00:00Z"

# Property tests draw the same inputs on every run, so a red CI is a regression, never a roll of
# the dice; `LEVIATHAN_HYPOTHESIS=explore` draws fresh ones, for hunting new failures by hand.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("LEVIATHAN_HYPOTHESIS", "repeatable"))


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LEVIATHAN_NOW", FIXED_NOW)
    return FIXED_NOW


@pytest.fixture(autouse=True)
def isolated_git_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)
    # libgit2 found the config files once, when it loaded: point it at the same isolated home.
    levels = (ConfigLevel.SYSTEM, ConfigLevel.XDG, ConfigLevel.GLOBAL)
    saved = {level: pygit2.settings.search_path[level] for level in levels}
    empty = tmp_path_factory.mktemp("no-config")
    for level in levels:
        pygit2.settings.search_path[level] = str(home if level is ConfigLevel.GLOBAL else empty)
    yield
    for level, value in saved.items():
        pygit2.settings.search_path[level] = value


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """An empty git repository on branch main with one commit."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("# demo\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "initial")
    return root


@pytest.fixture
def repo_paths(git_repo: Path) -> RepoPaths:
    return find_repo(git_repo)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def tree_snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``root`` (the .git dir included) with its mtime and bytes."""
    snapshot = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            snapshot[str(path.relative_to(root))] = (os.stat(path).st_mtime_ns, path.read_bytes())
    return snapshot
