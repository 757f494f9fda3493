"""git commands for discovery's scan, started with posix_spawn.

The git CLI because libgit2 has no `git grep` and no listing of untracked-but-not-ignored files
as fast as `ls-files --others --exclude-standard`; posix_spawn because the subprocess module
alone takes longer to import than a warm scan takes to run.
"""

from __future__ import annotations

import os

HitLines = dict[str, list[tuple[int, str]]]  # path -> (line number, line text) of each line with a tag


def start_grep(root: str, tags: tuple[str, ...], skipped: tuple[str, ...] = ()) -> SpawnedGit:
    """Every line holding a tag as a whole word, in text files git lists (tracked or untracked
    but not ignored) outside the ``skipped`` directories (`dir/`): `path NUL line NUL text LF`,
    files in path order, lines in order."""
    words = [argument for tag in tags for argument in ("-e", tag)]
    outside = [f":(exclude,literal){directory}" for directory in skipped]
    # One thread per core: git's default of 8 on a 2-core machine costs a fifth more time.
    return SpawnedGit(root, ["grep", f"--threads={min(8, available_cores())}", "-n", "-z", "-I", "-F", "-w",
                             "--untracked", "--no-color", *words, "--", *outside])


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def grep_result(grep: SpawnedGit) -> HitLines | None:
    output, code = grep.finish()
    if code not in (0, 1):  # 1: no line matched
        return None  # git grep failed: read every file instead
    from re import findall  # the scan that needs this imports re anyway

    hits: HitLines = {}
    # A path may hold a newline and a line a NUL (past git's 8,000-byte binary probe), never the reverse.
    for path, number, text in findall(rb"([^\0]*)\0(\d+)\0([^\n]*)\n", output):
        name = path.decode("utf-8", errors="surrogateescape")
        lines = hits.get(name)
        if lines is None:
            lines = hits[name] = []
        lines.append((int(number), text.decode("utf-8", errors="replace")))
    return hits


def list_files(root: str) -> list[str]:
    output, code = SpawnedGit(root, ["ls-files", "--cached", "--others", "--exclude-standard", "-z"]).finish()
    if code != 0:
        raise OSError(f"git ls-files failed in {root} (exit {code})")
    return sorted({name.decode("utf-8", errors="surrogateescape") for name in output.split(b"\0") if name})


class SpawnedGit:
    """A running git command whose standard output is read at `finish`."""

    def __init__(self, root: str, arguments: list[str]) -> None:
        reader, writer = os.pipe()
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            # The settings a user's config could set to change what is printed, or searched.
            settings = ["-c", "grep.fallbackToNoIndex=false", "-c", "grep.column=false"]
            outputs = [(os.POSIX_SPAWN_DUP2, writer, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
            self.pid = os.posix_spawnp("git", ["git", "-C", root, *settings, *arguments], os.environ,
                                       file_actions=outputs)
        except BaseException:
            os.close(reader)
            raise
        finally:
            os.close(writer)
            os.close(devnull)
        self.reader = reader

    def finish(self) -> tuple[bytes, int]:
        chunks = []
        while chunk := os.read(self.reader, 1 << 16):
            chunks.append(chunk)
        os.close(self.reader)
        _, status = os.waitpid(self.pid, 0)
        return b"".join(chunks), os.waitstatus_to_exitcode(status)
