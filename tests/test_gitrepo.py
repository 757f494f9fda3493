"""Git operations on real throw-away repositories."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import git, write

from leviathan_local.git.attempt_tree import Worktree, commit_on_branch, stage_worktree, tree_added_lines, tree_changes
from leviathan_local.git.repo import add_worktree, branch_head, commit_file, file_is_dirty, find_repo, remove_worktree


def test_worktree_lifecycle_changes_and_commit(git_repo: Path) -> None:
    paths = find_repo(git_repo)
    write(git_repo / ".gitignore", "worktrees/\n")  # as `leviathan init` leaves it
    git(git_repo, "add", ".gitignore")
    git(git_repo, "commit", "-qm", "ignore worktrees")
    base = branch_head(paths, "main")
    location = git_repo / "worktrees" / "t-1"
    add_worktree(paths, "t-1", location, "agent/t-1-abc", base)
    assert (location / "README.md").exists()
    (location / "README.md").rename(location / "READ.md")
    write(location / "src" / "new.py", "TOKEN = 1\n")
    os.symlink("../.leviathan/backlog.yaml", location / "src" / "link")
    worktree = Worktree(location)
    tree = stage_worktree(worktree)
    changes = {change.path: change for change in tree_changes(worktree, base, tree)}
    assert changes["READ.md"].kind == "R" and changes["READ.md"].paths == ("README.md", "READ.md")
    assert changes["src/new.py"].kind == "A"
    assert changes["src/link"].symlink_target == "../.leviathan/backlog.yaml"
    assert tree_added_lines(worktree, base, tree)["src/new.py"] == ["TOKEN = 1"]
    commit = commit_on_branch(worktree, "agent/t-1-abc", base, tree, "Do t-1\n\nLeviathan-Task: t-1\n")
    assert commit is not None and branch_head(paths, "agent/t-1-abc") == commit
    assert git(git_repo, "rev-parse", f"{commit}^") == base + "\n"  # one commit, on the base
    base_tree = git(git_repo, "rev-parse", f"{base}^{{tree}}").strip()
    assert commit_on_branch(worktree, "agent/t-1-abc", base, base_tree, "nothing") is None  # never an empty commit
    assert branch_head(paths, "agent/t-1-abc") == commit
    assert git(git_repo, "status", "--porcelain") == ""  # the main checkout was never touched
    remove_worktree(paths, "t-1", location)
    assert not location.exists()
    assert "agent/t-1-abc" in git(git_repo, "branch")
    assert "worktrees/t-1" not in git(git_repo, "worktree", "list")
    remove_worktree(paths, "t-1", location, delete_branch="agent/t-1-abc")
    assert "agent/t-1-abc" not in git(git_repo, "branch")


def test_commit_file_commits_only_that_file(git_repo: Path) -> None:
    paths = find_repo(git_repo)
    write(paths.backlog, "tasks: []\n")
    git(git_repo, "add", ".leviathan/backlog.yaml")
    git(git_repo, "commit", "-qm", "backlog")
    assert not file_is_dirty(paths, ".leviathan/backlog.yaml")
    write(paths.backlog, "tasks:\n  - id: a\n")
    write(git_repo / "README.md", "# human edit, staged\n")
    git(git_repo, "add", "README.md")
    write(git_repo / "notes.txt", "untracked\n")
    assert file_is_dirty(paths, ".leviathan/backlog.yaml")
    commit_file(paths, ".leviathan/backlog.yaml", "[leviathan] Save backlog state on halt (CapReached)")
    assert not file_is_dirty(paths, ".leviathan/backlog.yaml")
    assert git(git_repo, "show", "--name-only", "--format=%s", "HEAD").split() == [
        "[leviathan]", "Save", "backlog", "state", "on", "halt", "(CapReached)", ".leviathan/backlog.yaml"]
    status = git(git_repo, "status", "--porcelain")
    assert "M  README.md" in status and "?? notes.txt" in status


def test_commit_files_never_makes_an_empty_commit(git_repo: Path) -> None:
    """A file staged with a change and then changed back is dirty by status, yet equals HEAD."""
    paths = find_repo(git_repo)
    write(paths.backlog, "tasks: []\n")
    git(git_repo, "add", ".leviathan/backlog.yaml")
    git(git_repo, "commit", "-qm", "backlog")
    before = git(git_repo, "rev-parse", "HEAD")
    write(paths.backlog, "tasks:\n  - id: a\n")
    git(git_repo, "add", ".leviathan/backlog.yaml")
    write(paths.backlog, "tasks: []\n")
    assert file_is_dirty(paths, ".leviathan/backlog.yaml")
    assert commit_file(paths, ".leviathan/backlog.yaml", "[leviathan] Save backlog state on halt (CapReached)") is None
    assert git(git_repo, "rev-parse", "HEAD") == before
    assert git(git_repo, "status", "--porcelain") == "MM .leviathan/backlog.yaml\n"  # left as the human staged it


def test_a_first_commit_of_nothing_is_refused(tmp_path: Path) -> None:
    import pytest

    from leviathan_local.git.repo import init_with_commit

    with pytest.raises(ValueError, match="no file to commit"):
        init_with_commit(tmp_path, "empty")
    write(tmp_path / "a.txt", "a\n")
    paths = init_with_commit(tmp_path, "first")
    assert git(paths.root, "show", "--name-only", "--format=%s", "HEAD").split() == ["first", "a.txt"]
