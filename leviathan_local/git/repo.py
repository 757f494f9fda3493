"""Repositories, branches, worktrees of the pool, commits in the main checkout, config (pygit2)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pygit2

from leviathan_local.errors import NotARepositoryError
from leviathan_local.git.locate import common_dir_of
from leviathan_local.git.main_locks import guarded_locks, guarded_main_write
from leviathan_local.repo_paths import RepoPaths

__all__ = ["RepoPaths"]  # re-exported: most callers know it from here


def find_repo(start: Path | str) -> RepoPaths:
    """The repository containing ``start``; a clear error when there is none or it is bare."""
    start_path = Path(start).resolve()
    if not start_path.exists():
        raise NotARepositoryError(
            f"{start_path} does not exist",
            hint="pass an existing directory with --repo PATH",
        )
    found = pygit2.discover_repository(str(start_path))
    if found is None:
        raise NotARepositoryError(
            f"{start_path} is not inside a git repository",
            hint="run `git init` there first, or pass the repository with --repo PATH",
        )
    repo = pygit2.Repository(found)
    if repo.is_bare or repo.workdir is None:
        raise NotARepositoryError(
            f"{found} is a bare repository: there is no work tree to operate on",
            hint="clone it (`git clone`) and run leviathan in the clone",
        )
    git_dir = Path(repo.path).resolve()
    return RepoPaths(root=Path(repo.workdir).resolve(), git_dir=git_dir, common_dir=common_dir_of(git_dir))


def current_branch(paths: RepoPaths) -> str | None:
    """The checked-out branch's short name, or None on a detached HEAD."""
    repo = pygit2.Repository(str(paths.git_dir))
    if repo.head_is_unborn:
        target = repo.references["HEAD"].target
        return str(target).removeprefix("refs/heads/")
    if repo.head_is_detached:
        return None
    return repo.head.shorthand


def open_repository(path: Path) -> pygit2.Repository:
    return pygit2.Repository(str(path))


def branch_head(paths: RepoPaths, branch: str) -> str:
    """The commit id a local branch points at; a clear error when the branch is missing."""
    repo = open_repository(paths.git_dir)
    found = repo.branches.local.get(branch)
    if found is None:
        raise NotARepositoryError(f"branch {branch!r} does not exist in {paths.root}",
                                  hint="set default_branch in .leviathan/contract.yaml to an existing branch")
    return str(found.peel(pygit2.Commit).id)


def add_worktree(paths: RepoPaths, name: str, location: Path, branch: str, base: str) -> None:
    """A new worktree at ``location`` on a new branch ``branch`` starting at commit ``base``."""
    repo = open_repository(paths.git_dir)
    reference = repo.branches.local.create(branch, repo.get(base))
    location.parent.mkdir(parents=True, exist_ok=True)
    repo.add_worktree(name, str(location), reference)


def remove_worktree(paths: RepoPaths, name: str, location: Path, delete_branch: str | None = None) -> None:
    """Delete the worktree's files and its git metadata; optionally its branch too."""
    shutil.rmtree(location, ignore_errors=True)
    repo = open_repository(paths.git_dir)
    if name in repo.list_worktrees():
        repo.lookup_worktree(name).prune(True)
    if delete_branch and delete_branch in repo.branches.local:
        repo.branches.local.delete(delete_branch)


def drop_stale_index_lock(repo: pygit2.Repository) -> None:
    """An agent killed in the middle of `git commit` (or the executor in the middle of a
    checkout) leaves the worktree's index.lock, HEAD.lock… behind in the worktree's own git
    dir. Only the executor, which holds the slot and has stopped the agent, calls this: the
    locks are stale, and every later write would fail on them."""
    for lock in Path(repo.path).glob("*.lock"):
        lock.unlink(missing_ok=True)


def worktree_head(location: Path) -> tuple[str | None, str | None] | None:
    """(branch checked out or None when detached, commit or None when unborn) of a worktree;
    None when it is no usable worktree (its `.git` missing or broken: a checkout killed early)."""
    try:
        repo = open_repository(location)
        if Path(repo.workdir or "").resolve() != location.resolve():
            return None  # no `.git` of its own: git found an enclosing repository instead
        branch = None if repo.head_is_detached else repo.references["HEAD"].target.removeprefix("refs/heads/")
        return branch, None if repo.head_is_unborn else str(repo.head.target)
    except (pygit2.GitError, KeyError):
        return None


