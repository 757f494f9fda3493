"""All git access goes through this module (pygit2 first, the git CLI only where pygit2 cannot)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pygit2

from leviathan_local.errors import NotARepositoryError
from leviathan_local.git.locate import common_dir_of
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


@dataclass(frozen=True)
class Change:
    """One path an attempt changed, relative to the attempt's base commit."""

    path: str
    kind: str  # A added, M modified, D deleted, R renamed, T type changed
    old_path: str | None = None
    symlink_target: str | None = None
    modes: tuple[int, int] | None = None  # (old, new) when the file mode changed
    content_changed: bool = True

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path the change touches: a rename touches where it came from too."""
        return (self.path,) if self.old_path in (None, self.path) else (self.old_path, self.path)

    def describe(self, path: str) -> str:
        """What the change did to ``path`` (one of ``paths``), in words, for the gates' messages."""
        if self.kind == "R":
            return f"renamed to {self.path}" if path == self.old_path else f"renamed from {self.old_path}"
        if self.modes is not None:
            mode = f"mode {self.modes[0]:o} -> {self.modes[1]:o}"
            return f"modified, {mode}" if self.content_changed else f"{mode} (content unchanged)"
        return {"A": "added", "D": "deleted", "T": "type changed"}.get(self.kind, "modified")


def _repository(path: Path) -> pygit2.Repository:
    return pygit2.Repository(str(path))


def branch_head(paths: RepoPaths, branch: str) -> str:
    """The commit id a local branch points at; a clear error when the branch is missing."""
    repo = _repository(paths.git_dir)
    found = repo.branches.local.get(branch)
    if found is None:
        raise NotARepositoryError(f"branch {branch!r} does not exist in {paths.root}",
                                  hint="set default_branch in .leviathan/contract.yaml to an existing branch")
    return str(found.peel(pygit2.Commit).id)


def add_worktree(paths: RepoPaths, name: str, location: Path, branch: str, base: str) -> None:
    """A new worktree at ``location`` on a new branch ``branch`` starting at commit ``base``."""
    repo = _repository(paths.git_dir)
    reference = repo.branches.local.create(branch, repo.get(base))
    location.parent.mkdir(parents=True, exist_ok=True)
    repo.add_worktree(name, str(location), reference)


def remove_worktree(paths: RepoPaths, name: str, location: Path, delete_branch: str | None = None) -> None:
    """Delete the worktree's files and its git metadata; optionally its branch too."""
    shutil.rmtree(location, ignore_errors=True)
    repo = _repository(paths.git_dir)
    if name in repo.list_worktrees():
        repo.lookup_worktree(name).prune(True)
    if delete_branch and delete_branch in repo.branches.local:
        repo.branches.local.delete(delete_branch)


class Worktree:
    """An attempt's worktree, opened once for all its git steps: a fresh repository object per
    step reads config and caches again (~5 ms each on a 3,000-file tree). Its index is read
    again from disk whenever it changed there (an agent's own `git add` or `git commit`)."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self.repo = _repository(location)

    @property
    def index(self) -> pygit2.Index:
        index = self.repo.index
        index.read(False)  # only when the file changed
        return index


def stage_worktree(worktree: Worktree) -> str:
    """Stage everything in the worktree (ignored files excepted: `git add -A`) and return the tree
    it makes: the content an attempt verifies and commits, wherever the agent left HEAD."""
    _drop_stale_index_lock(worktree.repo)
    index = worktree.index
    index.add_all()
    tree = index.write_tree()
    index.write()  # with the tree cache: the next write_tree of a few changes costs almost nothing
    return str(tree)


def tree_changes(worktree: Worktree, base: str, tree: str) -> list[Change]:
    """Every path ``tree`` changes against ``base``, renames found (a symlink's target is read
    from the tree, so the gates judge the link that is committed)."""
    return [_change(worktree.repo, delta) for delta in _tree_diff(worktree.repo, base, tree).deltas]


def tree_added_lines(worktree: Worktree, base: str, tree: str) -> dict[str, list[str]]:
    """The lines each file of ``tree`` adds against ``base`` (for the secret scan)."""
    found: dict[str, list[str]] = {}
    for patch in _tree_diff(worktree.repo, base, tree):
        if patch.delta.is_binary:
            continue
        lines = [line.content.rstrip("\n") for hunk in patch.hunks for line in hunk.lines if line.origin == "+"]
        if lines:
            found[patch.delta.new_file.path] = lines
    return found


def file_in_tree(worktree: Worktree, tree: str, relative: str) -> bytes | None:
    """A file's bytes in ``tree`` (None when it holds no such file)."""
    try:
        entry = worktree.repo.get(tree).peel(pygit2.Tree)[relative]
    except KeyError:
        return None
    return entry.data if entry.type == pygit2.enums.ObjectType.BLOB else None


