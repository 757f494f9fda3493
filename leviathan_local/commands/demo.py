"""`leviathan demo [--path DIR]`: make the sample repository and run the whole loop on it."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TextIO

from leviathan_local.commands.demo_project import create_demo_repository
from leviathan_local.commands.plan import run_plan
from leviathan_local.commands.run import run_headless
from leviathan_local.errors import LeviathanError


def run_demo(path: Path | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    root = path or Path(tempfile.mkdtemp(prefix="leviathan-demo-")) / "calculator"
    if root.exists() and any(root.iterdir()):
        raise LeviathanError(f"{root} is not empty", hint="pass --path with a new or empty directory")
    paths = create_demo_repository(root)
    out.write(f"Sample repository: {root}\n\n== leviathan plan ==\n")
    run_plan(paths, out=out)
    out.write("\n== leviathan run ==\n")
    code = run_headless(paths, out=out)
    out.write(
        "\nWhere to look:\n"
        f"  cd {root}\n"
        "  git branch --list 'agent/*'        # one branch per attempt; successful ones wait for review\n"
        "  git log -1 --stat --branches='agent/subtract-*'  # the work and the task's completion in one commit\n"
        "  leviathan review                   # what waits for review: files, phases, gates\n"
        "  leviathan merge subtract           # approve: merge it (or: leviathan reject subtract --reason ...)\n"
        "  leviathan events                   # the hash-chained event log (leviathan events verify)\n"
        "  leviathan plan                     # what is left, and why\n"
        "  cat DOCS/status/latest.md          # the run's status report (chart: latest.svg)\n"
    )
    return code
