"""The one commit's content beside the agent's work: the task's completion in the backlog, and
the message with its trailers."""

from __future__ import annotations

from leviathan_local.backlog.model import Status, status_fields
from leviathan_local.backlog.store import edit_task_text
from leviathan_local.clock import format_timestamp, now
from leviathan_local.engine.attempt_state import AttemptState
from leviathan_local.engine.evidence import trailers
from leviathan_local.errors import UnknownTaskError
from leviathan_local.git.attempt_tree import file_in_tree


def completion_writeback(attempt: AttemptState, content: str) -> dict[str, bytes]:
    """The task's completion in the backlog the commit holds (the base's: the gates let no agent
    change it), made in memory with the same verified line editor as every backlog write."""
    task, relative = attempt.task, attempt.paths.backlog.relative_to(attempt.paths.root).as_posix()
    text = file_in_tree(attempt.git, content, relative)
    try:
        if text is None:
            raise UnknownTaskError(f"{relative} is not in the base commit")
        done = edit_task_text(text.decode("utf-8"), relative, task.id, {
            **status_fields(task, Status.DONE), "completed_at": format_timestamp(now()),
            "last_attempt_id": attempt.attempt_id, "branch_name": attempt.branch,
        })
    except UnknownTaskError:
        # Seed 000, edge case 3: the base commit's backlog does not hold the task yet (it was
        # added without being committed). Commit the work without the writeback, and say so.
        attempt.warn(f"task {task.id} not found in the base commit's backlog; "
                     "committing without the status writeback")
        return {}
    return {relative: done.encode("utf-8")}


def commit_message(attempt: AttemptState) -> str:
    """The subject, the agent's own commits folded in, and the trailers: the task, the attempt,
    and each check's test evidence (engine/evidence.py)."""
    task = attempt.task
    folded = "".join(f"- {subject}\n" for subject in attempt.head.commits)
    return (f"{task.title or task.id}\n\nCompletes task {task.id} (attempt {attempt.attempt_id}).\n\n"
            + (f"The agent's own commits, folded into this one:\n{folded}\n" if folded else "")
            + f"Leviathan-Task: {task.id}\nLeviathan-Attempt: {attempt.attempt_id}\n"
            + trailers(attempt.verifier.evidence))
