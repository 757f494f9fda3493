"""The engine never imports the UI; the CLI's light commands do not pay for git or Textual."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import leviathan_local


def engine_modules() -> list[str]:
    names = [info.name for info in pkgutil.walk_packages(leviathan_local.__path__, "leviathan_local.")]
    return [name for name in names if ".tui" not in name]


def loaded_after_import(module: str) -> set[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout))


def test_no_engine_module_imports_textual() -> None:
    offenders = [name for name in engine_modules() if "textual" in loaded_after_import(name)]
    assert offenders == []
