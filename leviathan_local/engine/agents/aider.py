"""aider (`aider --message-file`): every question answered yes, no git of its own, its history
files in the attempt's state directory (not the worktree, where the gates would refuse them),
the chat restored in later phases, and its plain-text output read for tokens, cost and failure.

aider exits 0 when the model fails or its edit cannot be applied, so its words decide: stopping
after its reflections, a model error, or (in red and green, which must change files) no edit
applied is a failed phase with aider's own reason. In `--no-git` mode aider knows no files but
those named, so each phase shows it the files inside the task's allowed paths, with `--read`:
aider roots itself at the common directory of the files it may edit (all in `tests/`, a new
`tests/test_x.py` would land in `tests/tests/`), so it is given none to edit and asks (answered
yes) before editing one, its root staying the worktree. Its own test run
(`--auto-test`, which feeds failures back to the model) is on in green and refactor only: in
red the tests are meant to fail. aider runs on the bytecode its install compiled (not the
attempt's empty cache); its test runs on the attempt's, like every other command of the attempt.
"""

from __future__ import annotations

import os
import re
import shlex

from leviathan_local.config import globs
from leviathan_local.config.policy import AgentSettings
from leviathan_local.engine.agents.context import PhaseContext
from leviathan_local.engine.agents.report import AgentReport
from leviathan_local.engine.agents.session import AgentSession

MAX_FILES = 200  # shown on the command line; beyond that aider is shown none and reads what it needs
FLAGS = ("--yes-always", "--no-git", "--no-gitignore", "--no-auto-commits", "--no-check-update", "--no-analytics",
         "--no-show-release-notes", "--no-show-model-warnings", "--no-stream", "--no-pretty", "--no-fancy-input")
TOKENS = re.compile(r"^Tokens: ([\d.]+)(k?) sent, ([\d.]+)(k?) received\.(?: Cost: \$([\d.]+) message)?", re.M)
APPLIED = re.compile(r"^Applied edit to ", re.M)
STOPPED = "Only 3 reflections allowed, stopping."
MODEL_ERROR = re.compile(r"^(litellm\.\w+: .*)$", re.M)
PYCACHE_PREFIX = "PYTHONPYCACHEPREFIX"


def command(context: PhaseContext, settings: AgentSettings, session: AgentSession) -> str:
    state = session.state_dir
    test = (["--test-cmd", _confined(context.verification.test_command, context), "--auto-test"]
            if context.phase != "red" and context.verification.test_command else [])
    argv = [settings.executable or "aider", *(["--model", settings.model] if settings.model else []), *FLAGS,
            "--chat-history-file", str(state / "chat.history.md"),
            "--input-history-file", str(state / "input.history"), "--llm-history-file", str(state / "llm.history"),
            "--restore-chat-history" if session.phases_run else "--no-restore-chat-history",
            *test, *settings.args, "--message-file", str(context.prompt_file),
            *(part for path in _files(context) for part in ("--read", path))]
    return shlex.join(argv)


def environment(session: AgentSession) -> dict[str, str]:
    # litellm fetches its price list from GitHub at import unless told to use its own copy.
    # An empty PYTHONPYCACHEPREFIX is none: aider loads the bytecode its install compiled rather
    # than compiling its hundred packages into the attempt's fresh cache (seconds a phase, and
    # every phase where bytecode is not written). Its test runs keep the attempt's (_confined).
    return {"LITELLM_LOCAL_MODEL_COST_MAP": "True", PYCACHE_PREFIX: ""}


def _confined(test_command: str, context: PhaseContext) -> str:
    """The test command as aider runs it, with the attempt's bytecode cache back in place: the
    project's bytecode stays out of the worktree, as for the executor's own test runs."""
    prefix = (context.confinement.env if context.confinement else {}).get(PYCACHE_PREFIX)
    if not prefix:
        return test_command
    return shlex.join(["env", f"{PYCACHE_PREFIX}={prefix}", "bash", "-c", test_command])  # bash: as run_shell


def report(output: str, context: PhaseContext, session: AgentSession) -> AgentReport:
    sent = received = 0
    cost: float | None = None
    for match in TOKENS.finditer(output):
        sent += _tokens(match.group(1), match.group(2))
        received += _tokens(match.group(3), match.group(4))
        if match.group(5):
            cost = (cost or 0.0) + float(match.group(5))
    tokens = (sent, received) if TOKENS.search(output) else (None, None)
    return AgentReport(session.session_id, *tokens, cost_usd=cost, cost_source="agent" if cost is not None else None,
                       message=_last_words(output), failure=_failure(output, context.phase))


def _failure(output: str, phase: str) -> str | None:
    errors = MODEL_ERROR.findall(output)
    if STOPPED in output:
        return "aider stopped: its edits could not be applied after 3 tries" + (f" ({errors[-1]})" if errors else "")
    if APPLIED.search(output) is None:
        if errors:
            return f"aider applied no edit: {errors[-1]}"
        if phase != "refactor":  # refactor's edits are optional
            return f"aider applied no edit: {_last_words(output) or 'it said nothing'}"
    return None


def _last_words(output: str) -> str:
    """The last thing aider said that is not its own bookkeeping."""
    for line in reversed(output.splitlines()):
        if line.strip() and not line.startswith(("Tokens:", "Applied edit to ", "Warning: Input is not a terminal")):
            return line.strip()
    return ""


def _tokens(number: str, thousands: str) -> int:
    return round(float(number) * (1000 if thousands else 1))  # aider rounds: "1.0k sent"


def _files(context: PhaseContext) -> list[str]:
    """The worktree's files inside the allowed paths and outside the forbidden ones."""
    found: list[str] = []
    for directory, subdirectories, names in os.walk(context.worktree):
        subdirectories[:] = sorted(d for d in subdirectories if d != ".git")
        for name in sorted(names):
            path = os.path.relpath(os.path.join(directory, name), context.worktree)
            if (any(globs.matches(path, p) for p in context.allowed_paths)
                    and not any(globs.matches(path, p) for p in context.forbidden)):
                found.append(path)
                if len(found) > MAX_FILES:
                    return []
    return found
