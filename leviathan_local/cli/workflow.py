"""The review and upkeep commands: review, merge, reject, retry, block, prune.

Kept apart from `main.py` (which adds them to the `leviathan` group) so neither needs scrolling;
each command, as everywhere, parses its arguments and calls a plain function.
"""

from __future__ import annotations

import click

from leviathan_local.cli.context import Context


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def review(obj: Context, as_json: bool) -> None:
    """The tasks waiting for review: branch, attempt, changed files, phases and gates."""
    from leviathan_local.commands.review import run_review

    raise SystemExit(run_review(obj.paths(), as_json=as_json))


@click.command()
@click.argument("task_id")
@click.pass_obj
def merge(obj: Context, task_id: str) -> None:
    """Approve: merge the task's branch into the default branch (the task becomes done)."""
    from leviathan_local.commands.review import run_merge

    raise SystemExit(run_merge(obj.paths(), task_id))


@click.command()
@click.argument("task_id")
@click.option("--reason", required=True, help="What the reviewer wants changed (shown to the next attempt).")
@click.option("--delete-branch", is_flag=True, help="Delete the rejected branch instead of keeping it.")
@click.pass_obj
def reject(obj: Context, task_id: str, reason: str, delete_branch: bool) -> None:
    """Reject: count the attempt and return the task to ready (blocked at the attempt limit)."""
    from leviathan_local.commands.review import run_reject

    raise SystemExit(run_reject(obj.paths(), task_id, reason, delete_branch=delete_branch))


@click.command()
@click.argument("task_id")
@click.option("--delete-branch", is_flag=True, help="Delete the conflicting branch instead of keeping it.")
@click.pass_obj
def retry(obj: Context, task_id: str, delete_branch: bool) -> None:
    """Rebase and retry: a review branch that conflicts with the default branch goes back to ready,
    without counting the attempt; its next attempt starts from the default branch as it is now."""
    from leviathan_local.commands.review import run_retry

    raise SystemExit(run_retry(obj.paths(), task_id, delete_branch=delete_branch))


@click.command()
@click.argument("task_id")
@click.option("--reason", required=True, help="What the task waits for (shown on the board and in `plan`).")
@click.pass_obj
def block(obj: Context, task_id: str, reason: str) -> None:
    """Block a task with a reason (the app's `b`); `leviathan unblock ID` returns it."""
    from leviathan_local.commands.transitions import run_block

    raise SystemExit(run_block(obj.paths(), task_id, reason))


@click.command()
@click.option("--apply", "apply_", is_flag=True, help="Delete what the dry run lists (default: delete nothing).")
@click.option("--branch", "branches", multiple=True, metavar="NAME",
              help="Delete this agent/* branch even if it holds commits not merged (repeatable).")
@click.pass_obj
def prune(obj: Context, apply_: bool, branches: tuple[str, ...]) -> None:
    """Clean up: agent/* branches merged or whose task is done or rejected, and status reports
    beyond policy's reports.keep. A dry run unless --apply; says what it keeps and why."""
    from leviathan_local.commands.prune import run_prune

    raise SystemExit(run_prune(obj.paths(), apply=apply_, named=branches))


WORKFLOW_COMMANDS = (review, merge, reject, retry, block, prune)
