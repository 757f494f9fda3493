"""Policy's `setup:` commands, run in the attempt's worktree before red (`pip install -e .`,
`cp "$LEVIATHAN_MAIN_CHECKOUT/.env" .env`).

They run as every command of the attempt does: under its confinement, bounded by the attempt's
deadline and the phase timeout, their process group killed at either or at a stop, their output
in the attempt log. What they make must be git-ignored: made before the agent, it is nobody's
work, and only an ignored file stays out of what `stage_worktree` takes, the gates judge and the
commit holds. A setup that changes a tracked file or leaves an unignored one fails. Its ignored
outputs stay in the slot for the next attempt on the same base with the same commands, which
skips setup (engine/setup_cache.py). A failed setup is the environment's failure, not the
agent's: the attempt fails uncounted and the agent never runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from leviathan_local.engine.attempt_state import AttemptState, PhaseFailed
from leviathan_local.engine.process import run_shell
from leviathan_local.engine.setup_cache import SetupMarker, drop_marker, read_marker, setup_key, write_marker
from leviathan_local.git.attempt_tree import unstaged_paths
from leviathan_local.git.repo import ignored_entries
from leviathan_local.wording import plural

PHASE = "setup"
MAIN_CHECKOUT_VARIABLE = "LEVIATHAN_MAIN_CHECKOUT"  # the main checkout's root, to copy its untracked files
SHOWN_PATHS = 10


def run_setup(attempt: AttemptState) -> dict[str, str]:
    """Run the setup commands in the slot unless its outputs for this base are there; the
    phase's verdict and detail. Raises PhaseFailed (uncounted) when a command fails."""
    key = setup_key(attempt.policy.setup)
    assert key is not None  # only called when policy has setup commands
    marker = read_marker(attempt.paths, attempt.worktree)
    if marker is not None and marker.base == attempt.base and marker.key == key:
        detail = f"cached for base {attempt.base[:12]}"
        _say(attempt, detail)
        return {"verdict": "skipped", "detail": detail}
    drop_marker(attempt.paths, attempt.worktree)  # from here until it succeeds, the slot's outputs are unknown
    env = {**attempt.env, MAIN_CHECKOUT_VARIABLE: str(attempt.paths.root)}
    wrap = attempt.confinement.wrap if attempt.confinement else ()
    for command in attempt.policy.setup:
        _say(attempt, command.name)
        result = run_shell(command.run, attempt.worktree, env, attempt.remaining(PHASE), attempt.log, attempt.stop,
                           attempt.record.set_group, wrap)
        if result.stopped:
            raise PhaseFailed(PHASE, "shutdown requested", interrupted=True)
        if result.timed_out:
            raise PhaseFailed(PHASE, f"`{command.name}` timed out ({attempt.timeout_limit()})", environment=True)
        if not result.passed:
            raise PhaseFailed(PHASE, f"`{command.name}` failed (exit {result.exit_code})", environment=True)
    if visible := unstaged_paths(attempt.git):
        raise PhaseFailed(PHASE, f"setup changed files git does not ignore: {_listed(visible)}; what setup makes must be "
                                 "git-ignored (list it in .gitignore), or it would be taken for the agent's work",
                          environment=True)
    outputs = tuple(ignored_entries(attempt.worktree))
    write_marker(attempt.paths, attempt.worktree, SetupMarker(attempt.base, key, outputs))
    return {"verdict": "passed", "detail": f"{plural(len(attempt.policy.setup), 'command')}; kept for base "
                                           f"{attempt.base[:12]}: {_listed(outputs) or 'nothing'}"}


def _listed(paths: Sequence[str]) -> str:
    more = len(paths) - SHOWN_PATHS
    return ", ".join(paths[:SHOWN_PATHS]) + (f" and {more} more" if more > 0 else "")


def _say(attempt: AttemptState, what: str) -> None:
    attempt.log.write(f"setup: {what}\n")
    attempt.log.flush()
