"""Which `agent/*` branches `leviathan prune` deletes, and why each other one is kept.

Deleted: a branch the default branch contains (merged), one whose task is done, one a reviewer
rejected or sent to rebase and retry (the event log names it), and one named with `--branch`.
Never: a branch of a task in review or doing (even named), one checked out somewhere (git
would refuse), and, unless named, one holding commits not merged with no such decision about
it (a failed attempt kept for inspection, a branch no task knows). Every deleted tip is in the
event log, so `git branch NAME TIP` restores it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from leviathan_local import events
from leviathan_local.backlog.model import Status, Task
from leviathan_local.backlog.store import load_backlog
from leviathan_local.config.contract import load_contract
from leviathan_local.errors import BacklogError
from leviathan_local.git.branches import branches_under, checked_out_at, commits_ahead
from leviathan_local.git.repo import branch_head, delete_branch_at
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.wording import plural

PREFIX = "agent/"
_ATTEMPT_SUFFIX = re.compile(r"-[0-9a-f]{6}$")  # agent/<task>-<short>: the attempt's short id
_UNTOUCHABLE = (Status.REVIEW, Status.DOING)
_DECIDED = {"review.rejected": "rejected in review", "review.retried": "sent to rebase and retry"}


@dataclass(frozen=True)
class BranchVerdict:
    branch: str
    tip: str
    delete: bool
    why: str


def branch_verdicts(paths: RepoPaths, named: tuple[str, ...] = ()) -> list[BranchVerdict]:
    """Every agent/* branch with what prune does to it; nothing is written."""
    branches = branches_under(paths, PREFIX)
    for name in named:
        if name not in branches:
            problem = "is no agent/* branch: prune deletes only those" if not name.startswith(PREFIX) \
                else "is no branch here"
            raise BacklogError(f"--branch {name} {problem}",
                               hint="`git branch --list 'agent/*'` lists them; nothing was deleted")
    default = load_contract(paths).default_branch
    head = branch_head(paths, default)
    tasks = load_backlog(paths).tasks
    by_branch = {str(task.get("branch_name")): task for task in tasks if task.get("branch_name")}
    by_id = {task.id: task for task in tasks}
    decided = {str(event.data.get("branch")): _DECIDED[event.kind] for event in events.read_events(paths)
               if event.kind in _DECIDED}
    verdicts = []
    for name, tip in branches.items():
        task = by_branch.get(name) or by_id.get(_ATTEMPT_SUFFIX.sub("", name.removeprefix(PREFIX)))
        verdicts.append(BranchVerdict(name, tip, *_verdict(paths, name, tip, head, default, task,
                                                            decided.get(name), name in named)))
    return verdicts


def _verdict(paths: RepoPaths, name: str, tip: str, head: str, default: str, task: Task | None,
             decision: str | None, named: bool) -> tuple[bool, str]:
    if task is not None and task.status in _UNTOUCHABLE:
        return False, f"task {task.id} is {'in review' if task.status is Status.REVIEW else 'doing (an attempt runs)'}"
    if (where := checked_out_at(paths, name)) is not None:
        return False, f"checked out in {where}"
    ahead = commits_ahead(paths, tip, head)
    if not ahead:
        return True, f"merged into {default}"
    if task is not None and task.status is Status.DONE:
        return True, f"task {task.id} is done"
    if decision is not None:
        return True, decision
    if named:
        return True, f"named with --branch ({plural(ahead, 'commit')} not in {default})"
    owner = f"task {task.id} is {task.status.value}" if task is not None else "no task in the backlog names it"
    return False, f"holds {plural(ahead, 'commit')} not in {default} ({owner}): name it with --branch to delete it"


def delete_branches(paths: RepoPaths, verdicts: list[BranchVerdict]) -> dict[str, str]:
    """Delete each branch marked so, if it still points where it did when judged: name → tip."""
    return {v.branch: v.tip for v in verdicts if v.delete and delete_branch_at(paths, v.branch, v.tip)}
