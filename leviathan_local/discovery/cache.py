"""Discovery's disposable caches under `<git common dir>/leviathan/`, and the scan cache's shape.

Three files, each one marshal value replaced whole: the scan cache (`discover-cache`), the
policy's discovery settings (`discover-policy`) and the kept report (`discover-report`).
marshal, not json or pickle: they hold plain tuples, dicts and bytes, and marshal loads them
fastest (the scan cache of a large tree is megabytes, read at every `discover`). A cache that
is missing, torn or from another Python reads as nothing and is made again.
"""

from __future__ import annotations

import marshal
import os

SCAN_CACHE = "discover-cache"
SCAN_CACHE_VERSION = 5  # 5: languages by identify and shebang; the tag's qualifier
RawFinding = tuple[int, str, str, str, str]  # line, tag, text, text with continuation lines, qualifier
Entry = tuple[int, int, int, str]  # size, mtime_ns, inode, blob key: what the scan cache keeps per file


def empty_scan_cache(config: str) -> dict:
    # index: stat of the git index; listing: eligible paths; dirs: dir -> mtime; files: path ->
    # Entry; blobs: blob key -> its RawFindings (none kept for blobs without any); ignores:
    # .gitignore path -> stat; scanned_at: when the last scan began; generation: when files last changed
    return {"config": config, "index": (), "dirs": {}, "listing": [], "files": {}, "blobs": {},
            "ignores": {}, "scanned_at": 0, "generation": 0}


def load_scan_cache(path: str, config: str) -> dict:
    """The scan cache made for ``config`` (the tags and excludes), or an empty one."""
    cache = load_scratch(path)
    if not isinstance(cache, dict) or cache.get("config") != config:
        return empty_scan_cache(config)
    return cache


def load_scratch(path: str) -> object | None:
    """The value saved at ``path``; None when there is none that can be read."""
    try:
        with open(path, "rb") as handle:
            return marshal.loads(handle.read())  # marshal.load() reads a file in small steps: slower
    except (OSError, EOFError, ValueError, TypeError):
        return None


def save_scratch(path: str, value: object) -> None:
    """Replace ``path`` with ``value``, atomically but without fsync: losing it costs a rescan."""
    # Imported here: atomic needs tempfile and pathlib, a fifth of a warm `discover`, which writes nothing.
    from pathlib import Path

    from leviathan_local.atomic import write_atomic

    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_atomic(Path(path), marshal.dumps(value), durable=False)
