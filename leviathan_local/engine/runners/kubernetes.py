"""The Kubernetes runner's controller: one Job per attempt of a batch, watched to its end, its
result brought back through the git remote and applied to the main checkout like a local
attempt's (engine/remote/apply.py).

Each attempt holds a record in `<state dir>/running/` (engine/runlock.py) naming its Job, so a
controller that dies leaves what the next run needs to end the Job and apply what it pushed
(engine/runners/kubernetes_recovery.py). The controller keeps what a local run keeps: the lock, the event
log, the backlog's writes, the halt commit; the cluster only runs `leviathan attempt --remote`.

Watching: a watch on the Job and one on its pods only wake the attempt's loop, which then reads
the Job and its pods afresh and asks engine/runners/job_state.py what they say. A missed or
garbled event costs nothing but a wait: the loop reads anyway at the end of every watch window.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import closing

from leviathan_local.backlog.model import Task
from leviathan_local.backlog.store import load_backlog
from leviathan_local.config.contract import load_contract
from leviathan_local.config.policy import Policy
from leviathan_local.engine.attempt_state import AttemptResult
from leviathan_local.engine.controller_context import controller_context
from leviathan_local.engine.remote.apply import apply_remote_attempt, begin_remote_attempt
from leviathan_local.engine.remote.record import new_refs
from leviathan_local.engine.runlock import attempt_record
from leviathan_local.engine.runners.job_state import Ending, JobState, as_seen, read_state
from leviathan_local.engine.runners.kubernetes_api import Cluster, ClusterError, Stream, connect
from leviathan_local.engine.runners.kubernetes_job import (
    CLONE_AND_PUSH_MARGIN_SECONDS, CONTAINER_NAME, attempt_job, job_name,
)
from leviathan_local.git.remote import RemoteError, remote_branches_hold
from leviathan_local.repo_paths import RepoPaths

log = logging.getLogger(__name__)

WATCH_SECONDS = 60  # one watch request's window; the state is read afresh after each
# Past the Job's own deadline: the controller ends a Job the cluster never ended (its job
# controller down, say), counting it as the attempt's timeout.
BACKSTOP_SECONDS = 120
RECONNECT_SECONDS = 2.0  # after a watch that failed or ended at once: no busy loop on a sick API server
LOG_DRAIN_SECONDS = 10.0  # a pod's log stream is given this long to end after the Job has
STOP_SECONDS = 120.0  # a stopped run waits this long for each deleted Job to go (a pod's grace is 30 s)


def check_runner(paths: RepoPaths, policy: Policy, base: str) -> None:
    """Before a run takes its lock: the client installed and configured (no request yet), and
    the remote holding the default branch's commit, which each Job's worker fetches and starts
    from; without it every attempt would fail in the cluster, after the Job's cost."""
    connect(policy.runner).close()
    if not remote_branches_hold(paths.root, str(policy.runner.remote), base):
        default = load_contract(paths).default_branch
        raise RemoteError(f"runner.remote {policy.runner.remote} has no branch holding {default}'s commit "
                          f"{base[:12]}: the Jobs' attempts start from it",
                          hint=f"push it first: git push {policy.runner.remote} {default}")


def run_batch(paths: RepoPaths, policy: Policy, batch: list[Task], stop: threading.Event,
              budget_left: float | None) -> list[AttemptResult]:
    """Each task of ``batch`` as a Job, all at once (the batch is at most max_running_attempts)."""
    cluster = connect(policy.runner)
    writes = threading.Lock()  # the backlog and the log change under one attempt at a time
    attempts = [JobAttempt(paths, policy, cluster, task.id, writes, budget_left) for task in batch]
    threads = [threading.Thread(target=attempt.run, name=f"job-{attempt.task_id}") for attempt in attempts]
    try:
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            if stop.wait(0.1):
                for attempt in attempts:
                    attempt.request_stop()
                break
        for thread in threads:
            thread.join()
    finally:
        cluster.close()
    return [attempt.outcome() for attempt in attempts]


