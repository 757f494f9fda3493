"""Command-line entry point: parses arguments and calls plain functions that return exit codes.

Command modules are imported inside each command so that `leviathan plan` does not pay for
the TUI's or git's import time.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from leviathan_local.cli.context import Context
from leviathan_local.cli.workflow import WORKFLOW_COMMANDS
from leviathan_local.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, LeviathanError, file_error


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="The target repository (default: the current directory).")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              default="WARNING", show_default=True)
@click.version_option(package_name="leviathan-local")
@click.pass_context
def cli(ctx: click.Context, repo: Path, log_level: str) -> None:
    """Drive this repository's backlog to completion, safely. Without a command: the terminal app."""
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = Context(repo)
    if ctx.invoked_subcommand is None:
        from leviathan_local.cli.app_start import prepare_app

        paths, prefetch = prepare_app(repo)
        from leviathan_local.tui.app import run_app  # only the app pays for Textual

        run_app(paths, prefetch)


@cli.command()
@click.pass_obj
def init(obj: Context) -> None:
    """Create .leviathan/ (contract, backlog, policy) with commented examples; never overwrites."""
    from leviathan_local.commands.init import run_init

    raise SystemExit(run_init(obj.paths()))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--explain", is_flag=True, help="Show every score term by term.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Show at most N actionable tasks.")
@click.pass_obj
def plan(obj: Context, as_json: bool, explain: bool, limit: int | None) -> None:
    """Dry run: the ranked actionable queue and the skipped tasks with reasons. Writes nothing."""
    from leviathan_local.commands.plan import run_plan

    raise SystemExit(run_plan(obj.paths(), as_json=as_json, explain=explain, limit=limit))


@cli.command()
@click.argument("task_id")
@click.option("--approve-escalation", is_flag=True,
              help="Also accept the escalation rules that match this task (a human decision).")
@click.pass_obj
def ready(obj: Context, task_id: str, approve_escalation: bool) -> None:
    """Mark a task ready to run."""
    from leviathan_local.commands.transitions import run_ready

    raise SystemExit(run_ready(obj.paths(), task_id, approve_escalation=approve_escalation))


@cli.command()
@click.argument("task_id")
@click.option("--note", default=None, help="Why it is unblocked (kept in the event log).")
@click.pass_obj
def unblock(obj: Context, task_id: str, note: str | None) -> None:
    """Return a blocked task to the status it was blocked from."""
    from leviathan_local.commands.transitions import run_unblock

    raise SystemExit(run_unblock(obj.paths(), task_id, note=note))


@cli.command()
@click.option("--path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to create the sample repository (default: a new temporary directory).")
def demo(path: Path | None) -> None:
    """Create a throw-away sample repository and run the whole loop on it (no network needed)."""
    from leviathan_local.commands.demo import run_demo

    raise SystemExit(run_demo(path))


@cli.command("run")
@click.option("--max-tasks", type=click.IntRange(min=1), default=None, help="Halt after N attempts (CapReached).")
@click.option("--target", "targets", multiple=True, help="Work only towards these task ids (repeatable).")
@click.option("--only", "only", multiple=True, metavar="KEY=V1,V2",
              help="Only tasks whose field KEY has one of the values (repeatable: all must hold).")
@click.option("--watch", is_flag=True, help="When nothing is actionable, wait for backlog changes instead of halting.")
@click.pass_obj
def run_command(obj: Context, max_tasks: int | None, targets: tuple[str, ...], only: tuple[str, ...],
                watch: bool) -> None:
    """Headless run: attempt the top-ranked tasks until a halt reason; commit the backlog on halt."""
    from leviathan_local.commands.run import run_headless

    raise SystemExit(run_headless(obj.paths(), max_tasks=max_tasks, targets=targets, only=only, watch=watch))


@cli.command()
@click.argument("task_id")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object (for runners).")
@click.option("--budget-left", type=click.FloatRange(min=0), default=None, metavar="USD",
              help="What the run this attempt belongs to may still spend (set by `run` for parallel attempts).")
@click.option("--remote", "remote", default=None, metavar="URL",
              help="Run in a cached clone of this git remote; push the branch and the attempt record there.")
@click.option("--base", "base", default=None, metavar="SHA", help="With --remote: the full commit to start from.")
@click.option("--attempt-id", "attempt_id", default=None, metavar="ID",
              help="With --remote: the attempt's id (attempt-<task>-<short>), as the controller chose it.")
