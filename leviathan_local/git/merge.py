"""Git access for reviewing and approving agent branches (pygit2).

Approving merges in the main checkout, where the human works: every step checks first and
changes nothing when something is in the way, the way `git merge` refuses to overwrite
local changes. pygit2 does all of it; no git CLI is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pygit2

from leviathan_local.git.repo import RepoPaths, delete_branch, detach_worktree, signature_for

_STATUS = pygit2.enums.FileStatus


@dataclass(frozen=True)
class FileStat:
    path: str
    kind: str  # A M D R T
    added: int
    deleted: int


@dataclass
class MergeCandidate:
    """The merged tree of the default branch's head and an agent branch, not committed yet."""

    head: str
    tip: str
    base: str | None
    tree: str | None  # None when some file conflicts
    conflicts: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # paths the merge changes in the checkout
    beyond_tip: list[str] = field(default_factory=list)  # paths where the result differs from the branch


def _repo(paths: RepoPaths) -> pygit2.Repository:
    return pygit2.Repository(str(paths.root))


def branch_exists(paths: RepoPaths, branch: str) -> bool:
    return branch in _repo(paths).branches.local


def merge_base(paths: RepoPaths, one: str, two: str) -> str | None:
    found = _repo(paths).merge_base(one, two)
    return str(found) if found else None


def contains(paths: RepoPaths, commit: str, other: str) -> bool:
    """Whether ``other`` is ``commit`` or in its history: merging ``other`` into it adds nothing
    (a human merged it by hand, or fast-forwarded to it)."""
    return commit == other or _repo(paths).descendant_of(commit, other)


def file_at(paths: RepoPaths, commit: str | None, relative: str) -> str | None:
    """A file's text in ``commit`` (None when the commit or the file is absent)."""
    if commit is None:
        return None
    tree = _repo(paths).get(commit).peel(pygit2.Tree)
    try:
        entry = tree[relative]
    except KeyError:
        return None
    return entry.data.decode("utf-8", errors="surrogateescape")


def commit_message(paths: RepoPaths, commit: str) -> str:
    """The full message of ``commit`` (its trailers included)."""
    return _repo(paths).get(commit).peel(pygit2.Commit).message


def diff_stats(paths: RepoPaths, base: str, tip: str) -> list[FileStat]:
    """Files ``tip`` changes against ``base``, with added and deleted line counts."""
    repo = _repo(paths)
    diff = repo.diff(repo.get(base).peel(pygit2.Tree), repo.get(tip).peel(pygit2.Tree))
    diff.find_similar()
    stats = []
    for patch in diff:
        _, added, deleted = patch.line_stats
        stats.append(FileStat(patch.delta.new_file.path, patch.delta.status_char(), added, deleted))
    return stats


def merge_candidate(paths: RepoPaths, head: str, tip: str, resolved: dict[str, str]) -> MergeCandidate:
    """Merge ``tip`` into ``head`` in memory; ``resolved`` supplies the merged text of files
    merged elsewhere (the backlog, merged task by task), whatever git's line merge thinks."""
    repo = _repo(paths)
    index = repo.merge_commits(head, tip)
    for relative, text in resolved.items():
        if index.conflicts is not None and _has_conflict(index, relative):
            del index.conflicts[relative]
        blob = repo.create_blob(text.encode("utf-8", errors="surrogateescape"))
        index.add(pygit2.IndexEntry(relative, blob, pygit2.enums.FileMode.BLOB))
    base = merge_base(paths, head, tip)
    conflicts = sorted({(ours or theirs or ancestor).path for ancestor, ours, theirs in index.conflicts}) \
        if index.conflicts is not None else []
    if conflicts:
        return MergeCandidate(head, tip, base, None, conflicts)
    tree = repo.get(index.write_tree(repo))
    return MergeCandidate(head, tip, base, str(tree.id), [], _paths_changed(repo.get(head).peel(pygit2.Tree), tree),
                          _paths_changed(repo.get(tip).peel(pygit2.Tree), tree))


def _paths_changed(before: pygit2.Tree, after: pygit2.Tree) -> list[str]:
    return sorted({p for d in before.diff_to_tree(after).deltas for p in (d.old_file.path, d.new_file.path)})


