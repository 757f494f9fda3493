"""Every input of a run or a lone attempt, checked before anything is written or logged.

Bad input is exit 2 with nothing written: not the run lock, not `run.started`, not a status
report or a halt commit. So the three files (backlog, policy, contract) are loaded and checked
here, with what they name: the default branch, the agent, the targets, the `--only` filters,
and, for a run, that the default branch's commit holds the backlog and every task the run may
start (its branch is made from that commit, and the task's status writeback edits that file).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from leviathan_local.backlog.cache import item_memo
from leviathan_local.backlog.document import Backlog
from leviathan_local.backlog.model import BLOCKED_TYPES, FIELD_ALIASES, KNOWN_FIELDS, TASK_TYPES, Status, Task
from leviathan_local.backlog.parse import parse_items
from leviathan_local.backlog.store import load_backlog
from leviathan_local.backlog.validate import PRIORITIES, SIZES, build_tasks
from leviathan_local.clock import now
from leviathan_local.config.contract import load_contract
from leviathan_local.config.policy import Policy
from leviathan_local.config.policy_load import load_policy
from leviathan_local.engine.agents.phase import check_agent, require_agent
from leviathan_local.errors import BacklogError, LeviathanError, UnknownTaskError
from leviathan_local.git.attempt_tree import Worktree, file_in_tree
from leviathan_local.git.repo import branch_head
from leviathan_local.planning.selection import select
from leviathan_local.repo_paths import RepoPaths
from leviathan_local.wording import agrees, did_you_mean, suggestion

# The values a filter on these fields can match; other fields hold free text.
FILTER_VALUES: dict[str, tuple[str, ...]] = {
    "status": tuple(Status), "type": TASK_TYPES, "priority": PRIORITIES, "estimated_size": SIZES,
    "blocked_type": BLOCKED_TYPES, "ready": ("true", "false"),
}


class NotCommittedError(LeviathanError):
    title = "Backlog not committed"


@dataclass(frozen=True)
class Inputs:
    backlog: Backlog
    policy: Policy
    base: str  # the default branch's commit: attempts branch from it


def check_inputs(paths: RepoPaths) -> Inputs:
    """The three files, loaded and checked, and the default branch they name (exit 2 if not)."""
    backlog = load_backlog(paths)
    policy = load_policy(paths)
    require_agent(policy)
    return Inputs(backlog, policy, branch_head(paths, load_contract(paths).default_branch))


def check_attempt_inputs(paths: RepoPaths, task_id: str) -> Inputs:
    """What `leviathan attempt ID` needs: the three files, the task, an agent that can run it."""
    inputs = check_inputs(paths)
    check_agent(inputs.policy, inputs.backlog.task(task_id))
    return inputs


def check_run_inputs(paths: RepoPaths, targets: tuple[str, ...], only: Mapping[str, frozenset[str]],
                     wanted: Callable[[Task], bool]) -> Inputs:
    """What a run needs, ``wanted`` telling the tasks its targets and filters let it start."""
    inputs = check_inputs(paths)
    tasks = inputs.backlog.by_id
    unknown = [target for target in targets if target not in tasks]
    if unknown:
        named = ", ".join(f"{target!r}{suggestion(target, tasks)}" for target in unknown)
        raise UnknownTaskError(f"--target names {agrees(len(unknown), 'an unknown task', 'unknown tasks')}: {named}",
                               hint="`leviathan plan` lists the task ids; ids are case-sensitive")
    check_filters(only, inputs.backlog.tasks)
    startable = [ranked.task for ranked in select(inputs.backlog.tasks, inputs.policy, now()).actionable
                 if wanted(ranked.task)]
    for task in startable:
        check_agent(inputs.policy, task)
    _check_committed(paths, inputs, startable)
    return inputs


def check_filters(only: Mapping[str, frozenset[str]], tasks: list[Task]) -> None:
    """`--only KEY=V1,V2`: KEY a task field, each value one the field can hold (for the fields
    with a fixed set of values): a typo would otherwise halt NoMatchingItems, as if all were done."""
    fields = {*KNOWN_FIELDS, *(name for task in tasks for name in task.data)}
    for key, values in only.items():
        if key not in fields:
            close = did_you_mean(key, sorted(fields))
            raise BacklogError(f"--only {key}=...: no task has a field {key!r}",
                               hint=f"did you mean `{close}`?" if close else "filter on a task field: type, "
                                    "status, priority, scope, tags, ...")
        allowed = FILTER_VALUES.get(FIELD_ALIASES.get(key, key))
        for value in sorted(values - set(allowed or values)):
            close = did_you_mean(value, allowed or ())
            raise BacklogError(f"--only {key}={value}: {value!r} is no {key} a task can have",
                               hint=(f"did you mean `{close}`? " if close else "")
                                    + f"{key} is one of: {', '.join(allowed or ())}")


def _check_committed(paths: RepoPaths, inputs: Inputs, startable: list[Task]) -> None:
    """The default branch's commit must hold the backlog, valid, with every task the run may
    start: an attempt's branch starts there, and its commit carries the task's writeback."""
    source = inputs.backlog.source
    raw = file_in_tree(Worktree(paths.root), inputs.base, source)
    hint = "commit it first: git add .leviathan && git commit -m 'Backlog'"
    if raw is None:
        raise NotCommittedError(f"{source} is not committed on the default branch ({inputs.base[:12]})",
                                hint=hint)
    committed_source = f"{source} (committed, {inputs.base[:12]})"
    try:
        items, _ = parse_items(raw.decode("utf-8"), committed_source, item_memo(paths))  # mostly the same chunks
    except UnicodeDecodeError:
        raise NotCommittedError(f"{committed_source}: not UTF-8 text", hint=hint) from None
    tasks, problems, _ = build_tasks(items)
    if problems:
        listing = "\n".join("  " + problem.render(committed_source) for problem in problems[:10])
        raise NotCommittedError(f"the committed {source} has problems the file on disk has fixed:\n{listing}",
                                hint=hint)
    committed = {task.id for task in tasks}
    missing = [task.id for task in startable if task.id not in committed]
    if missing:
        raise NotCommittedError(f"{agrees(len(missing), 'a task', 'tasks')} the run would start "
                                f"{agrees(len(missing), 'is', 'are')} not in the committed {source}: "
                                f"{', '.join(missing)}", hint=f"{hint} (the attempt's commit carries the "
                                "task's status in that file)")
