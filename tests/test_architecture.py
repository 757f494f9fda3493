"""The engine never imports the UI; the CLI's light commands do not pay for git or Textual."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

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


def _git_access_in(source: str) -> list[str]:
    """What in a module's source touches git directly: pygit2, a git process, a path inside .git."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"line {node.lineno}: imports {name}" for name in names if name.split(".")[0] == "pygit2"]
        elif isinstance(node, ast.List | ast.Tuple) and node.elts:
            first = node.elts[0]
            if isinstance(first, ast.Constant) and first.value == "git":
                found.append(f"line {node.lineno}: runs a git command")
        elif isinstance(node, ast.Constant) and node.value in ("commondir", "HEAD", "gitdir: "):
            found.append(f"line {node.lineno}: reads inside .git ({node.value!r})")
    return found


def test_all_git_access_lives_in_the_git_package() -> None:
    package = Path(leviathan_local.__file__).parent
    offenders = {
        str(path.relative_to(package)): problems
        for path in sorted(package.rglob("*.py"))
        if path.parent.name != "git" and (problems := _git_access_in(path.read_text()))
    }
    assert offenders == {}


def test_the_git_access_check_sees_each_kind_of_access() -> None:
    source = ("import pygit2\nfrom pygit2.enums import ObjectType\n"
              "subprocess.run(['git', 'status'])\nopen(os.path.join(d, 'commondir'))\n")
    assert len(_git_access_in(source)) == 4


def test_discover_starts_without_heavy_imports() -> None:
    # Editors and hooks run discover over and over: each of these packages costs more to import
    # than a warm scan takes. (The standard library's modules are left to the benchmark, which
    # holds a warm scan to 1.5x ripgrep.) Without site (-S) and with the source on the path, as
    # a wheel lays it out.
    heavy = {"click", "pygit2", "yaml", "ruamel", "textual"}
    source = Path(leviathan_local.__file__).parent.parent
    code = (f"import sys; sys.path.insert(0, {str(source)!r}); import leviathan_local.cli.entry; "
            "print(' '.join(sys.modules))")
    result = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True)
    assert {name.split(".")[0] for name in result.stdout.split()} & heavy == set()
