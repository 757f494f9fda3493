"""Shared loading of the human-owned config files: read, parse, validate, explain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from leviathan_local.config import yamlio
from leviathan_local.config.schema import Problem, Spec, check_mapping
from leviathan_local.errors import ConfigError, file_error
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.wording import plural, them


def load_config(paths: RepoPaths, path: Path, spec: Spec) -> Any:
    """The validated value of ``path``, None when the file is absent or empty."""
    source = display(paths, path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text", hint="save the file as UTF-8") from None
    except OSError as error:  # a directory in its place, `.leviathan` a file, no permission
        raise file_error(error, path, paths.root) from None
    root = yamlio.compose(text, source, ConfigError)
    problems: list[Problem] = []
    try:
        check_mapping(root, spec, "", problems)
        value = yamlio.construct(root)  # what no check read (a text value the checks only looked at)
    except yamlio.YamlValueError as error:
        raise _unreadable(source, root, error) from None
    if problems:
        listing = "\n".join(f"  {source}:{p.line}:{p.column}: {p.field}: {p.message}" for p in problems)
        raise ConfigError(f"{source} has {plural(len(problems), 'problem')}:\n{listing}",
                          hint=f"fix {them(len(problems))} in {source}; `leviathan init` in an empty repository "
                               "shows a commented example")
    return value


def _unreadable(source: str, root: yamlio.Node | None, error: yamlio.YamlValueError) -> ConfigError:
    """A value that cannot be read (a recursive alias, an integer too long), named by file, line
    and field as the schema's problems are; the field is found from the top, as the check saw
    only the value."""
    cycle = yamlio.find_cycle(root) if root is not None and isinstance(error, yamlio.YamlRecursionError) else None
    node, labels = cycle if cycle else (error.node, (yamlio.path_to(root, error.node) or ()) if root else ())
    field = "".join(f"[{label}]" if isinstance(label, int) else f".{label}" for label in labels).lstrip(".")
    line, column = yamlio.position(node)
    return ConfigError(f"{source}:{line}:{column}: {field or '(top level)'}: {error.reason}",
                       hint=f"fix it in {source}; nothing was written")


def display(paths: RepoPaths, path: Path) -> str:
    try:
        return str(path.relative_to(paths.root))
    except ValueError:
        return str(path)
