"""An attempt's worktree: staging what the agent left, its changes and added lines against the
base, where the agent left HEAD, and the one commit on the attempt's branch (pygit2)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pygit2

from leviathan_local.git.repo import drop_stale_index_lock, open_repository, signature_for
from leviathan_local.wording import plural


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


class Worktree:
    """An attempt's worktree, opened once for all its git steps: a fresh repository object per
    step reads config and caches again (~5 ms each on a 3,000-file tree). Its index is read
    again from disk whenever it changed there (an agent's own `git add` or `git commit`)."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self.repo = open_repository(location)

    @property
    def index(self) -> pygit2.Index:
        index = self.repo.index
        index.read(False)  # only when the file changed
        return index


def stage_worktree(worktree: Worktree) -> str:
    """Stage everything in the worktree (ignored files excepted: `git add -A`) and return the tree
    it makes: the content an attempt verifies and commits, wherever the agent left HEAD."""
    drop_stale_index_lock(worktree.repo)
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


def unstaged_paths(worktree: Worktree, only_untracked: bool = False) -> list[str]:
    """Paths whose files differ from the worktree's index (untracked ones included, ignored ones
    not): what changed since ``stage_worktree``; with ``only_untracked``, only the files it added."""
    flags = pygit2.enums.DiffOption.INCLUDE_UNTRACKED | pygit2.enums.DiffOption.RECURSE_UNTRACKED_DIRS
    deltas = worktree.index.diff_to_workdir(flags).deltas
    return sorted({delta.new_file.path for delta in deltas
                   if not only_untracked or delta.status == pygit2.enums.DeltaStatus.UNTRACKED})


def worktree_tree(worktree: Worktree, staged: str | None) -> str | None:
    """``staged`` (a tree ``stage_worktree`` returned) when the worktree still holds exactly it
    (its index's tree, nothing changed or added beside it); else None."""
    if staged is None or unstaged_paths(worktree):
        return None
    return staged if str(worktree.index.write_tree()) == staged else None


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
    return (f"the agent moved HEAD to {where} at {commit[:12]}, onto {len(existing)} of {plural(len(mine), 'commit')} "
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
