"""The local merge queue: when the default branch moved since an attempt's base and changed files
the attempt never tested with, the tests and every invariant run on the merged commit, in a pool
worktree, before the default branch moves; any failure refuses the approval, nothing merged.
"""

from __future__ import annotations

import secrets
import threading

from leviathan_local.backlog.model import Task
from leviathan_local.config.policy_load import load_policy
from leviathan_local.engine.process import run_shell
from leviathan_local.engine.worktree_pool import attempt_worktree
from leviathan_local.git.repo import RepoPaths, delete_branch
from leviathan_local.review.refusals import MergeRefused


def verify_merged(paths: RepoPaths, task: Task, commit: str, stop: threading.Event | None) -> list[str]:
    """Run the tests and every invariant on the merged tree in a pool worktree."""
    policy = load_policy(paths)
    short = secrets.token_hex(3)
    checks = [("tests", policy.tdd.test_command),
              *((f"invariant {inv.name}", inv.check) for inv in policy.invariants)]
    log_path = paths.state_dir / "attempts" / f"merge-check-{task.id}-{short}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    branch = f"leviathan/merge-check-{task.id}-{short}"
    failures = []
    try:
        with attempt_worktree(paths, branch, commit) as worktree, open(log_path, "w") as log:
            for name, command in checks:
                result = run_shell(command, worktree, None, policy.limits.attempt_timeout_seconds, log, stop)
                if result.stopped:
                    raise MergeRefused("the merge check was interrupted; nothing was merged")
                if not result.passed:
                    failures.append(f"{name} (`{command}`) " +
                                    ("timed out" if result.timed_out else f"exited {result.exit_code}"))
    finally:
        delete_branch(paths, branch)
    if failures:
        raise MergeRefused(
            f"the default branch moved since {task.id}'s attempt, and the merged result fails: "
            + "; ".join(failures) + f" (log: {log_path})",
            hint=f"nothing was merged; reject it so it runs again on the new base "
                 f"(`leviathan reject {task.id} --reason ...`)")
    return [name for name, _ in checks]