def _tree_diff(repo: pygit2.Repository, base: str, tree: str) -> pygit2.Diff:
    diff = repo.diff(repo.get(base).peel(pygit2.Tree), repo.get(tree))
    diff.find_similar()
    return diff


def _change(repo: pygit2.Repository, delta: pygit2.DiffDelta) -> Change:
    kind, old, new = delta.status_char(), delta.old_file, delta.new_file
    target = None
    if new.mode == pygit2.enums.FileMode.LINK:
        target = repo.get(new.id).data.decode("utf-8", errors="surrogateescape")
    modes = (old.mode, new.mode) if kind == "M" and old.mode != new.mode else None
    return Change(new.path, kind, old.path if kind == "R" else None, target, modes, old.id != new.id)


def unstaged_paths(worktree: Worktree) -> list[str]:
    """Paths whose files differ from the worktree's index (untracked ones included, ignored ones
    not): what changed since ``stage_worktree``."""
    flags = pygit2.enums.DiffOption.INCLUDE_UNTRACKED | pygit2.enums.DiffOption.RECURSE_UNTRACKED_DIRS
    return sorted({delta.new_file.path for delta in worktree.index.diff_to_workdir(flags).deltas})


def ref_targets(worktree: Worktree) -> dict[str, str]:
    """Every reference's commit (name -> id). Taken when an attempt starts, it tells the commits
    an agent makes from the ones that already existed."""
    repo = worktree.repo
    found = {}
    for name in repo.references:
        try:
            found[name] = str(repo.references[name].peel(pygit2.Commit).id)
        except (pygit2.GitError, pygit2.InvalidSpecError, KeyError, ValueError):
            continue  # a reference to nothing, or to a tree or blob: it holds no commit
    return found


def head_commit(worktree: Worktree) -> str | None:
    """The commit the worktree's HEAD is at (None on an unborn branch)."""
    return None if worktree.repo.head_is_unborn else str(worktree.repo.head.target)


def head_message(worktree: Worktree) -> str:
    """The message of the commit the worktree's HEAD is at ("" on an unborn branch)."""
    return "" if worktree.repo.head_is_unborn else worktree.repo.head.peel(pygit2.Commit).message


@dataclass(frozen=True)
class HeadReturn:
    """Where an agent had taken the worktree's HEAD, now back on the attempt's branch at its base."""

    moved: str | None = None  # None: HEAD stayed on the branch, at the base
    commits: tuple[str, ...] = ()  # subjects of the agent's own commits, folded into the attempt's
    foreign: str | None = None  # why the worktree's content cannot be the agent's own work
    removed_branch: str | None = None  # a branch the agent made for itself, deleted