def file_is_dirty(paths: RepoPaths, relative: str) -> bool:
    """Whether ``relative`` differs from HEAD, staged or not."""
    repo = open_repository(paths.git_dir if paths.git_dir == paths.common_dir else paths.root)
    try:
        return repo.status_file(relative) != pygit2.enums.FileStatus.CURRENT
    except KeyError:
        return False


def commit_file(paths: RepoPaths, relative: str, message: str) -> str | None:
    """Commit exactly one file on the checked-out branch (see ``commit_files``)."""
    return commit_files(paths, [relative], message)


def commit_files(paths: RepoPaths, relatives: list[str], message: str) -> str | None:
    """Commit exactly these files on the checked-out branch. Whatever else the human has changed
    or staged stays as it was: the commit's tree is HEAD's tree plus these files. None, and no
    commit, when that tree is HEAD's (a file staged, then changed back): never an empty commit."""
    repo = open_repository(paths.root)
    with guarded_main_write(paths, str(repo.references["HEAD"].target)):  # a death inside leaves no lock for good
        return _commit_files(paths, repo, relatives, message)


def _commit_files(paths: RepoPaths, repo: pygit2.Repository, relatives: list[str], message: str) -> str | None:
    scratch = pygit2.Index()
    if not repo.head_is_unborn:
        scratch.read_tree(repo.head.peel(pygit2.Tree))
    for relative in relatives:
        blob = repo.create_blob((paths.root / relative).read_bytes())
        scratch.add(pygit2.IndexEntry(relative, blob, pygit2.enums.FileMode.BLOB))
    tree = scratch.write_tree(repo)
    if not repo.head_is_unborn and tree == repo.head.peel(pygit2.Tree).id:
        return None  # the index is left as the human staged it: nothing was committed
    parents = [] if repo.head_is_unborn else [repo.head.target]
    signature = signature_for(repo)
    commit = repo.create_commit("HEAD", signature, signature, message, tree, parents)
    index = repo.index  # the files are now committed: show them as such, keep the rest staged as it was
    index.read()
    for relative in relatives:
        index.add(relative)
    index.write()
    return str(commit)


def signature_for(repo: pygit2.Repository) -> pygit2.Signature:
    """The repository's git identity (user.name, user.email), else the login name."""
    try:
        return repo.default_signature
    except (KeyError, pygit2.GitError):
        user = os.environ.get("USER") or "leviathan-local"
        return pygit2.Signature(user, f"{user}@localhost")


def list_worktrees(paths: RepoPaths) -> list[tuple[str, Path]]:
    """(name, location) of every linked worktree git knows."""
    repo = open_repository(paths.git_dir)
    return [(name, Path(repo.lookup_worktree(name).path).resolve()) for name in repo.list_worktrees()]


def init_with_commit(root: Path, message: str, branch: str = "main") -> RepoPaths:
    """A new repository at ``root`` whose first commit holds every file already there."""
    repo = pygit2.init_repository(str(root), initial_head=branch)
    index = repo.index
    index.add_all()
    if len(index) == 0:
        raise ValueError(f"{root} holds no file to commit")  # never an empty commit, a first one included
    index.write()
    signature = signature_for(repo)
    repo.create_commit("HEAD", signature, signature, message, index.write_tree(), [])
    return find_repo(root)


def reset_worktree(location: Path, branch: str, base: str, keep_ignored: frozenset[str] | None = None) -> None:
    """Point an existing worktree at a new branch ``branch`` created at ``base``, and make its
    files exactly ``base``'s: changed files restored, untracked and ignored files removed (but
    the ignored entries ``keep_ignored`` names, as ``ignored_entries`` lists them)."""
    repo = open_repository(location)
    drop_stale_index_lock(repo)  # the slot is held: a lock left in it was left by a killed process
    repo.branches.local.create(branch, repo.get(base))
    repo.set_head(f"refs/heads/{branch}")
    repo.checkout_head(strategy=_clean_checkout(keep_ignored))
    _remove_ignored(repo, location, keep_ignored)
    repo.state_cleanup()


