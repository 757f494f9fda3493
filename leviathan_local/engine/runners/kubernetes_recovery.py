"""A dead controller's Job attempts, recovered by the next run (engine/recovery.py calls this
for each record that names a remote): the Job ended if it still runs, deleted, and what its
worker pushed applied as the attempt's own thread would have applied it."""

from __future__ import annotations

import time
from typing import Any

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.config.policy_load import load_policy
from leviathan_local.engine.attempt_state import PhaseFailed
from leviathan_local.engine.remote.apply import apply_remote_attempt
from leviathan_local.engine.runners.job_state import read_state
from leviathan_local.engine.runners.kubernetes_api import connect
from leviathan_local.engine.runners.kubernetes_job import CONTAINER_NAME
from leviathan_local.errors import LeviathanError
from leviathan_local.repo_paths import RepoPaths

GONE_SECONDS = 120.0  # how long a deleted Job's pod is given to push its record and go


def recover_remote_attempt(paths: RepoPaths, record: dict[str, Any]) -> list[str]:
    """A dead controller's attempt (its record names a Job): end the Job if it still runs, then
    apply what its worker pushed, as the attempt's own thread would have. A Job the cluster
    cannot be asked about is left to its deadline and TTL; its record, if pushed already, applies."""
    task_id, attempt_id, url = str(record.get("task")), str(record.get("attempt")), str(record.get("remote"))
    notes = [f"{task_id}: remote attempt {attempt_id} lost its controller (pid {record.get('pid', '?')})"]
    if record.get("job"):
        notes.extend(_end_job(paths, str(record["job"]), str(record.get("namespace") or "default")))
    task = load_backlog(paths).by_id.get(task_id)
    if task is None or task.status is not Status.DOING or task.get("last_attempt_id") != attempt_id:
        return notes  # the task has moved on (a human's edit): nothing to apply to it
    result = apply_remote_attempt(paths, url, attempt_id, PhaseFailed(
        "remote", "its controller died and the worker pushed no record", interrupted=True))
    return [*notes, f"{task_id}: doing -> {load_backlog(paths).task(task_id).status.value} "
                    f"(remote attempt {result.outcome}: {result.reason})"]


def _end_job(paths: RepoPaths, name: str, namespace: str) -> list[str]:
    runner = load_policy(paths).runner
    try:
        cluster = connect(runner) if runner.kind == "kubernetes" else None
        if cluster is None:
            return [f"left Job {name} in {namespace} to its deadline and TTL: runner.kind is {runner.kind} now"]
        cluster.namespace = namespace  # the Job's, whatever the policy says now
        try:
            job = cluster.job(name)
            if job is None:
                return []
            if read_state(name, job, cluster.pods(name), CONTAINER_NAME).ending is not None:
                cluster.delete_job(name, foreground=False)
                return [f"deleted Job {name}: it had ended"]
            cluster.delete_job(name, foreground=True)
            waited_until = time.monotonic() + GONE_SECONDS
            while cluster.job(name) is not None and time.monotonic() < waited_until:
                time.sleep(1.0)  # its pod pushes the interrupted attempt's record, then goes
            return [f"deleted Job {name}: it was still running"]
        finally:
            cluster.close()
    except LeviathanError as error:
        return [f"could not end Job {name} in {namespace} ({error.message}): its deadline and TTL will"]