def bring_head_back(worktree: Worktree, branch: str, base: str, known: dict[str, str]) -> HeadReturn:
    """Put the worktree's HEAD back on ``branch`` at ``base``, its files untouched, so the one
    attempt commit holds everything the agent did. An agent may have committed (aider does by
    default) or switched branch: its work is still all in the files, so it is folded in, as long
    as HEAD only moved onto commits the agent made on top of the base. Otherwise (another
    branch checked out, a reset below the base) the files hold content the agent did not make:
    ``foreign`` says so. ``known`` is ``ref_targets`` from the attempt's start."""
    repo = worktree.repo
    reference = f"refs/heads/{branch}"
    head = repo.references["HEAD"]
    on = head.target if head.type == pygit2.enums.ReferenceType.SYMBOLIC else None
    commit = None if repo.head_is_unborn else str(repo.head.target)
    if on == reference and commit == base:
        return HeadReturn()
    where = f"branch {on.removeprefix('refs/heads/')}" if on else "a detached HEAD"
    foreign = _foreign_content(repo, commit, base, known, where)
    commits = () if foreign or commit is None else _subjects(repo, commit, base)
    repo.state_cleanup()  # a merge or cherry-pick the agent left half done
    repo.references.create(reference, base, force=True)
    repo.set_head(reference)
    removed = None
    if on and on != reference and on not in known and on in repo.references:
        repo.references.delete(on)  # the agent's own branch: the attempt's branch now holds its work
        removed = on.removeprefix("refs/heads/")
    return HeadReturn(f"{where} at {commit[:12] if commit else 'no commit'}", commits, foreign, removed)


def _foreign_content(repo: pygit2.Repository, commit: str | None, base: str, known: dict[str, str],
                     where: str) -> str | None:
    if commit is None:
        return f"the agent moved HEAD to {where} with no commit (an orphan branch)"
    if commit != base and not repo.descendant_of(commit, base):
        return (f"the agent moved HEAD to {where} at {commit[:12]}, which is not built on the attempt's base "
                f"{base[:12]}: the files hold content the agent did not make")
    mine = set(_walk(repo, commit, [base]))
    existing = mine - set(_walk(repo, commit, [base, *known.values()]))
    if not existing:
        return None
    holders = sorted(name for name, target in known.items()
                     if any(target == old or repo.descendant_of(target, old) for old in existing))
    return (f"the agent moved HEAD to {where} at {commit[:12]}, onto {len(existing)} of {len(mine)} commit(s) "
            f"that already existed ({', '.join(holders[:3])}): the files hold content the agent did not make")


def _walk(repo: pygit2.Repository, commit: str, hidden: list[str]) -> list[str]:
    walker = repo.walk(commit, pygit2.enums.SortMode.TOPOLOGICAL)
    for oid in hidden:
        walker.hide(oid)
    return [str(found.id) for found in walker]


def _subjects(repo: pygit2.Repository, commit: str, base: str) -> tuple[str, ...]:
    """The agent's commit subjects, oldest first."""
    messages = [(oid, repo.get(oid).message.strip()) for oid in reversed(_walk(repo, commit, [base]))]
    return tuple(message.splitlines()[0] if message else oid[:12] for oid, message in messages)


def commit_on_branch(worktree: Worktree, branch: str, base: str, tree: str, message: str,
                     files: dict[str, bytes] | None = None) -> str | None:
    """One commit on ``branch`` whose parent is ``base``: ``tree`` (what was verified) with
    ``files`` replacing theirs (the status writeback). None, and no commit, when that is the
    base's tree: never an empty commit."""
    repo = worktree.repo
    tree_id = repo.get(tree).id
    for relative, content in (files or {}).items():
        tree_id = _with_blob(repo, tree_id, relative.split("/"), repo.create_blob(content))
    if tree_id == repo.get(base).peel(pygit2.Tree).id:
        return None
    signature = signature_for(repo)
    commit = repo.create_commit(None, signature, signature, message, tree_id, [repo.get(base).id])
    repo.references.create(f"refs/heads/{branch}", commit, force=True)
    return str(commit)


