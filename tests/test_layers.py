"""The house's rules: import-linter's contracts hold, a wrong import breaks them, and the tree
matches its map in DOCS/architecture.md."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import leviathan_local

PACKAGE = Path(leviathan_local.__file__).parent
PROJECT = PACKAGE.parent
CONTRACTS = ("Wings import only downward", "Nothing below the terminal app imports Textual",
             "The engine never imports review, reports or the app", "Primitives import nothing of the package",
             "No import circles, at any depth")


def lint_imports(source_root: Path, config: Path) -> subprocess.CompletedProcess[str]:
    """import-linter on the package found under ``source_root``, as `lint-imports` runs it."""
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run([sys.executable, "-c", code, str(config), "--no-cache"],
                          cwd=source_root, capture_output=True, text=True, env={"PYTHONPATH": str(source_root),
                                                                                 "PATH": "/usr/bin:/bin"})


def contract_lines(output: str) -> dict[str, str]:
    return {name: verdict for name, verdict in re.findall(r"^(.+?) (KEPT|BROKEN)\b", output, re.M)}


def test_every_contract_holds() -> None:
    result = lint_imports(PROJECT, PROJECT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert contract_lines(result.stdout) == dict.fromkeys(CONTRACTS, "KEPT")


def test_wrong_imports_break_the_contract_they_break(tmp_path: Path) -> None:
    shutil.copytree(PACKAGE, tmp_path / "leviathan_local", ignore=shutil.ignore_patterns("__pycache__"))
    wrong = {
        "engine/runner.py": "from leviathan_local.review import pending",  # upward, and engine → review
        "backlog/model.py": "import textual",  # Textual below the app
        "clock.py": "from leviathan_local import errors",  # a primitive importing the package
        "backlog/items.py": "from leviathan_local.backlog import parse",  # parse imports items: a circle
    }
    for module, line in wrong.items():
        path = tmp_path / "leviathan_local" / module
        path.write_text(path.read_text() + f"\n{line}\n")
    result = lint_imports(tmp_path, PROJECT / "pyproject.toml")
    assert result.returncode == 1
    assert contract_lines(result.stdout) == dict.fromkeys(CONTRACTS, "BROKEN")
    assert "leviathan_local.engine.runner -> leviathan_local.review.pending" in result.stdout
    assert "leviathan_local.backlog" in result.stdout.split("No import circles, at any depth\n---")[1]


def modules_in_the_tree() -> set[str]:
    files = {path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*") if path.is_file()}
    return {name for name in files if "__pycache__" not in name and not name.endswith("__init__.py")
            or name == "__init__.py"}


def modules_on_the_map() -> set[str]:
    """`name.py` entries under each `### ... (wing/)` heading of DOCS/architecture.md."""
    mapped: set[str] = set()
    wing = ""
    for line in (PROJECT / "DOCS" / "architecture.md").read_text().splitlines():
        if line.startswith("### "):
            heading = re.search(r"`(\w+)/`", line)
            wing = f"{heading.group(1)}/" if heading else ""
        elif entry := re.match(r"- `([\w./]+\.(?:py|json))`", line):
            mapped.add(wing + entry.group(1))
    return mapped


def test_the_map_names_every_module_and_only_those() -> None:
    in_tree, on_map = modules_in_the_tree(), modules_on_the_map()
    assert sorted(in_tree - on_map) == [], "modules missing from DOCS/architecture.md"
    assert sorted(on_map - in_tree) == [], "DOCS/architecture.md lists modules that are gone"


def test_the_top_level_holds_the_wings_and_at_most_twelve_other_entries() -> None:
    entries = [path for path in PACKAGE.iterdir() if path.name != "__pycache__"]
    wings = {path.name for path in entries if path.is_dir()}
    assert wings == {"backlog", "cli", "commands", "config", "discovery", "engine", "git", "planning", "reports",
                     "review", "tui"}
    assert len(entries) - len(wings) <= 12


def test_each_wing_says_what_it_owns_and_what_it_may_import() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        text = init.read_text()
        assert text.startswith('"""') and "import" in text.split('"""')[1], f"{init.parent.name}/ has no such docstring"
