from __future__ import annotations

import io

from conftest import git, tree_snapshot
from leviathan_local.backlog_store import load_backlog
from leviathan_local.commands.init import run_init
from leviathan_local.contract import load_contract
from leviathan_local.git.repo import RepoPaths
from leviathan_local.policy_load import load_policy


def test_init_creates_valid_commented_files(repo_paths: RepoPaths) -> None:
    out = io.StringIO()
    assert run_init(repo_paths, out=out) == 0
    for path in (repo_paths.contract, repo_paths.backlog, repo_paths.policy):
        assert path.read_text().startswith("#")
    assert load_backlog(repo_paths).tasks == []
    assert load_policy(repo_paths).forbidden_patterns == (".github/**", "**/*.pem")
    assert load_contract(repo_paths).default_branch == "main"
    assert (repo_paths.root / ".gitignore").read_text() == "worktrees/\n"
    assert "created .leviathan/backlog.yaml" in out.getvalue()
    # worktrees/ is really ignored by git
    (repo_paths.root / "worktrees" / "x").mkdir(parents=True)
    (repo_paths.root / "worktrees" / "x" / "f").write_text("x")
    assert "worktrees" not in git(repo_paths.root, "status", "--porcelain")


def test_init_is_idempotent_byte_for_byte(repo_paths: RepoPaths) -> None:
    run_init(repo_paths, out=io.StringIO())
    before = tree_snapshot(repo_paths.root)
    out = io.StringIO()
    run_init(repo_paths, out=out)
    assert tree_snapshot(repo_paths.root) == before
    assert "kept    .leviathan/policy.yaml" in out.getvalue()


def test_init_never_overwrites_and_keeps_gitignore(repo_paths: RepoPaths) -> None:
    repo_paths.leviathan_dir.mkdir()
    repo_paths.backlog.write_text("tasks:\n  - id: mine\n")
    (repo_paths.root / ".gitignore").write_bytes(b"*.log\r\nbuild")
    run_init(repo_paths, out=io.StringIO())
    assert repo_paths.backlog.read_text() == "tasks:\n  - id: mine\n"
    assert (repo_paths.root / ".gitignore").read_bytes() == b"*.log\r\nbuild\nworktrees/\n"


def test_existing_worktrees_ignore_is_not_duplicated(repo_paths: RepoPaths) -> None:
    for line in ("/worktrees/\n", "worktrees\n", "worktrees/**\n"):
        (repo_paths.root / ".gitignore").write_text(line)
        run_init(repo_paths, out=io.StringIO())
        assert (repo_paths.root / ".gitignore").read_text() == line
