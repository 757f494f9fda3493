"""Where a worker keeps a remote's clone: `$XDG_CACHE_HOME/leviathan/remotes/<key>/` (default
`~/.cache`), the key the first 16 hex digits of the URL's SHA-256.

It holds `mirror.git` (a bare mirror of the remote's branches, fetched under `mirror.lock`) and,
per running attempt, `attempts/<attempt-id>/`: a clone borrowing the mirror's objects, checked
out at the base, with its own backlog and state directory, so parallel attempts on one machine
share the fetched objects and nothing else. An attempt's clone is removed when it ends; one left
by a killed worker (its `attempts/<attempt-id>.lock` no longer held) is removed by the next.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from leviathan_local.git.remote import RemoteError, check_out_from_mirror, fetch_mirror, has_commit


def remote_cache(url: str) -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "leviathan" / "remotes" / hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


@contextmanager
def attempt_checkout(url: str, attempt_id: str, base: str) -> Iterator[Path]:
    """A fresh clone of the remote at ``base`` for one attempt, removed when the block ends."""
    cache = remote_cache(url)
    attempts = cache / "attempts"
    attempts.mkdir(parents=True, exist_ok=True)
    with _locked(attempts / f"{attempt_id}.lock", wait=False) as mine:
        if not mine:
            raise RemoteError(f"attempt {attempt_id} is already running on this machine",
                              hint="an attempt id is used once: start the attempt with a new --attempt-id")
        checkout = attempts / attempt_id
        try:
            with _locked(cache / "mirror.lock", wait=True):
                _remove_abandoned(attempts)
                shutil.rmtree(checkout, ignore_errors=True)  # this id's own leftover, from a killed worker
                fetch_mirror(cache / "mirror.git", url)
                if not has_commit(cache / "mirror.git", base):
                    raise RemoteError(f"the base {base} is no commit on any branch of {url}",
                                      hint="push the base first, and pass its full commit id with --base")
                check_out_from_mirror(cache / "mirror.git", checkout, base)
            yield checkout
        finally:
            shutil.rmtree(checkout, ignore_errors=True)


def _remove_abandoned(attempts: Path) -> None:
    """Clones whose worker died (its lock free): theirs is nobody's now."""
    for checkout in attempts.iterdir():
        if checkout.is_dir():
            with _locked(attempts / f"{checkout.name}.lock", wait=False) as free:
                if free:
                    shutil.rmtree(checkout, ignore_errors=True)


@contextmanager
def _locked(lock_file: Path, wait: bool) -> Iterator[bool]:
    """Whether this process holds ``lock_file``'s flock (always, once free, with ``wait``)."""
    with open(lock_file, "a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