def clean_worktree(location: Path, commit: str, keep_ignored: frozenset[str] | None = None) -> None:
    """Make the worktree exactly ``commit`` with HEAD detached there: changed files restored,
    untracked and ignored ones removed (but ``keep_ignored``), the index matching. HEAD moves
    last, so a slot whose HEAD is still on a branch was not cleaned to the end."""
    repo = open_repository(location)
    drop_stale_index_lock(repo)
    repo.checkout_tree(repo.get(commit).peel(pygit2.Tree), strategy=_clean_checkout(keep_ignored))
    _remove_ignored(repo, location, keep_ignored)
    repo.state_cleanup()
    repo.set_head(repo.get(commit).id)


def ignored_entries(location: Path) -> list[str]:
    """The worktree's ignored files, and its ignored directories whole (`venv/`), not recursed into."""
    return sorted(_ignored(open_repository(location)))


def _ignored(repo: pygit2.Repository) -> list[str]:
    ignored = pygit2.enums.FileStatus.IGNORED
    return [path for path, status in repo.status(untracked_files="normal", ignored=True).items() if status & ignored]


def _clean_checkout(keep_ignored: frozenset[str] | None) -> pygit2.enums.CheckoutStrategy:
    strategy = pygit2.enums.CheckoutStrategy
    clean = strategy.FORCE | strategy.REMOVE_UNTRACKED
    return clean if keep_ignored is not None else clean | strategy.REMOVE_IGNORED


def _remove_ignored(repo: pygit2.Repository, location: Path, keep: frozenset[str] | None) -> None:
    """Every ignored entry but those in ``keep`` (and what lies inside a kept directory)."""
    if keep is None:
        return  # the checkout removed them all
    kept_dirs = tuple(entry for entry in keep if entry.endswith("/"))
    for entry in _ignored(repo):
        if entry in keep or entry.startswith(kept_dirs):
            continue
        target = location / entry.rstrip("/")
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)


def worktree_branch(location: Path) -> str | None:
    """The branch checked out in a worktree (None if detached or gone)."""
    try:
        repo = open_repository(location)
    except pygit2.GitError:
        return None
    return None if repo.head_is_detached else repo.head.shorthand


def detach_worktree(location: Path) -> None:
    """Leave the worktree's branch (HEAD detached at the same commit), so the branch can be
    checked out, merged or deleted elsewhere while the slot waits for its next attempt."""
    repo = open_repository(location)
    if not repo.head_is_detached:
        repo.set_head(repo.head.target)


def delete_branch_at(paths: RepoPaths, branch: str, commit: str) -> bool:
    """Delete ``branch`` if it still points at ``commit`` (it holds nothing beyond it); whether it did."""
    repo = open_repository(paths.git_dir)
    found = repo.branches.local.get(branch)
    if found is None or str(found.target) != commit:
        return False
    found.delete()
    return True


def delete_branch(paths: RepoPaths, branch: str) -> None:
    repo = open_repository(paths.git_dir)
    if branch in repo.branches.local:
        repo.branches.local.delete(branch)


def set_repository_config(paths: RepoPaths, values: dict[str, str]) -> None:
    """Write keys into the repository's own config (`.git/config`, shared by its worktrees); a
    death mid-write leaves no `config.lock` that would refuse every later git config write."""
    if all(repository_config(paths, key) == value for key, value in values.items()):
        return  # nothing to write: `init` again leaves every file as it was, the marker too
    with guarded_locks(paths, [paths.common_dir / "config.lock"]):
        config = open_repository(paths.common_dir).config
        for key, value in values.items():
            config[key] = value


def repository_config(paths: RepoPaths, key: str) -> str | None:
    try:
        return open_repository(paths.common_dir).config[key]
    except KeyError:
        return None


def path_attribute(paths: RepoPaths, relative: str, name: str) -> str | bool | None:
    """The git attribute ``name`` of ``relative`` as git sees it in the main checkout
    (`.gitattributes` and `.git/info/attributes`); None when unspecified."""
    return open_repository(paths.git_dir).get_attr(relative, name)


def info_attributes_path(paths: RepoPaths) -> Path:
    """`.git/info/attributes`: attributes local to this clone, never committed."""
    return paths.common_dir / "info" / "attributes"
