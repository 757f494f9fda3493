"""The incremental scan: which files to read, and what they held last time.

The files are those `git ls-files --cached --others --exclude-standard` lists (tracked, plus
untracked but not ignored), minus `worktrees/`, `.leviathan/` and policy excludes. Findings are
cached under `<git common dir>/leviathan/`, per blob id and comment syntax once a file was read
again (per path and stat after a cold scan); a file whose size,
mtime and inode are unchanged since the last scan is not read again, and the listing itself is
reused while the index, the `.gitignore` files and every listed directory are unchanged (a new
or deleted file changes its directory's mtime). This runs on every `leviathan discover`, so it keeps to plain
strings and light imports.
"""

from __future__ import annotations

import marshal
import os
import time
from _thread import get_ident

from leviathan_local.git.spawn import grep_result, list_files, start_grep

TYPE_CHECKING = False  # collections.abc costs a warm scan a millisecond and more
if TYPE_CHECKING:
    from collections.abc import Callable

CACHE_VERSION = 4
ALWAYS_SKIPPED = ("worktrees/", ".leviathan/")
RawFinding = tuple[int, str, str, str]  # line, tag, text, text with continuation lines
NOTHING_FOUND = ""  # the blob id of a file that cannot hold findings (git grep found no tag, no comment syntax)
CLOCK_TICK_MARGIN = 50_000_000  # ns: more than a kernel tick at any HZ


class ScanResult:
    def __init__(self, cache: dict, relisted: bool) -> None:
        self.files: dict[str, tuple[RawFinding, ...]] = {}  # paths with findings only
        self.files_listed = 0
        self.files_read = 0
        self.relisted = relisted
        self.cache = cache

    @property
    def generation(self) -> int:
        """Changes whenever a scanned file's content, or the set of files, changes."""
        return self.cache["generation"]


def _empty_cache(config: str) -> dict:
    # index: stat of the git index; listing: eligible paths; dirs: dir -> mtime; files: path ->
    # (size, mtime, inode, blob); blobs: blob -> findings (none kept for blobs without any);
    # ignores: .gitignore path -> stat; generation: when files last changed
    return {"config": config, "index": (), "dirs": {}, "listing": [], "files": {}, "blobs": {},
            "ignores": {}, "scanned_at": 0, "generation": 0}


def scan(root: str, git_dir: str, state_dir: str, tags: tuple[str, ...],
         excluded: Callable[[str], bool] | None = None, exclude_key: tuple[str, ...] = ()) -> ScanResult:
    """Findings of every eligible file; ``excluded(path)`` says which paths policy skips (and
    ``exclude_key``, those rules' patterns, identifies them, since the cached listing is kept
    filtered)."""
    cache_path = os.path.join(state_dir, "discover-cache")
    cache = _load(cache_path, repr((CACHE_VERSION, tags, exclude_key)))
    started = time.time_ns()
    base = os.path.join(root, "")
    index = _stat_key(os.path.join(git_dir, "index")) + _stat_key(os.path.join(git_dir, "info", "exclude"))
    relist = (index != cache["index"] or not cache["dirs"]
              or any(_stat_key(base + path) != known for path, known in cache["ignores"].items())
              or any(_mtime(base + directory) != mtime for directory, mtime in cache["dirs"].items()))
    # With nothing cached, git grep (C, threaded) prints the lines holding a tag: only the files
    # it names are read, and only those lines lexed; the rest are recorded as holding none.
    candidates = start_grep(root, tags, _grep_skips(exclude_key)) if not cache["files"] else None
    if relist:
        try:
            everything = list_files(root)
        except BaseException:
            if candidates is not None:
                candidates.finish()  # reaped: no zombie, no open pipe left behind
            raise
        listing = [p for p in everything if not p.startswith(ALWAYS_SKIPPED) and not (excluded and excluded(p))]
    else:
        listing = cache["listing"]
    result = ScanResult(cache, relist)
    known_files, known_blobs, scanned_at = cache["files"], cache["blobs"], cache["scanned_at"]
    files, changed = _stat_listed(root, listing, known_files, scanned_at)
    if changed:
        from leviathan_local.discovery.comments import syntax_for
        from leviathan_local.discovery.read import read_files
    with_tags = grep_result(candidates) if candidates is not None else None
    # git grep read the files after `started`: what it says of one changed about then may be
    # out of date, so that file is read and searched whole (the kernel stamps files with a clock
    # up to a tick behind time.time_ns()).
    recent = started - CLOCK_TICK_MARGIN
    jobs = []
    for path, info in changed:
        trusted = with_tags is not None and info.st_mtime_ns < recent
        hit_lines = with_tags.get(path) if trusted else None
        if (trusted and hit_lines is None) or syntax_for(path) is None:
            files[path] = (info.st_size, info.st_mtime_ns, info.st_ino, NOTHING_FOUND)
        else:
            jobs.append((path, info.st_size, info.st_mtime_ns, info.st_ino, hit_lines))
    entries, result.files_read = read_files(base, jobs, known_blobs, tags) if jobs else ([], 0)
    for job, entry in zip(jobs, entries):
        if entry is None:
            del files[job[0]]  # listed, then deleted or made unreadable
        else:
            files[job[0]] = entry
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


def _grep_skips(exclude: tuple[str, ...]) -> tuple[str, ...]:
    """Directories git grep need not search: the tool's own, and those policy excludes as plain
    prefixes (`vendor/`). A glob means slightly different things to git and to policy, so globs
    are left to the listing's filter, which decides in any case: this only spares output."""
    plain = tuple(pattern for pattern in exclude if pattern.endswith("/")
                  and not pattern.startswith(("/", "./")) and not any(char in pattern for char in "*?[\\"))
    return ALWAYS_SKIPPED + plain


def _stat_listed(root: str, listing: list[str], known_files: dict, scanned_at: int
                 ) -> tuple[dict[str, tuple[int, int, int, str] | None], list[tuple[str, os.stat_result]]]:
    """Each listed regular file with its known entry (None if new), and those that changed."""
    files: dict[str, tuple[int, int, int, str] | None] = {}
    changed: list[tuple[str, os.stat_result]] = []
    stat = os.stat
    # Relative to the work tree's descriptor: fewer path components to walk (5% of this loop).
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for path in listing:  # the hot loop of a warm scan: keep it lean
            try:
                info = stat(path, dir_fd=root_fd, follow_symlinks=False)
            except OSError:
                continue  # listed, then deleted
            if info.st_mode >> 12 != 8:
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


def _load(path: str, config: str) -> dict:
    try:
        with open(path, "rb") as handle:
            cache = marshal.loads(handle.read())  # load() on a file reads in small steps: slower
    except (OSError, EOFError, ValueError, TypeError):
        return _empty_cache(config)
    if not isinstance(cache, dict) or cache.get("config") != config:
        return _empty_cache(config)
    return cache


def save_scratch(path: str, value: object) -> None:
    """Write one of discovery's disposable caches (marshal): replaced whole, never fsynced."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Unique per thread as well: the app may run two scans at once (a rescan while one finishes).
    # `_thread`, not `threading`: importing that costs a warm `discover` 4 ms of its ~25.
    temporary = f"{path}.{os.getpid()}.{get_ident()}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(marshal.dumps(value))
    os.replace(temporary, path)