class JobAttempt:
    """One attempt as one Job: started, watched, ended, applied; `run` in a thread of its own."""

    def __init__(self, paths: RepoPaths, policy: Policy, cluster: Cluster, task_id: str, writes: threading.Lock,
                 budget_left: float | None) -> None:
        self.paths, self.policy, self.cluster, self.task_id = paths, policy, cluster, task_id
        self.writes, self.budget_left = writes, budget_left
        self.refs = new_refs(task_id)
        self.job = job_name(self.refs.attempt_id)
        self.log_path = paths.state_dir / "attempts" / f"{self.refs.attempt_id}.log"
        self.changed = threading.Event()  # something may have changed: read the state again
        self.ended = threading.Event()  # the Job has ended: the watches and the log stream stop
        self.stopping = threading.Event()  # the run stops: the Job is deleted, its pod told to stop
        self.streams: set[Stream] = set()
        self.streams_lock = threading.Lock()
        self.result: AttemptResult | None = None
        self.error: BaseException | None = None

    def request_stop(self) -> None:
        self.stopping.set()
        self.changed.set()

    def outcome(self) -> AttemptResult:
        if self.error is not None:
            raise self.error  # the run's error: it halts with it, as a local attempt's would
        assert self.result is not None
        return self.result

    def run(self) -> None:
        try:
            self.result = self._run()
        except BaseException as error:  # noqa: BLE001 - handed to the run's thread by `outcome`
            self.error = error

    def _run(self) -> AttemptResult:
        runner, url = self.policy.runner, str(self.policy.runner.remote)
        named = {"job": self.job, "namespace": runner.namespace}
        with attempt_record(self.paths, attempt=self.refs.attempt_id, task=self.task_id, branch=self.refs.branch,
                            remote=url, **named) as record:
            with self.writes:
                start = begin_remote_attempt(self.paths, url, self.task_id, self.refs, **named)
            record.update(base=start.base)
            known = controller_context(self.paths, self.policy, load_backlog(self.paths).task(self.task_id))
            timeout = self.policy.limits.attempt_timeout_seconds
            try:
                self.cluster.create_job(attempt_job(runner, self.refs, start.base, timeout, self.budget_left, known))
            except ClusterError as refused:
                ending = Ending("cannot_start", f"the cluster refused its Job: {refused.message}")
            else:
                ending = self._watch(time.monotonic() + timeout + CLONE_AND_PUSH_MARGIN_SECONDS + BACKSTOP_SECONDS)
                self._delete_quietly(foreground=False)
            with self.writes:
                return apply_remote_attempt(self.paths, url, self.refs.attempt_id, ending.failure())

    def _watch(self, backstop: float) -> Ending:
        watches = [threading.Thread(target=self._wake_on, args=(opener,), daemon=True, name=f"watch-{self.job}")
                   for opener in (lambda: self.cluster.watch_jobs(self.job, None, WATCH_SECONDS),
                                  lambda: self.cluster.watch_pods(self.job, WATCH_SECONDS))]
        for thread in watches:
            thread.start()
        follower: threading.Thread | None = None
        given_up_at: float | None = None  # once the run stops: when to stop waiting for the Job to go
        try:
            while True:
                self.changed.clear()  # before the read: a change from here on wakes the wait below
                state = self._read()
                if state.started_pod and follower is None:
                    follower = threading.Thread(target=self._follow_log, args=(state.started_pod,), daemon=True,
                                                name=f"log-{self.job}")
                    follower.start()
                if state.ending is not None:
                    ending = as_seen(state.ending, container_started=follower is not None)
                    return self._as_stopped(ending) if given_up_at else ending
                if self.stopping.is_set() and given_up_at is None:
                    # Foreground: the Job is seen to go only once its pod has gone, after the
                    # worker, told to stop, has pushed its record of the interrupted attempt.
                    self._delete_quietly(foreground=True)
                    given_up_at = time.monotonic() + STOP_SECONDS
                now = time.monotonic()
                if given_up_at is not None and now >= given_up_at:
                    return Ending("stopped", f"the run was stopped; its Job {self.job} was deleted but had not "
                                  f"gone {STOP_SECONDS:g} s later")
                if now >= backstop:
                    self._delete_quietly(foreground=True)
                    return Ending("deadline", f"its Job {self.job} was still not ended {BACKSTOP_SECONDS} s after "
                                  "its deadline (activeDeadlineSeconds); the controller deleted it")
                self.changed.wait(max(0.0, min(WATCH_SECONDS, backstop - now, (given_up_at or backstop) - now)))
        finally:
            if follower is not None:  # first: a pod that has ended still serves its whole log
                follower.join(LOG_DRAIN_SECONDS)
            self.ended.set()
            self._interrupt_streams()

    def _read(self) -> JobState:
        """What the Job and its pods say now; a failed read says nothing (read again at the next wake)."""
        try:
            return read_state(self.job, self.cluster.job(self.job), self.cluster.pods(self.job), CONTAINER_NAME)
        except ClusterError as error:
            log.warning("%s: %s (read again at the next change)", self.job, error.message)
            return JobState()

    def _as_stopped(self, ending: Ending) -> Ending:
        if ending.how == "vanished":
            return Ending("stopped", f"the run was stopped: its Job {self.job} was deleted")
        return ending

    def _wake_on(self, opener: Callable[[], Stream]) -> None:
        """Set `changed` at each event of the stream ``opener`` opens, again and again, until the Job ends."""
        while not self.ended.is_set():
            opened = time.monotonic()
            try:
                with closing(self._opened(opener)) as stream:
                    for _ in stream.lines():
                        self.changed.set()
            except Exception as error:  # noqa: BLE001 - the API server's trouble
                if not self.ended.is_set():
                    log.debug("%s: a watch ended: %s", self.job, error)
            self.changed.set()  # a window ended: read the state (a missed event would have said the same)
            if time.monotonic() - opened < RECONNECT_SECONDS:
                self.ended.wait(RECONNECT_SECONDS)

    def _follow_log(self, pod: str) -> None:
        """The pod's log, appended to the attempt's log as it comes: what the Run tab shows."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            out.write(f"[leviathan] Job {self.job}, pod {pod} in namespace {self.cluster.namespace}:\n".encode())
            out.flush()
            try:
                with closing(self._opened(lambda: self.cluster.follow_log(pod, CONTAINER_NAME))) as stream:
                    for chunk in stream.chunks():
                        out.write(chunk)
                        out.flush()
            except Exception as error:  # noqa: BLE001 - the record's log completes what the stream missed
                if not self.ended.is_set():
                    out.write(f"\n[leviathan] the pod's log stream ended early: {error}\n".encode())

    def _opened(self, opener: Callable[[], Stream]) -> Stream:
        stream = opener()
        with self.streams_lock:
            self.streams.add(stream)
            if self.ended.is_set():  # ended while it opened: nobody else would interrupt it
                stream.interrupt()
        return stream

    def _interrupt_streams(self) -> None:
        with self.streams_lock:
            for stream in self.streams:
                stream.interrupt()

    def _delete_quietly(self, foreground: bool) -> bool:
        """Delete the Job (its end is recorded); a refusal is logged, its TTL deletes it later."""
        try:
            return self.cluster.delete_job(self.job, foreground)
        except ClusterError as error:
            log.warning("%s: %s; its ttlSecondsAfterFinished deletes it later", self.job, error.message)
            return False
