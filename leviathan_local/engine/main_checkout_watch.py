"""An attempt's watch on the main checkout: anything there changed while its agent's code ran.

An agent may change its worktree and nothing else, but an agent CLI's own sandbox may allow much
more (codex's `workspace-write` allows all of /tmp, where a test's repository lives). The agent's
code runs in each phase, and again in the tests it wrote and the invariants run over them, so the
watch is taken before the first phase and compared after every phase, the gates and the sweep of
what the agent left running. Watched: every tracked file that changed and every untracked one
(ignored ones are the human's build output), all of `.leviathan/` ignored or not, git's config
and hooks, and where HEAD is (a commit there leaves every file clean), unless a review approved
meanwhile made that commit. Not watched: `worktrees/` (the slots) and `DOCS/status/` (reports,
which `leviathan status` writes at any time).

`backlog.yaml` is written during an attempt by the human (an editor, the TUI) and by the tool (the
status of other tasks, from other attempts or the TUI), and nobody can tell those writes from an
agent's. What the watch judges there is the attempt's own task: a change to any field the human
owns (its criteria, allowed paths, steps...) means the attempt worked to a premise that no longer
holds, whoever made it. Changes anywhere else in the backlog are only noted in the attempt log.
Nothing found is undone: the main checkout is the human's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import IO, Any

from leviathan_local import events
from leviathan_local.backlog.model import TOOL_FIELDS, Status, Task, status_fields
from leviathan_local.backlog.store import load_backlog
from leviathan_local.engine.runlock import AttemptRecord
from leviathan_local.errors import LeviathanError
from leviathan_local.git.checkout_state import Fingerprint, checkout_fingerprint, checkout_head
from leviathan_local.repo_paths import RepoPaths

REPORTS_DIR = "DOCS/status/"  # reports.files.STATUS_DIR: the engine may not import reports
WORKTREES_DIR = "worktrees/"  # the slots of engine.worktree_pool
logger = logging.getLogger(__name__)


@dataclass
class MainCheckoutWatch:
    paths: RepoPaths
    task_id: str
    files: Fingerprint = field(default_factory=dict)
    task_fields: dict[str, Any] | None = None
    backlog_bytes: bytes = b""
    head: tuple[str, str | None] = ("", None)
    events_seen: int = 0  # how many events the log held at the start: approvals after it move HEAD
    noted: set[str] = field(default_factory=set)  # notes already given, so each is logged once

    @classmethod
    def start(cls, paths: RepoPaths, task_id: str) -> MainCheckoutWatch:
        watch = cls(paths, task_id)
        watch.files = watch._fingerprint()
        watch.task_fields = watch._own_fields()
        watch.backlog_bytes = watch._backlog_bytes()
        watch.head = checkout_head(paths)
        watch.events_seen = len(events.read_events(paths))
        return watch

    def check(self, log: IO[str]) -> str | None:
        """Why the attempt fails (what changed), or None; the notes go to the attempt's ``log``."""
        for note in self.notes():
            log.write(f"note: {note}\n")
        changes = self.changes()
        return ("the main checkout changed during the attempt, outside its worktree: " + "; ".join(changes)
                if changes else None)

    def changes(self) -> list[str]:
        """What changed in the main checkout since the watch started, in words; [] when nothing."""
        now = self._fingerprint()
        found = [f"{path} {_how(self.files.get(path), now.get(path))}"
                 for path in sorted(self.files.keys() | now.keys()) if self.files.get(path) != now.get(path)]
        if moved := self._head_moved():
            found.append(moved)
        fields = self._own_fields()
        if fields is not None and self.task_fields is not None and fields != self.task_fields:
            changed = sorted(name for name in fields.keys() | self.task_fields.keys()
                             if fields.get(name) != self.task_fields.get(name))
            found.append(f"{self.paths.backlog.relative_to(self.paths.root).as_posix()}: task {self.task_id}'s "
                         + (f"fields {', '.join(changed)} changed" if changed else "entry was removed"))
        return found

    def notes(self) -> list[str]:
        """What changed that the watch does not judge (the backlog outside this task), once each."""
        notes = []
        if self._backlog_bytes() != self.backlog_bytes and "backlog" not in self.noted:
            self.noted.add("backlog")
            notes.append("backlog.yaml changed in the main checkout during the attempt outside this task's own "
                         "fields: not judged, since humans and the tool write it during a run")
        return notes

    def _head_moved(self) -> str | None:
        """HEAD moved and no review approved meanwhile made that commit (a commit, a checkout, a
        reset or a pull in the main checkout: the agent's, or the human's)."""
        head = checkout_head(self.paths)
        if head == self.head:
            return None
        approved = {str(event.data.get("commit")) for event in events.read_events(self.paths)[self.events_seen:]
                    if event.kind == "review.approved"}
        if head[0] == self.head[0] and head[1] in approved:
            self.head = head  # the tool's own merge: later moves are judged from here
            return None
        before, after = (f"{on} at {(commit or 'no commit')[:12]}" for on, commit in (self.head, head))
        return f"HEAD moved from {before} to {after} (a commit, checkout, reset or pull)"

    def _fingerprint(self) -> Fingerprint:
        return checkout_fingerprint(self.paths, _unwatched, (".leviathan",))

    def _own_fields(self) -> dict[str, Any] | None:
        """The human-owned fields of the attempt's task; {} once it is gone, None when the backlog
        cannot be read now (a human mid-edit: the attempt's own writeback reports that)."""
        try:
            backlog = load_backlog(self.paths)
        except LeviathanError:
            return None
        if self.task_id not in {task.id for task in backlog.tasks}:
            return {}
        return {name: value for name, value in backlog.task(self.task_id).data.items() if name not in TOOL_FIELDS}

    def _backlog_bytes(self) -> bytes:
        try:
            return self.paths.backlog.read_bytes()
        except OSError:
            return b""


def _unwatched(path: str) -> bool:
    """The slots, the reports, and the backlog with every file named after it: the tool's atomic
    writes leave `.backlog.yaml.*.tmp` for a moment, editors their swap files, backups and locks."""
    directory, _, name = path.rpartition("/")
    return (path.startswith((WORKTREES_DIR, REPORTS_DIR))
            or (directory == ".leviathan" and "backlog.yaml" in name))


def escape_block_fields(task: Task, reason: str) -> dict[str, Any]:
    """Blocked for a human decision, not counted: the tool cannot tell the human's change from an
    agent's, and counting would exhaust the task's attempts for an edit the human made."""
    return {**status_fields(task, Status.BLOCKED), "blocked_type": "decision", "blocked_from": Status.READY.value,
            "blocked_reason": f"{reason}. Nothing there was undone. If the change is yours, `leviathan unblock "
                              f"{task.id}` (the attempt was not counted); if not, an agent wrote outside its "
                              "worktree: see `agent.sandbox: bwrap`"}


def report_escape(attempt_id: str, reason: str, log: IO[str], record: AttemptRecord) -> None:
    """On the console, in the attempt's log and its record (the event follows with the failure)."""
    logger.warning("warning: %s: %s", attempt_id, reason)
    log.write(f"error: {reason}\n")
    log.flush()
    record.update(main_checkout_changed=reason)


def _how(before: str | None, after: str | None) -> str:
    if before is None:
        return "was added"
    if after is None:
        return "was reverted or removed"  # a changed file back as committed, or an untracked one gone
    if after.endswith(":gone"):
        return "was deleted"
    return "was changed"
