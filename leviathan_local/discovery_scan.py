"""The incremental scan: which files to read, and what they held last time.

The files are those `git ls-files --cached --others --exclude-standard` lists (tracked, plus
untracked but not ignored), minus `worktrees/`, `.leviathan/` and policy excludes. Findings are
cached per blob id under `<git common dir>/leviathan/`; a file whose size, mtime and inode are
unchanged since the last scan is not read again, and the listing itself is reused while the
index, the `.gitignore` files and every listed directory are unchanged (a new or deleted file
changes its directory's mtime). This runs on every `leviathan discover`, so it keeps to plain
strings and light imports.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import time
from collections.abc import Callable
from pathlib import Path

CACHE_VERSION = 2
ALWAYS_SKIPPED = ("worktrees/", ".leviathan/")
RawFinding = tuple[int, str, str, str]  # line, tag, text, text with continuation lines


class ScanResult:
    def __init__(self, cache: dict, relisted: bool) -> None:
        self.files: dict[str, tuple[RawFinding, ...]] = {}  # paths with findings only
        self.files_listed = 0
        self.files_read = 0
        self.relisted = relisted
        self.digest = ""  # changes whenever any scanned content changes
        self.cache = cache


def _empty_cache(config: str) -> dict:
    # index: stat of the git index; dirs: dir -> mtime; files: path -> (size, mtime, inode, blob);
    # blobs: blob -> findings; ignores: .gitignore path -> stat; extra: callers' memo
    return {"config": config, "index": (), "dirs": {}, "listing": [], "files": {}, "blobs": {},
            "ignores": {}, "scanned_at": 0, "extra": {}}


def scan(root: Path, git_dir: Path, state_dir: Path, tags: tuple[str, ...],
         excluded: Callable[[str], bool] | None = None) -> ScanResult:
    """Findings of every eligible file; ``excluded(path)`` says which paths policy skips."""
    cache_path = os.path.join(state_dir, "discover-cache")
    config = hashlib.sha1(repr((CACHE_VERSION, tags)).encode()).hexdigest()
    cache = _load(cache_path, config)
    started = time.time_ns()
    base = os.path.join(root, "")
    index = _stat_key(os.path.join(git_dir, "index")) + _stat_key(os.path.join(git_dir, "info", "exclude"))
    relist = (index != cache["index"] or not cache["listing"]
              or any(_stat_key(base + path) != known for path, known in cache["ignores"].items())
              or any(_mtime(base + directory) != mtime for directory, mtime in cache["dirs"].items()))
    listing = _list_files(root) if relist else cache["listing"]
    result = ScanResult(cache, relist)
    known_files, known_blobs = cache["files"], cache["blobs"]
    files: dict[str, tuple[int, int, int, str]] = {}
    blobs: dict[str, tuple[RawFinding, ...]] = {}
    for path in listing:
        if path.startswith(ALWAYS_SKIPPED) or (excluded is not None and excluded(path)):
            continue
        try:
            info = os.lstat(base + path)
        except OSError:
            continue  # listed, then deleted
        if (info.st_mode & 0o170000) != 0o100000:
            continue  # symlinks, submodules: not followed (ripgrep's default too)
        entry = known_files.get(path)
        # A file changed within the same clock tick as the last scan could look unchanged: re-read it.
        if (entry is None or entry[0] != info.st_size or entry[1] != info.st_mtime_ns or entry[2] != info.st_ino
                or info.st_mtime_ns >= cache["scanned_at"]):
            entry = _read(base, path, info, known_blobs, tags, result)
            if entry is None:
                continue
        files[path] = entry
        blob = entry[3]
        found = blobs[blob] = known_blobs.get(blob, ())
        if found:
            result.files[path] = found
    result.files_listed = len(files)
    result.digest = hashlib.sha1(marshal.dumps([(path, entry[3]) for path, entry in files.items()])).hexdigest()
    if result.files_read or relist or index != cache["index"] or len(files) != len(known_files):
        cache.update(index=index, files=files, blobs=blobs, scanned_at=started, extra={})
        if relist:
            cache.update(listing=listing, dirs=_directory_mtimes(base, listing, started),
                         ignores={p: _stat_key(base + p) for p in listing if p.rsplit("/", 1)[-1] == ".gitignore"})
        _save(cache_path, cache)
    return result


def remember(state_dir: Path, result: ScanResult, key: str, value: str) -> None:
    """Keep ``value`` beside the scan cache (e.g. the rendered report for this digest)."""
    result.cache["extra"] = {key: value}
    _save(os.path.join(state_dir, "discover-cache"), result.cache)


def recalled(result: ScanResult, key: str) -> object | None:
    return result.cache["extra"].get(key)


def _read(base: str, path: str, info: os.stat_result, blobs: dict, tags: tuple[str, ...],
          result: ScanResult) -> tuple[int, int, int, str] | None:
    try:
        with open(base + path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    result.files_read += 1
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # git's own blob id
    if blob not in blobs:
        from leviathan_local.discovery_findings import findings_in  # only when a file changed

        blobs[blob] = findings_in(data, path, tags)
    return info.st_size, info.st_mtime_ns, info.st_ino, blob


def _directory_mtimes(base: str, listing: list[str], started: int) -> dict[str, int]:
    mtimes = {d: _mtime(base + d) for d in {p.rpartition("/")[0] for p in listing} | {""}}
    # A directory changed while it was listed may hold a file the listing missed: look again next time.
    return {d: (m if m < started else -2) for d, m in mtimes.items()}


def _list_files(root: Path) -> list[str]:
    import subprocess  # only when the listing must be refreshed

    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            cwd=root, capture_output=True, check=True).stdout
    return sorted({name.decode("utf-8", errors="surrogateescape") for name in listed.split(b"\0") if name})


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


def _save(path: str, cache: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(marshal.dumps(cache))
    os.replace(temporary, path)  # a disposable cache: no fsync
