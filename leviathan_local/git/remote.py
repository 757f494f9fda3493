"""A git remote for attempts run elsewhere: a fetched mirror, a checkout from it, and pushes
and fetches of named references only (explicit refspecs; never `--mirror`, `--all` or a `+`).

The git CLI because libgit2 has no git-protocol transport for pushes with leases, and the
remote may be anything git speaks (git://, ssh, https with a credential helper). A reference
is only ever created, never moved: a push names each reference with an empty lease
(`--force-with-lease=REF:`), which git reads as "this reference must not exist yet", and is
`--atomic`, so the remote gets every reference of an attempt or none.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pygit2

from leviathan_local.errors import LeviathanError, WorkFailedError


class RemoteError(LeviathanError):
    """The remote cannot be reached or refuses what was asked (exit 2: check the URL, the base)."""

    title = "Remote problem"


class RefExistsError(RemoteError):
    """A reference an attempt would create is on the remote already: nothing was overwritten."""

    title = "Reference exists on the remote"


class PushFailedError(WorkFailedError):
    """The attempt ran, but its references could not be pushed (exit 1)."""

    title = "Push failed"


def _git(cwd: Path | None, *arguments: str) -> subprocess.CompletedProcess[str]:
    # No prompt for a password: a job in a container has nobody to answer it.
    environment = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    return subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, text=True, env=environment)


def _checked(cwd: Path | None, *arguments: str, doing: str, hint: str) -> str:
    done = _git(cwd, *arguments)
    if done.returncode != 0:
        raise RemoteError(f"{doing} failed: {done.stderr.strip() or f'git exited with {done.returncode}'}", hint=hint)
    return done.stdout


def remote_refs(url: str, names: Sequence[str]) -> dict[str, str]:
    """The commits the remote's references ``names`` (full names) point at; absent ones left out."""
    listed = _checked(None, "ls-remote", url, *names, doing=f"listing {url}",
                      hint="check the remote's URL and that this machine may read it")
    found = {}
    for line in listed.splitlines():
        commit, _, name = line.partition("\t")
        if name in names:
            found[name] = commit
    return found


def fetch_mirror(mirror: Path, url: str) -> None:
    """Bring the bare ``mirror`` up to date with the remote's branches (made on first use).
    Only the caller's flock keeps two attempts from fetching into it at once."""
    if not (mirror / "objects").is_dir():
        mirror.mkdir(parents=True, exist_ok=True)
        _checked(mirror, "init", "--quiet", "--bare", doing=f"creating the cache {mirror}",
                 hint="check that the cache directory is writable")
        # Checkouts borrow its objects (`clone --shared`): a gc here must never prune one of theirs.
        _checked(mirror, "config", "gc.auto", "0", doing="configuring the cache", hint="check the cache directory")
    _checked(mirror, "fetch", "--quiet", "--no-tags", "--prune", url, "+refs/heads/*:refs/heads/*",
             doing=f"fetching {url}", hint="check the remote's URL and that this machine may read it")


