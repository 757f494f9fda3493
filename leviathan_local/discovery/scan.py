"""The incremental scan: which files to read, and what they held last time.

The files are those `git ls-files --cached --others --exclude-standard` lists (tracked, plus
untracked but not ignored), minus `worktrees/`, `.leviathan/` and policy excludes. Findings are
cached (`cache`) per blob id and comment syntax once a file was read again (per path and stat
after a cold scan); a file whose size, mtime and inode are unchanged since the last scan is not
read again, and the listing itself is reused while the index, the `.gitignore` files and every
listed directory are unchanged (a new or deleted file changes its directory's mtime).

This is all a warm `discover` runs (nothing changed): os and marshal. Reading and lexing
(`read`, with re, typing and hashlib) is imported only when a file changed: those imports
would make a warm run a third slower.
"""

from __future__ import annotations

import os
import stat
import time

from leviathan_local.discovery.cache import (
    SCAN_CACHE, SCAN_CACHE_VERSION, Entry, RawFinding, load_scan_cache, save_scratch,
)
from leviathan_local.discovery.settings import Settings
from leviathan_local.git.spawn import grep_result, list_files, start_grep

ALWAYS_SKIPPED = ("worktrees/", ".leviathan/")
CLOCK_TICK_MARGIN = 50_000_000  # ns: more than a kernel tick at any HZ


class ScanResult:
    def __init__(self, cache: dict, relisted: bool) -> None:
        self.files: dict[str, tuple[RawFinding, ...]] = {}  # paths with findings only
        self.files_listed = 0
        self.files_read = 0
        self.relisted = relisted
        self.first = not cache["scanned_at"]  # no earlier scan (or its cache is gone): nothing to compare with
        self.cache = cache

    @property
    def generation(self) -> int:
        """Changes whenever a scanned file's content, or the set of files, changes."""
        return self.cache["generation"]


def scan_repository(located: tuple[str, str, str], settings: Settings) -> ScanResult:
    """Scan the work tree of ``located`` (work tree, git dir, common dir) as policy says."""
    root, git_dir, common_dir = located
    return scan(root, git_dir, os.path.join(common_dir, "leviathan"), settings.tags, settings.exclude)


def scan(root: str, git_dir: str, state_dir: str, tags: tuple[str, ...], exclude: tuple[str, ...] = ()
         ) -> ScanResult:
    """Findings of every eligible file; ``exclude``: the policy's globs of paths to skip."""
    cache_path = os.path.join(state_dir, SCAN_CACHE)
    cache = load_scan_cache(cache_path, repr((SCAN_CACHE_VERSION, tags, exclude)))
    started = time.time_ns()
    base = os.path.join(root, "")
    index = _stat_key(os.path.join(git_dir, "index")) + _stat_key(os.path.join(git_dir, "info", "exclude"))
    relist = (index != cache["index"] or not cache["dirs"]
              or any(_stat_key(base + path) != known for path, known in cache["ignores"].items())
              or any(_mtime(base + directory) != mtime for directory, mtime in cache["dirs"].items()))
    # With nothing cached, git grep (C, threaded) prints the lines holding a tag while the
    # files are listed and stat'ed: only the files it names are read, only those lines lexed.
    grep = start_grep(root, tags, _grep_skips(exclude)) if not cache["files"] else None
    try:
        if relist:
            everything = list_files(root)
            listing = _eligible(everything, exclude)
        else:
            listing = cache["listing"]
        known_files, known_blobs = cache["files"], cache["blobs"]
        files, changed = _stat_listed(root, listing, known_files, cache["scanned_at"])
    finally:  # also on an interrupt: git is reaped, its pipe closed
        hit_lines = grep_result(grep) if grep is not None else None
    result = ScanResult(cache, relist)
    if changed:
        from leviathan_local.discovery.read import read_changed  # only now: see the docstring

        # The kernel stamps files with a clock up to a tick behind time.time_ns().
        entries, result.files_read = read_changed(base, changed, hit_lines, started - CLOCK_TICK_MARGIN,
                                                  known_blobs, tags)
        for path, entry in entries.items():
            if entry is None:
                del files[path]  # listed, then deleted or made unreadable
            else:
                files[path] = entry
    result.files = {path: known_blobs[entry[3]] for path, entry in files.items() if entry[3] in known_blobs}
    result.files_listed = len(files)
    if result.files_read or relist or index != cache["index"] or len(files) != len(known_files):
        generation = started if files != known_files else cache["generation"]
        in_use = {entry[3] for entry in files.values()}
        cache.update(index=index, files=files, scanned_at=started, generation=generation,
                     blobs={blob: found for blob, found in known_blobs.items() if blob in in_use})
        if relist:
            cache.update(listing=listing, dirs=_directory_mtimes(base, everything, started),
                         ignores={p: _stat_key(base + p) for p in everything if p.rsplit("/", 1)[-1] == ".gitignore"})
        save_scratch(cache_path, cache)
    return result


def _eligible(listed: list[str], exclude: tuple[str, ...]) -> list[str]:
    kept = [path for path in listed if not path.startswith(ALWAYS_SKIPPED)]
    if not exclude:
        return kept
    from leviathan_local.config.globs import matches  # only with excludes: globs compile regexes

    return [path for path in kept if not any(matches(path, pattern) for pattern in exclude)]


def _grep_skips(exclude: tuple[str, ...]) -> tuple[str, ...]:
    """Directories git grep need not search: the tool's own, and those policy excludes as plain
    prefixes (`vendor/`). A glob means slightly different things to git and to policy, so globs
    are left to the listing's filter, which decides in any case: this only spares output."""
    plain = tuple(pattern for pattern in exclude if pattern.endswith("/")
                  and not pattern.startswith(("/", "./")) and not any(char in pattern for char in "*?[\\"))
    return ALWAYS_SKIPPED + plain


def _stat_listed(root: str, listing: list[str], known_files: dict[str, Entry], scanned_at: int
                 ) -> tuple[dict[str, Entry | None], list[tuple[str, os.stat_result]]]:
    """Each listed regular file with its known entry (None if new), and those that changed."""
    files: dict[str, Entry | None] = {}
    changed: list[tuple[str, os.stat_result]] = []
    # Relative to the work tree's descriptor: fewer path components to walk (5% of this loop).
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for path in listing:  # the hot loop of a warm scan: keep it lean
            try:
                info = os.stat(path, dir_fd=root_fd, follow_symlinks=False)
            except OSError:
                continue  # listed, then deleted
            if not stat.S_ISREG(info.st_mode):
                continue  # not a regular file: symlinks and submodules are not followed (ripgrep's default too)
            entry = known_files.get(path)
            # A file changed within the same clock tick as the last scan could look unchanged: re-read it.
            if (entry is None or entry[1] != info.st_mtime_ns or entry[0] != info.st_size or entry[2] != info.st_ino
                    or info.st_mtime_ns >= scanned_at):
                changed.append((path, info))
            files[path] = entry
    finally:
        os.close(root_fd)
    return files, changed


def _directory_mtimes(base: str, listing: list[str], started: int) -> dict[str, int]:
    mtimes = {d: _mtime(base + d) for d in {p.rpartition("/")[0] for p in listing} | {""}}
    # A directory changed while it was listed may hold a file the listing missed: look again next time.
    return {d: (m if m < started else -2) for d, m in mtimes.items()}


def _stat_key(path: str) -> tuple[int, ...]:
    try:
        info = os.stat(path)
    except OSError:
        return (0, 0, 0)
    return info.st_size, info.st_mtime_ns, info.st_ino


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1
