"""The git merge driver for `.leviathan/backlog.yaml`: registration and the driver itself.

`leviathan init` registers it in `.gitattributes` (committed, so every clone asks for it)
and in the repository's `.git/config` (local: git never runs commands a clone brought in).
`run`, `attempt` and `merge` register it in a clone that lacks it (`ensure_registered`), locally:
`.git/config` and, unless `.gitattributes` routes the backlog already, `.git/info/attributes`.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import TextIO

from leviathan_local.atomic import write_atomic
from leviathan_local.backlog.merge import merge_backlogs
from leviathan_local.backlog.merge3 import Labels
from leviathan_local.git.repo import (
    RepoPaths, info_attributes_path, path_attribute, repository_config, set_repository_config,
)

DRIVER_NAME = "leviathan-backlog"
ATTRIBUTE_LINE = f".leviathan/backlog.yaml merge={DRIVER_NAME}"
_ATTRIBUTE = re.compile(rf"^/?\.leviathan/backlog\.yaml\s.*\bmerge={re.escape(DRIVER_NAME)}\b", re.MULTILINE)


def driver_command() -> str:
    # The interpreter that runs leviathan now, by absolute path: git may run the driver from a
    # shell whose PATH lacks this environment. Re-run `leviathan init` after moving it.
    return f"{shlex.quote(sys.executable)} -m leviathan_local merge-driver %O %A %B --marker-size %L --path %P"


def register_driver(paths: RepoPaths) -> None:
    set_repository_config(paths, {
        f"merge.{DRIVER_NAME}.name": "leviathan-local: task-by-task merge of the backlog",
        f"merge.{DRIVER_NAME}.driver": driver_command(),
    })


def ensure_registered(paths: RepoPaths) -> str | None:
    """Register the driver in this clone where it is missing, nothing committed: what was done
    (for the command to say, once: the next call finds it registered), or None."""
    done = []
    if repository_config(paths, f"merge.{DRIVER_NAME}.driver") is None:
        register_driver(paths)
        done.append(f"merge.{DRIVER_NAME} in .git/config")
    if path_attribute(paths, ATTRIBUTE_LINE.split()[0], "merge") != DRIVER_NAME:
        add_attribute(info_attributes_path(paths))
        done.append("a line in .git/info/attributes")
    if not done:
        return None
    return (f"registered the backlog merge driver in this clone ({' and '.join(done)}; local, nothing "
            "committed): git now merges .leviathan/backlog.yaml task by task")


def add_attribute(gitattributes: Path) -> bool:
    """Route backlog.yaml merges to the driver; keep every existing byte. False if already there."""
    gitattributes.parent.mkdir(parents=True, exist_ok=True)  # .git/info may be missing
    existing = gitattributes.read_bytes() if gitattributes.exists() else b""
    if _ATTRIBUTE.search(existing.decode("utf-8", errors="replace")):
        return False
    separator = b"" if not existing or existing.endswith(b"\n") else b"\n"
    write_atomic(gitattributes, existing + separator + ATTRIBUTE_LINE.encode() + b"\n")
    return True


def run_driver(base: Path, ours: Path, theirs: Path, marker_size: int = 7, path: str = ".leviathan/backlog.yaml",
               err: TextIO | None = None) -> int:
    """git's contract: merge into ``ours`` in place; exit 0 when clean, 1 when conflicts remain."""
    err = err or sys.stderr
    texts = [file.read_bytes().decode("utf-8", errors="surrogateescape") for file in (base, ours, theirs)]
    merged = merge_backlogs(*texts, labels=Labels(marker_size=marker_size))
    write_atomic(ours, merged.text.encode("utf-8", errors="surrogateescape"))
    for conflict in merged.conflicts:
        err.write(f"leviathan: merge conflict in {path}: {conflict}\n")
    return 1 if merged.conflicts else 0