def has_commit(repository: Path, commit: str) -> bool:
    return _git(repository, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0


def check_out_from_mirror(mirror: Path, checkout: Path, commit: str) -> None:
    """A new clone at ``checkout`` borrowing the mirror's objects, its HEAD detached at ``commit``."""
    _checked(None, "clone", "--quiet", "--shared", "--no-checkout", str(mirror), str(checkout),
             doing=f"cloning the cache into {checkout}", hint="check the cache directory and the disk")
    _checked(checkout, "checkout", "--quiet", "--detach", commit, doing=f"checking out {commit[:12]}",
             hint="check the disk")


def point_branch_at(checkout: Path, branch: str, commit: str) -> None:
    """Check out local branch ``branch``, made or moved to ``commit`` (only in a checkout of our own)."""
    _checked(checkout, "switch", "--quiet", "--force-create", branch, commit, doing=f"switching to {branch}",
             hint="check the contract's default_branch")


def commit_files(repository: Path, files: Mapping[str, bytes], message: str) -> str:
    """A commit without a parent whose tree holds exactly ``files`` (top-level names); no
    reference points at it: it is pushed by its id."""
    repo = pygit2.Repository(str(repository))
    tree = repo.TreeBuilder()
    for name, content in sorted(files.items()):
        tree.insert(name, repo.create_blob(content), pygit2.enums.FileMode.BLOB)
    signature = pygit2.Signature("leviathan-local", "leviathan-local@localhost")
    return str(repo.create_commit(None, signature, signature, message, tree.write(), []))


def push_new_refs(repository: Path, url: str, updates: Mapping[str, str]) -> None:
    """Create each reference (full name) on the remote at its commit, all or none; one that
    exists there already refuses the whole push (RefExistsError), nothing moved."""
    leases = [f"--force-with-lease={name}:" for name in updates]
    refspecs = [f"{commit}:{name}" for name, commit in updates.items()]
    done = _git(repository, "push", "--quiet", "--atomic", "--porcelain", "--no-verify", *leases, url, *refspecs)
    if done.returncode == 0:
        return
    rejected = [line for line in done.stdout.splitlines() if line.startswith("!")]
    listing = "; ".join(line.split("\t")[1] if "\t" in line else line for line in rejected)
    if _existing := remote_refs(url, list(updates)):
        raise RefExistsError(f"the remote {url} already has {', '.join(sorted(_existing))}: nothing was pushed "
                             f"or overwritten ({listing or done.stderr.strip()})",
                             hint="an attempt id is used once: start the attempt again with a new --attempt-id")
    raise PushFailedError(f"pushing to {url} failed: {listing or done.stderr.strip()}",
                          hint="check that this machine may push to the remote; the attempt record stays unpushed")


def fetch_refs(repository: Path, url: str, names: Sequence[str]) -> None:
    """Fetch the remote's references ``names`` into the same names here, without forcing: a
    local reference already pointing elsewhere refuses the fetch rather than being moved."""
    _checked(repository, "fetch", "--quiet", "--no-tags", url, *(f"{name}:{name}" for name in names),
             doing=f"fetching {', '.join(names)} from {url}",
             hint="a local reference of that name points elsewhere: look at it before removing it")


def read_commit_file(repository: Path, commit: str, name: str) -> bytes | None:
    """A top-level file's bytes in ``commit`` (None when it has none)."""
    repo = pygit2.Repository(str(repository))
    try:
        entry = repo.get(commit).peel(pygit2.Tree)[name]
    except (KeyError, ValueError, AttributeError):
        return None
    return entry.data if entry.type == pygit2.enums.ObjectType.BLOB else None


def commit_parents(repository: Path, commit: str) -> list[str]:
    repo = pygit2.Repository(str(repository))
    return [str(parent) for parent in repo.get(commit).peel(pygit2.Commit).parent_ids]


def remote_branches_hold(repository: Path, url: str, commit: str) -> bool:
    """Whether one of the remote's branches is at ``commit`` or contains it, as far as this
    repository can tell without fetching: a branch's tip this repository has too is checked for
    ``commit`` among its ancestors. (A worker fetches the remote's branches, nothing else.)"""
    listed = _checked(None, "ls-remote", "--heads", url, doing=f"listing {url}",
                      hint="check runner.remote's URL and that this machine may read it")
    tips = {line.partition("\t")[0] for line in listed.splitlines() if line}
    if commit in tips:
        return True
    repo = pygit2.Repository(str(repository))  # in-process: a remote may have thousands of branches
    known = [tip for tip in tips if _is_commit(repo, tip)]
    return _is_commit(repo, commit) and any(repo.descendant_of(tip, commit) for tip in known)


def _is_commit(repo: pygit2.Repository, commit: str) -> bool:
    try:
        return isinstance(repo.get(commit), pygit2.Commit)
    except ValueError:  # not a full id
        return False
