"""`leviathan init`: create `.leviathan/` with commented examples; never overwrite anything."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TextIO

from leviathan_local.atomic import write_atomic
from leviathan_local.backlog import merge_driver
from leviathan_local.config import templates
from leviathan_local.errors import EXIT_OK
from leviathan_local.git.repo import RepoPaths, current_branch

_IGNORES_WORKTREES = re.compile(r"^/?worktrees(/\*{0,2})?/?\s*$", re.MULTILINE)


def run_init(paths: RepoPaths, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    target_id = re.sub(r"[^A-Za-z0-9._-]+", "-", paths.root.name) or "repository"
    files = {
        paths.contract: templates.CONTRACT.format(target_id=target_id,
                                                  default_branch=current_branch(paths) or "main"),
        paths.backlog: templates.BACKLOG,
        paths.policy: templates.POLICY,
    }
    paths.leviathan_dir.mkdir(exist_ok=True)
    for path, content in files.items():
        created = _create_if_missing(path, content)
        out.write(f"{'created' if created else 'kept   '} {path.relative_to(paths.root)}\n")
    if _ignore_worktrees(paths.root / ".gitignore"):
        out.write("added   worktrees/ to .gitignore\n")
    if merge_driver.add_attribute(paths.root / ".gitattributes"):
        out.write("added   the backlog merge driver to .gitattributes\n")
    merge_driver.register_driver(paths)
    out.write(f"set     merge.{merge_driver.DRIVER_NAME} in .git/config (git merges the backlog task by task)\n")
    out.write("\nNext: add tasks to .leviathan/backlog.yaml, then run `leviathan plan`.\n"
              "Review and commit .leviathan/, .gitignore and .gitattributes yourself: init commits nothing.\n")
    return EXIT_OK


def _create_if_missing(path: Path, content: str) -> bool:
    if path.exists():
        return False
    write_atomic(path, content.encode("utf-8"))
    return True


def _ignore_worktrees(gitignore: Path) -> bool:
    """Add `worktrees/` unless a line already ignores it; keep every existing byte."""
    existing = gitignore.read_bytes() if gitignore.exists() else b""
    if _IGNORES_WORKTREES.search(existing.decode("utf-8", errors="replace")):
        return False
    separator = b"" if not existing or existing.endswith(b"\n") else b"\n"
    write_atomic(gitignore, existing + separator + b"worktrees/\n")
    return True