def _with_blob(repo: pygit2.Repository, tree_id: pygit2.Oid | None, parts: list[str], blob: pygit2.Oid) -> pygit2.Oid:
    """``tree_id`` with the file at ``parts`` set to ``blob``: only the trees on its path are
    rewritten (a whole index would be written again for one file)."""
    tree = repo.get(tree_id) if tree_id is not None else None
    builder = repo.TreeBuilder(tree) if tree is not None else repo.TreeBuilder()
    name = parts[0]
    if len(parts) == 1:
        mode = tree[name].filemode if tree is not None and name in tree else pygit2.enums.FileMode.BLOB
        builder.insert(name, blob, mode)
    else:
        sub = tree[name].id if tree is not None and name in tree else None
        builder.insert(name, _with_blob(repo, sub, parts[1:], blob), pygit2.enums.FileMode.TREE)
    return builder.write()


def _drop_stale_index_lock(repo: pygit2.Repository) -> None:
    """An agent killed in the middle of `git commit` leaves the worktree's index.lock behind.
    Only the executor, which holds the slot and has stopped the agent, calls this: the lock
    is stale, and every later index write would fail on it."""
    lock = Path(repo.path) / "index.lock"
    lock.unlink(missing_ok=True)


def file_is_dirty(paths: RepoPaths, relative: str) -> bool:
    """Whether ``relative`` differs from HEAD, staged or not."""
    repo = _repository(paths.git_dir if paths.git_dir == paths.common_dir else paths.root)
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
    repo = _repository(paths.root)
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
    repo = _repository(paths.git_dir)
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


def reset_worktree(location: Path, branch: str, base: str) -> None:
    """Point an existing worktree at a new branch ``branch`` created at ``base``, and make its
    files exactly ``base``'s: changed files restored, untracked and ignored files removed."""
    repo = _repository(location)
    _drop_stale_index_lock(repo)  # the slot is held: a lock left in it was left by a killed process
    repo.branches.local.create(branch, repo.get(base))
    repo.set_head(f"refs/heads/{branch}")
    strategy = pygit2.enums.CheckoutStrategy
    repo.checkout_head(strategy=strategy.FORCE | strategy.REMOVE_UNTRACKED | strategy.REMOVE_IGNORED)
    repo.state_cleanup()


def clean_worktree(location: Path, commit: str) -> None:
    """Make the worktree exactly ``commit`` with HEAD detached there: changed files restored,
    untracked and ignored ones removed, the index matching. HEAD moves last, so a slot whose HEAD
    is still on a branch was not cleaned to the end."""
    repo = _repository(location)
    _drop_stale_index_lock(repo)
    strategy = pygit2.enums.CheckoutStrategy
    repo.checkout_tree(repo.get(commit).peel(pygit2.Tree),
                       strategy=strategy.FORCE | strategy.REMOVE_UNTRACKED | strategy.REMOVE_IGNORED)
    repo.state_cleanup()
    repo.set_head(repo.get(commit).id)


def worktree_branch(location: Path) -> str | None:
    """The branch checked out in a worktree (None if detached or gone)."""
    try:
        repo = _repository(location)
    except pygit2.GitError:
        return None
    return None if repo.head_is_detached else repo.head.shorthand


def detach_worktree(location: Path) -> None:
    """Leave the worktree's branch (HEAD detached at the same commit), so the branch can be
    checked out, merged or deleted elsewhere while the slot waits for its next attempt."""
    repo = _repository(location)
    if not repo.head_is_detached:
        repo.set_head(repo.head.target)


def delete_branch(paths: RepoPaths, branch: str) -> None:
    repo = _repository(paths.git_dir)
    if branch in repo.branches.local:
        repo.branches.local.delete(branch)


def set_repository_config(paths: RepoPaths, values: dict[str, str]) -> None:
    """Write keys into the repository's own config (`.git/config`, shared by its worktrees)."""
    config = _repository(paths.common_dir).config
    for key, value in values.items():
        config[key] = value


def repository_config(paths: RepoPaths, key: str) -> str | None:
    try:
        return _repository(paths.common_dir).config[key]
    except KeyError:
        return None
