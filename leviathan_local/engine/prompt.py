"""What an agent is asked in each phase: the task, the paths it may change, the phase's goal,
and what the executor will run to check it, so the agent can run the same checks first; the
last test output, and how the task's previous attempt failed, in full (up to ``OUTPUT_CAP``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from leviathan_local.backlog.model import Task
from leviathan_local.events import read_events
from leviathan_local.planning.attempt_history import last_test_output
from leviathan_local.repo_paths import RepoPaths

PHASE_GOALS = {
    "red": "Write or change tests that express the acceptance criteria. Do not implement yet: "
           "the test command must FAIL after this phase.",
    "green": "Implement the smallest change that makes the test command PASS.",
    "refactor": "Improve the code without changing behaviour; the test command must still PASS.",
}
# What the executor checks once the agent's phase ends (the goal says what to do; this, how it is judged).
PHASE_CHECKS = {
    "red": "it must FAIL, and at least one changed file must match the test globs ({globs})",
    "green": "it must PASS",
    "refactor": "it must still PASS",
}
# Test output is shown whole up to this many characters; beyond it, its end (where the failure is).
OUTPUT_CAP = 20_000
OUTPUT_LINES = 2_000  # of a previous attempt's last test run, read from its log before the cap applies


@dataclass(frozen=True)
class Verification:
    """What the executor runs after the agent: the test command after each phase, then the gates."""

    test_command: str = ""
    test_globs: tuple[str, ...] = ()
    invariants: tuple[tuple[str, str], ...] = ()  # (name, command), run before the commit
    red_command: str = ""  # what red runs instead of the test command (tdd.red_command), if set


@dataclass(frozen=True)
class PreviousFailure:
    """How the task's last counted attempt failed: where, why, and its last test output."""

    attempt_id: str
    phase: str
    reason: str
    test_output: str | None


def previous_failure(paths: RepoPaths, task_id: str, test_command: str,
                     red_command: str | None = None) -> PreviousFailure | None:
    """The task's last counted failure (an interruption is nobody's), as the event log and that
    attempt's own log tell it; None if no attempt of the task failed."""
    failures = [event for event in read_events(paths, task_id)
                if event.kind == "attempt.failed" and event.data.get("outcome", "failed") == "failed"
                and event.data.get("counted", True)]  # a failed setup is not the agent's to hear of
    if not failures:
        return None
    last = failures[-1].data
    attempt_id = str(last.get("attempt"))
    output = last_test_output(paths, attempt_id, test_command, max_lines=OUTPUT_LINES,
                              red_command=red_command) if test_command else None
    return PreviousFailure(attempt_id, str(last.get("phase")), str(last.get("reason")), output)


def prompt_text(task: Task, phase: str, allowed_paths: tuple[str, ...], forbidden: tuple[str, ...],
                verification: Verification, last_test_output: str, previous: PreviousFailure | None,
                log_file: Path | None = None) -> str:
    """The task, its criteria, the paths the gates will allow, a reviewer's feedback, the phase's
    goal and how it is checked, the last test output and the previous attempt's failure."""
    criteria = "\n".join(f"- {item}" for item in task.acceptance_criteria) or "- (none given)"
    paths = "\n".join(f"- {item}" for item in allowed_paths) or "- (none: every change will be refused)"
    never = ", ".join(f"`{pattern}`" for pattern in forbidden)
    feedback = task.get("review_feedback")
    return (
        f"# Task {task.id}: {task.title}\n\n" + (f"{task.description}\n\n" if task.description else "")
        + f"## Acceptance criteria\n{criteria}\n\n"
        f"## You may change only\n{paths}\n" + (f"and never anything matching {never}\n" if never else "") + "\n"
        + (f"## A reviewer rejected the previous attempt\n{feedback}\n\n" if feedback else "")
        + _previous_failure(previous)
        + f"## This phase: {phase}\n{PHASE_GOALS[phase]}\n\n"
        + _checks(phase, verification)
        + f"## Last test output\n{_fenced(last_test_output, '(tests not run yet)', log_file)}"
    )


def _checks(phase: str, verification: Verification) -> str:
    if not verification.test_command:
        return ""
    check = PHASE_CHECKS[phase].format(globs=", ".join(f"`{g}`" for g in verification.test_globs) or "none set")
    gates = ("After the last phase the gates check that every changed path is allowed above, that no "
             "secret was added, and that these invariants pass:\n"
             + "".join(f"- {name}: `{command}`\n" for name, command in verification.invariants)
             if verification.invariants else
             "After the last phase the gates check that every changed path is allowed above and that no "
             "secret was added.\n")
    command, what = verification.test_command, "the test command"
    if phase == "red" and verification.red_command:
        command, what = verification.red_command, "the red command ({changed_tests}: the test files you changed)"
    return (f"## How the executor checks this phase\nWhen you finish, the executor runs {what} "
            f"in the worktree itself:\n```\n{command}\n```\n{check[0].upper()}{check[1:]}. "
            f"{gates}\n")


def _previous_failure(previous: PreviousFailure | None) -> str:
    if previous is None:
        return ""
    output = ("Its last test output:\n" + _fenced(previous.test_output, "", None)) if previous.test_output else ""
    return (f"## The previous attempt failed\n{previous.attempt_id} failed in {previous.phase}: "
            f"{previous.reason}\n" + output + "\n")


def _fenced(output: str | None, empty: str, log_file: Path | None) -> str:
    text = (output or "").rstrip()
    cut = ""
    if len(text) > OUTPUT_CAP:
        where = f"; all of it is in {log_file}" if log_file else ""
        cut = f"(its first {len(text) - OUTPUT_CAP:,} characters are left out{where})\n"
        text = text[-OUTPUT_CAP:]
    return f"{cut}```\n{text or empty}\n```\n"
