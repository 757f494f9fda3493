"""Why an approval is refused, and how to go on: a merge that cannot be made or fails its checks
(nothing merged), the human's uncommitted work in the way, and the retry a conflict offers.

Their own module because the approval (approve.py), the backlog it merges (merged_backlog.py)
and the merged result's checks (merge_check.py) all refuse alike.
"""

from __future__ import annotations

from leviathan_local.errors import LeviathanError, WorkFailedError


class MergeRefused(WorkFailedError):
    title = "Merge refused"


class LocalChangesInTheWay(LeviathanError):
    title = "Local changes in the way"


def retry_offer(task_id: str, default: str) -> str:
    """How to rebase and retry: the conflict is not the agent's failure, so it costs no attempt."""
    return (f"`leviathan retry {task_id}` runs it again from the new {default} (rebase and retry), "
            "not counting the attempt")