def _has_conflict(index: pygit2.Index, relative: str) -> bool:
    try:
        index.conflicts[relative]
    except KeyError:
        return False
    return True


def local_changes(paths: RepoPaths, relatives: list[str]) -> list[str]:
    """Which of ``relatives`` the human has changed, staged or created in the main checkout."""
    repo = _repo(paths)
    found = []
    for relative in relatives:
        try:
            status = repo.status_file(relative)
        except KeyError:
            status = _STATUS.CURRENT if not (paths.root / relative).exists() else _STATUS.WT_NEW
        if status not in (_STATUS.CURRENT, _STATUS.IGNORED):
            found.append(relative)
        elif status == _STATUS.IGNORED and (paths.root / relative).exists():
            found.append(relative)  # an ignored file the merge would overwrite is still the human's
    return found


def create_merge_commit(paths: RepoPaths, tree: str, parents: list[str], message: str) -> str:
    """The merge commit object; no branch moves yet."""
    repo = _repo(paths)
    signature = signature_for(repo)
    return str(repo.create_commit(None, signature, signature, message, repo.get(tree).id,
                                  [repo.get(p).id for p in parents]))


def advance_checkout(paths: RepoPaths, branch: str, expected_head: str, commit: str, changed: list[str]) -> None:
    """Move the checked-out ``branch`` from ``expected_head`` to ``commit`` and bring the changed
    files (already checked to hold no local changes) and their index entries along."""
    repo = _repo(paths)
    reference = repo.branches.local[branch]
    if str(reference.target) != expected_head:
        raise RuntimeError(f"{branch} moved while merging")  # the caller re-plans
    if changed:
        repo.checkout_tree(repo.get(commit).peel(pygit2.Tree), paths=changed, strategy=pygit2.enums.CheckoutStrategy.SAFE)
    reference.set_target(commit, f"leviathan: merge into {branch}")


def stage_file_if_unstaged(paths: RepoPaths, relative: str, old_commit: str, new_commit: str) -> None:
    """Point the index entry of ``relative`` from its blob in ``old_commit`` to the one in
    ``new_commit``; an entry the human staged differently is left as they staged it."""
    repo = _repo(paths)
    index = repo.index
    index.read()
    old_tree, new_tree = (repo.get(c).peel(pygit2.Tree) for c in (old_commit, new_commit))
    try:
        staged = index[relative].id
    except KeyError:
        staged = None
    old_id = old_tree[relative].id if relative in old_tree else None
    if staged != old_id or relative not in new_tree:
        return
    entry = new_tree[relative]
    index.add(pygit2.IndexEntry(relative, entry.id, entry.filemode))
    index.write()


def identity(paths: RepoPaths) -> str:
    """Who acts: the repository's git identity, else the login name."""
    signature = signature_for(_repo(paths))
    return f"{signature.name} <{signature.email}>"


def worktrees_on(paths: RepoPaths, branch: str) -> list[Path]:
    """Linked worktrees that have ``branch`` checked out."""
    repo = _repo(paths)
    found = []
    for name in repo.list_worktrees():
        location = Path(repo.lookup_worktree(name).path)
        try:
            other = pygit2.Repository(str(location))
        except pygit2.GitError:
            continue
        if not other.head_is_detached and not other.head_is_unborn and other.head.shorthand == branch:
            found.append(location)
    return found


def release_branch(paths: RepoPaths, branch: str, delete: bool) -> None:
    """No worktree keeps ``branch`` checked out any more; then delete it if asked."""
    for location in worktrees_on(paths, branch):
        detach_worktree(location)
    if delete:
        delete_branch(paths, branch)


def patch_text(paths: RepoPaths, base: str, tip: str) -> str:
    """The unified diff from ``base`` to ``tip`` (for review)."""
    return "".join(text for _, text in file_patches(paths, base, tip))


def file_patches(paths: RepoPaths, base: str, tip: str) -> list[tuple[str, str]]:
    """The diff from ``base`` to ``tip`` one file at a time: (the file's path at ``tip``, its patch)."""
    repo = _repo(paths)
    diff = repo.diff(repo.get(base).peel(pygit2.Tree), repo.get(tip).peel(pygit2.Tree))
    diff.find_similar()
    return [(patch.delta.new_file.path, patch.text or "") for patch in diff]
