"""The half of a scan that runs only when files changed: read them and find their tags.

A cold scan has the lines git grep found a tag on: only files it named are read, and only
those lines lexed; the others are recorded as holding nothing. An incremental scan reads each
changed file whole. Findings are kept per blob key, so content seen before is not lexed again.
"""

from __future__ import annotations

import os
from hashlib import sha1

from leviathan_local.discovery.cache import Entry
from leviathan_local.discovery.findings import findings_in
from leviathan_local.discovery.languages import PROSE, language_from_name, language_from_shebang
from leviathan_local.git.spawn import HitLines

NOTHING_FOUND = ""  # the blob key of a file that cannot hold findings (git grep found no tag, no comment syntax)


def read_changed(base: str, changed: list[tuple[str, os.stat_result]], hit_lines: HitLines | None,
                 trusted_before: int, blobs: dict, tags: tuple[str, ...]) -> tuple[dict[str, Entry | None], int]:
    """Each changed path's new entry (None: it could not be read) and how many files were read;
    the findings of new content are added to ``blobs``.

    ``hit_lines`` (None: no git grep ran) is trusted only for files last modified before
    ``trusted_before``: git grep read the files while the scan listed them, so what it says of
    one changed about then may be out of date, and that file is searched whole."""
    entries: dict[str, Entry | None] = {}
    read = 0
    for path, info in changed:
        trusted = hit_lines is not None and info.st_mtime_ns < trusted_before
        lines = hit_lines.get(path) if trusted else None
        # The name decides without reading; when it does not (None), the shebang of the bytes read.
        if (trusted and lines is None) or (language := language_from_name(path)) == PROSE:
            entries[path] = (info.st_size, info.st_mtime_ns, info.st_ino, NOTHING_FOUND)
            continue
        entry = _read(base, path, info, lines, blobs, tags, language)
        entries[path] = entry
        read += entry is not None
    return entries, read


def _read(base: str, path: str, info: os.stat_result, hit_lines: list[tuple[int, str]] | None, blobs: dict,
          tags: tuple[str, ...], language: str | None) -> Entry | None:
    """Read one file; only findings that exist are kept in ``blobs``. ``language`` None: the
    name did not tell, the shebang does (from these bytes: the file is opened once)."""
    try:
        with open(base + path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None  # listed, then deleted or made unreadable
    size, mtime, inode = info.st_size, info.st_mtime_ns, info.st_ino
    if language is None:
        language = language_from_shebang(data)
        if language == PROSE:
            return size, mtime, inode, NOTHING_FOUND
    if hit_lines is not None:
        # A cold scan keys findings by file, not content: hashing every file git grep named
        # would cost a fifth of the scan, to share findings between copies (rare).
        blob = f"{path}\0{size}:{mtime}:{inode}"
    else:
        # git's own blob id, plus the language: the same bytes in a .py and a .js differ.
        blob = sha1(b"blob %d\0" % len(data) + data).hexdigest() + ":" + language
    if blob not in blobs:
        found = findings_in(data, path, tags, hit_lines, language)
        if found:
            blobs[blob] = found
    return size, mtime, inode, blob
