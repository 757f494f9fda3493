"""The `leviathan` executable: `discover` starts without click; everything else goes to `cli`.

Importing click costs more than a warm `discover` itself (tens of milliseconds), and discover
is the command editors and hooks run over and over.
"""

from __future__ import annotations

import sys

from leviathan_local.commands.discover import run_discover_at
from leviathan_local.errors import LeviathanError, file_error

_GLOBAL_WITH_VALUE = ("--repo", "--log-level")


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    fast = _fast_discover(args)
    if fast is None:
        from leviathan_local.cli.main import main as cli_main

        cli_main(args)
        return
    repo, dry_run, as_json = fast
    try:
        code = run_discover_at(repo, dry_run=dry_run, as_json=as_json)
    except OSError as os_error:  # last resort, as in cli.main
        code = _report(file_error(os_error))
    except LeviathanError as error:
        code = _report(error)
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


def _report(error: LeviathanError) -> int:
    sys.stderr.write(f"error: {error.message}\n" + (f"hint: {error.hint}\n" if error.hint else ""))
    return error.exit_code


def _fast_discover(args: list[str]) -> tuple[str, bool, bool] | None:
    """(repo, --dry-run, --json) when ``args`` are exactly a discover call; None otherwise."""
    repo, position = ".", 0
    while position < len(args) and args[position] != "discover":
        option, _, value = args[position].partition("=")
        if option not in _GLOBAL_WITH_VALUE:
            return None
        if not value:
            position += 1
            if position >= len(args):
                return None
            value = args[position]
        if option == "--repo":
            repo = value
        position += 1
    rest = args[position + 1:]
    if position >= len(args) or any(flag not in ("--dry-run", "--json") for flag in rest):
        return None  # help, typos and the like get click's handling
    return repo, "--dry-run" in rest, "--json" in rest