@click.option("--stream-log", is_flag=True,
              help="With --remote: copy the attempt's log to stdout as it is written (a Job's pod log).")
@click.pass_obj
def attempt(obj: Context, task_id: str, as_json: bool, budget_left: float | None, remote: str | None,
            base: str | None, attempt_id: str | None, stream_log: bool) -> None:
    """Run one attempt at a task in its own worktree (red, green, refactor, gates, commit)."""
    from leviathan_local.commands.attempt import run_attempt_command, run_remote_attempt_command

    if remote is None:
        if base is not None or attempt_id is not None or stream_log:
            raise click.UsageError("--base, --attempt-id and --stream-log go with --remote URL")
        raise SystemExit(run_attempt_command(obj.paths(), task_id, as_json=as_json, budget_left=budget_left))
    if base is None:
        raise click.UsageError("--remote needs --base SHA (the commit the attempt starts from)")
    raise SystemExit(run_remote_attempt_command(remote, task_id, base, attempt_id, as_json=as_json,
                                                budget_left=budget_left, stream_log=stream_log))


@cli.group(invoke_without_command=True)
@click.option("--task", "task_id", default=None, help="Only events of this task.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def events(ctx: click.Context, task_id: str | None, as_json: bool) -> None:
    """Show the append-only event log (`events verify` checks its hash chain)."""
    if ctx.invoked_subcommand is None:
        from leviathan_local.commands.events import run_events

        raise SystemExit(run_events(ctx.obj.paths(), task_id=task_id, as_json=as_json))


@events.command("verify")
@click.pass_obj
def events_verify(obj: Context) -> None:
    """Check every link of the event log's hash chain; exit 1 at the first broken one."""
    from leviathan_local.commands.events import run_verify

    raise SystemExit(run_verify(obj.paths()))


@cli.command()
@click.option("--format", "report_format", type=click.Choice(["md", "json"]), default=None,
              help="Export the report in this format (default md): to --output, or alone to standard output.")
@click.option("--output", default=None, metavar="PATH",
              help="Export one report to PATH (`-` for standard output) instead of writing DOCS/status.")
@click.pass_obj
def status(obj: Context, report_format: str | None, output: str | None) -> None:
    """A status report: DOCS/status/<timestamp>.{md,json,svg} and latest.*, or an export."""
    from leviathan_local.commands.status import run_status

    raise SystemExit(run_status(obj.paths(), report_format=report_format, output=output))


@cli.command()
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def discover(obj: Context, dry_run: bool, as_json: bool) -> None:
    """Scan the code for TODO/FIXME/HACK/XXX/BUG comments and add them as `new` tasks."""
    from leviathan_local.commands.discover import run_discover_at

    raise SystemExit(run_discover_at(str(obj.repo_arg), dry_run=dry_run, as_json=as_json))


@cli.command("merge-driver")
@click.argument("base", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("ours", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("theirs", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--marker-size", type=click.IntRange(min=1), default=7)
@click.option("--path", "shown_path", default=".leviathan/backlog.yaml", help="The merged file's name, for messages.")
def merge_driver_command(base: Path, ours: Path, theirs: Path, marker_size: int, shown_path: str) -> None:
    """(Run by git.) Merge backlog.yaml task by task into OURS; exit 1 if conflicts remain."""
    from leviathan_local.backlog.merge_driver import run_driver

    raise SystemExit(run_driver(base, ours, theirs, marker_size=marker_size, path=shown_path))


for _command in WORKFLOW_COMMANDS:
    cli.add_command(_command)


def report_error(error: LeviathanError) -> None:
    click.secho(f"error: {error.message}", fg="red", err=True)
    if error.hint:
        click.echo(f"hint: {error.hint}", err=True)


def main(argv: list[str] | None = None) -> None:
    try:
        code = cli.main(args=argv, prog_name="leviathan", standalone_mode=False)
    except LeviathanError as error:
        report_error(error)
        code = error.exit_code
    except click.exceptions.Abort:
        code = EXIT_INTERRUPTED
    except click.ClickException as error:
        error.show()
        code = EXIT_BAD_INPUT if error.exit_code == 2 else error.exit_code
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except OSError as error:  # last resort: the modules convert the file errors they expect
        converted = file_error(error)
        report_error(converted)
        code = converted.exit_code
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 0
    sys.exit(code or 0)
