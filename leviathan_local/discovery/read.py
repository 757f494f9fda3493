"""Read and lex the files a scan must look at, on two cores when there are many.

A cold scan reads every file git grep found a tag in: hundreds of files and most of the scan's
time, all of it Python. With two cores or more, and no other thread in the process (a child
forked beside a running thread may inherit a lock held forever), half of the files go to a
forked child, which sends its entries back through a pipe. If the child fails in any way, the
parent reads that half itself: the answer never depends on the child.
"""

from __future__ import annotations

import marshal
import os
from _thread import _count as other_threads

from leviathan_local.git.spawn import available_cores

PARALLEL_FROM = 96  # fewer files take less time than forking and collecting a child
Job = tuple[str, int, int, int, "list[tuple[int, str]] | None"]  # path, size, mtime_ns, inode, hit lines
Entry = tuple[int, int, int, str]  # size, mtime_ns, inode, blob: what the scan's cache keeps per file


def read_files(base: str, jobs: list[Job], blobs: dict, tags: tuple[str, ...]) -> tuple[list[Entry | None], int]:
    """An entry per job (None: the file could not be read) and how many files were read;
    the findings of new content are added to ``blobs``."""
    if len(jobs) < PARALLEL_FROM or not _may_fork():
        return _read_batch(base, jobs, blobs, tags)
    theirs, mine = jobs[1::2], jobs[0::2]
    child = _fork_reader(base, theirs, blobs, tags)
    try:
        own_entries, own_read = _read_batch(base, mine, blobs, tags)
    except BaseException:  # an interrupt, say: the child must not live on blocked on its pipe
        if child is not None:
            _abandon(child)
        raise
    answer = _collect(child) if child is not None else None
    if answer is None:
        their_entries, their_read = _read_batch(base, theirs, blobs, tags)
    else:
        their_entries, their_read, their_blobs = answer
        blobs.update(their_blobs)
    entries: list[Entry | None] = [None] * len(jobs)
    entries[0::2], entries[1::2] = own_entries, their_entries
    return entries, own_read + their_read


def _may_fork() -> bool:
    return hasattr(os, "fork") and _single_threaded() and available_cores() > 1


def _single_threaded() -> bool:
    """No other thread, Python's or a C library's (Linux lists them all under /proc)."""
    if other_threads():
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return True  # no /proc: Python's own count is all there is


def _fork_reader(base: str, jobs: list[Job], blobs: dict, tags: tuple[str, ...]) -> tuple[int, int] | None:
    """(pid, pipe to read) of a child reading ``jobs``; None when no child could be started."""
    try:
        reader, writer = os.pipe()
    except OSError:  # out of file descriptors: read everything here
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return None
    if pid:
        os.close(writer)
        return pid, reader
    code = 1
    try:  # the child: never returns, never runs the parent's cleanup or flushes its buffers
        os.close(reader)
        known = set(blobs)
        entries, read = _read_batch(base, jobs, blobs, tags)
        payload = marshal.dumps((entries, read, {blob: found for blob, found in blobs.items() if blob not in known}))
        with open(writer, "wb", closefd=True) as pipe:
            pipe.write(payload)
        code = 0
    finally:
        os._exit(code)


def _abandon(child: tuple[int, int]) -> None:
    from signal import SIGKILL

    pid, reader = child
    os.close(reader)
    try:
        os.kill(pid, SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


def _collect(child: tuple[int, int]) -> tuple[list[Entry | None], int, dict] | None:
    pid, reader = child
    chunks = []
    try:
        while chunk := os.read(reader, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(reader)  # first: a child still writing then fails at once and exits
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return None
    try:
        entries, read, new_blobs = marshal.loads(b"".join(chunks))
    except (EOFError, ValueError, TypeError):
        return None
    return entries, read, new_blobs


def _read_batch(base: str, jobs: list[Job], blobs: dict, tags: tuple[str, ...]) -> tuple[list[Entry | None], int]:
    entries = [_read(base, job, blobs, tags) for job in jobs]
    return entries, sum(entry is not None for entry in entries)


def _read(base: str, job: Job, blobs: dict, tags: tuple[str, ...]) -> Entry | None:
    """Read a new or changed file; only findings that exist are kept in ``blobs``."""
    path, size, mtime, inode, hit_lines = job
    try:
        with open(base + path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    from leviathan_local.discovery.findings import findings_in

    if hit_lines is not None:
        # A cold scan keys findings by file, not content: hashing every file git grep named
        # would cost a fifth of the scan, to share findings between copies (rare).
        blob = f"{path}\0{size}:{mtime}:{inode}"
    else:
        from hashlib import sha1  # only when files changed

        from leviathan_local.discovery.comments import syntax_key

        # git's own blob id, plus the comment syntax: the same bytes in a .py and a .js differ.
        blob = sha1(b"blob %d\0" % len(data) + data).hexdigest() + ":" + syntax_key(path)
    if blob not in blobs:
        found = findings_in(data, path, tags, hit_lines)
        if found:
            blobs[blob] = found
    return size, mtime, inode, blob
