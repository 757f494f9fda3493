"""The end of an attempt's cycle: the gates on what the agent left (HEAD, scope, secrets, the
invariants, nothing changed since the last phase), then the one commit on the attempt's branch,
whose parent is the base, holding the changes and the task's completion (attempt_commit.py).

Kept apart from the phases (attempt_cycle.py): the gates judge the finished content, not a turn.
"""

from __future__ import annotations

from leviathan_local.engine.attempt_commit import commit_message, completion_writeback
from leviathan_local.engine.attempt_state import AttemptState, PhaseFailed
from leviathan_local.engine.gates import Violation, scope_violations, secret_findings
from leviathan_local.engine.phase_timing import timed
from leviathan_local.git.attempt_tree import (
    bring_head_back, commit_on_branch, tree_added_lines, tree_changes, unstaged_paths, worktree_tree,
)


def run_gates(attempt: AttemptState) -> None:
    with timed(attempt, "gates") as outcome:
        problems = _head_violations(attempt)
        problems += _content_violations(attempt)
        for invariant in attempt.policy.invariants:
            # On the committed tree, unless something changed it since it was staged: then it runs.
            result = attempt.shell("gates", invariant.check, worktree_tree(attempt.git, attempt.content), "invariant",
                                   invariant.name, tests=invariant.check == attempt.policy.tdd.test_command)
            if not result.passed:
                problems.append(Violation(invariant.name, f"invariant failed: {invariant.check}"))
        attempt.check_main_checkout("gates")
        changed = unstaged_paths(attempt.git)
        if changed:
            problems.append(Violation(", ".join(changed), "changed after the agent's last phase, by the test command "
                                      "or an invariant: the commit would hold what no check saw"))
        if problems:
            raise PhaseFailed("gates", "; ".join(f"{v.path}: {v.reason}" for v in problems))
        attempt.gates_passed = ["allowed paths", "forbidden patterns", "secrets",
                                *(f"invariant {invariant.name}" for invariant in attempt.policy.invariants)]
        outcome["detail"] = ", ".join(attempt.gates_passed)


def _head_violations(attempt: AttemptState) -> list[Violation]:
    """HEAD back on the attempt's branch at the base. An agent that committed or switched to a
    branch of its own has its work folded in; one that moved HEAD onto content it did not make
    fails here, since nobody could tell its work from that content."""
    attempt.head = head = bring_head_back(attempt.git, attempt.branch, attempt.base, attempt.known_refs)
    if head.moved:
        attempt.log.write(f"note: the agent left HEAD on {head.moved}; back on {attempt.branch} at the base"
                          + (f", its commits folded in: {'; '.join(head.commits)}" if head.commits else "")
                          + (f"; deleted its branch {head.removed_branch}" if head.removed_branch else "") + "\n")
    return [Violation(attempt.branch, head.foreign)] if head.foreign else []


def _content_violations(attempt: AttemptState) -> list[Violation]:
    policy, scope, content = attempt.policy, attempt.scope, attempt.content
    assert content is not None  # taken when the last phase ended
    allowed = policy.paths_for(attempt.task.allowed_paths, scope)
    found = scope_violations(tree_changes(attempt.git, attempt.base, content), allowed,
                             policy.forbidden_for(scope))
    return found + secret_findings(tree_added_lines(attempt.git, attempt.base, content))


def commit_attempt(attempt: AttemptState) -> str:
    with timed(attempt, "commit"):
        assert attempt.content is not None  # taken when the last phase ended
        commit = commit_on_branch(attempt.git, attempt.branch, attempt.base, attempt.content, commit_message(attempt),
                                  completion_writeback(attempt, attempt.content))
        if commit is None:
            raise PhaseFailed("commit", "nothing to commit: no change and no status writeback")
    return commit
