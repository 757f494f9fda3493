"""`FakeCluster`: a local fake Kubernetes API server with a fake job controller and kubelet, for
tests of the Kubernetes runner's controller where no real cluster can run. See the package's
docstring for what it serves and what it does not enforce."""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import objects
from .controller import JobController
from .kubelet import ContainerProcess
from .objects import ApiError
from .server import ApiServer
from .store import Key, Selection, Store

FOLLOW_CHUNK = 65536


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.method} {self.path}" + ("?" + "&".join(f"{k}={v}" for k, v in self.query.items()) if self.query else "")


@dataclass(frozen=True)
class JobDeletion:
    namespace: str
    name: str
    propagation_policy: str | None  # as sent; None is the API's default for Jobs, which orphans the pods
    by: str  # "api" (a DELETE request) or "vanish" (the test's kubectl delete)


class FakeCluster:
    """Use as a context manager; ``root`` keeps the pods' logs and directories (a temporary
    directory, removed on exit, when not given)."""

    def __init__(self, root: Path | None = None, grace_seconds: float = 30.0) -> None:
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="kube-fake-")) if root is None else root
        self.secrets: dict[tuple[str, str], dict[str, str]] = {}
        self.unpullable_images: set[str] = set()
        self.image_env: dict[str, str] = {}  # the image's ENV: under the container's env, over the host's PATH
        self.jobs_created: list[dict[str, Any]] = []
        self.deleted_jobs: list[JobDeletion] = []
        self.requests: list[RecordedRequest] = []
        self._store = Store()
        self._controller = JobController(self._store, self.root, self.secrets, self.unpullable_images, self.image_env)
        self.grace_seconds = grace_seconds
        self._server = ApiServer(self)

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> FakeCluster:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._store.changed:
            self._store.closed = True
            self._store.changed.notify_all()
        self._controller.shut_down()
        self._server.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def grace_seconds(self) -> float:
        return self._controller.grace_seconds

    @grace_seconds.setter
    def grace_seconds(self, seconds: float) -> None:
        self._controller.grace_seconds = seconds

    @property
    def max_running(self) -> int:
        with self._store.changed:
            return self._controller.max_running

    def write_kubeconfig(self, path: Path) -> Path:
        """A kubeconfig for this cluster (no auth); JSON, which YAML loaders read as YAML."""
        config = {"apiVersion": "v1", "kind": "Config", "current-context": "kube-fake",
                  "clusters": [{"name": "kube-fake", "cluster": {"server": self.url}}],
                  "users": [{"name": "kube-fake", "user": {}}],
                  "contexts": [{"name": "kube-fake", "context": {"cluster": "kube-fake", "user": "kube-fake",
                                                                 "namespace": "default"}}]}
        path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        return path

    # -- the API (server.py routes here) -----------------------------------------------------
    def record_request(self, request: RecordedRequest) -> None:
        with self._store.changed:
            self.requests.append(request)

    def create_job(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        job = objects.new_job(body, namespace)
        key = (namespace, job["metadata"]["name"])
        with self._store.changed:
            if key in self._store.objects["jobs"]:
                raise ApiError(409, "AlreadyExists", f'jobs.batch "{key[1]}" already exists')
            self.jobs_created.append(copy.deepcopy(body))
            created = self._store.record("jobs", "ADDED", job)
            self._controller.start(job)
            return created

    def read(self, resource: str, namespace: str, name: str) -> dict[str, Any]:
        found = self._store.get(resource, (namespace, name))
        if found is None:
            raise objects.not_found("jobs.batch" if resource == "jobs" else resource, name)
        return found

    def listing(self, selection: Selection) -> dict[str, Any]:
        items, version = self._store.listing(selection)
        kind, api = ("JobList", "batch/v1") if selection.resource == "jobs" else ("PodList", "v1")
        return {"kind": kind, "apiVersion": api, "metadata": {"resourceVersion": version}, "items": items}

    def watch(self, selection: Selection, since: str | None, timeout: float) -> Iterator[dict[str, Any]]:
        return self._store.watch(selection, since, timeout)

    def delete_job(self, namespace: str, name: str, propagation_policy: str | None, by: str = "api") -> dict[str, Any]:
        """DELETE a Job. Background: gone at once, its pods terminated after. Foreground: kept
        (deletionTimestamp, finalizer) until its pods are gone. Orphan, or no policy (the API's
        default for batch/v1 Jobs): gone at once, its pods left running, unowned."""
        key = (namespace, name)
        with self._store.changed:
            job = self._store.objects["jobs"].get(key)
            if job is None:
                raise objects.not_found("jobs.batch", name)
            if "deletionTimestamp" in job["metadata"]:
                return copy.deepcopy(job)  # a foreground deletion under way
            self.deleted_jobs.append(JobDeletion(namespace, name, propagation_policy, by))
            pods = self._controller.pods_of(key)
            if propagation_policy == "Foreground":
                job["metadata"].update(deletionTimestamp=objects.now(), finalizers=["foregroundDeletion"])
                kept = self._store.record("jobs", "MODIFIED", job)
                self._terminate_all(pods, lambda: self._store.record("jobs", "DELETED", job))
                return kept
            if propagation_policy == "Background":
                self._terminate_all(pods, None)
            else:
                self._controller.orphan(key)
            self._store.record("jobs", "DELETED", job)
            return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                    "details": {"name": name, "group": "batch", "kind": "jobs", "uid": job["metadata"]["uid"]}}

    def _terminate_all(self, pods: list[Key], then: Callable[[], None] | None) -> None:
        if not pods and then is not None:
            then()
        remaining = set(pods)

        def one_gone(key: Key) -> None:
            remaining.discard(key)
            if not remaining and then is not None:
                then()
        for key in pods:
            self._controller.terminate(key, lambda key=key: one_gone(key))

    def open_log(self, namespace: str, name: str, container: str | None, follow: bool) -> Iterator[bytes]:
        """The pod's log (or its new bytes as written, until the container ended, with follow)."""
        key = (namespace, name)
        with self._store.changed:
            pod = self._store.objects["pods"].get(key)
            if pod is None:
                raise objects.not_found("pods", name)
            own = pod["spec"]["containers"][0]["name"]
            if container not in (None, "", own):
                raise ApiError(400, "BadRequest", f"container {container} is not valid for pod {name}")
            process = self._controller.processes.get(key)
            if process is None:
                waiting = pod["status"]["containerStatuses"][0]["state"].get("waiting", {})
                reason = waiting.get("reason", "ContainerCreating")
                raise ApiError(400, "BadRequest", f'container "{own}" in pod "{name}" is waiting to start: {reason}')
        return self._log_chunks(key, process, follow)

    def _log_chunks(self, key: Key, process: ContainerProcess, follow: bool) -> Iterator[bytes]:
        sent = 0
        with process.log_path.open("rb") as log:
            while True:
                with self._store.changed:
                    if follow:
                        self._store.changed.wait_for(lambda: process.log_size > sent or process.output_done or self._store.closed
                                                     or key not in self._store.objects["pods"])
                    size = process.log_size
                if size <= sent:
                    return
                log.seek(sent)
                while sent < size:
                    chunk = log.read(min(FOLLOW_CHUNK, size - sent))
                    sent += len(chunk)
                    yield chunk
                if not follow:
                    return

    # -- the test's controls -----------------------------------------------------------------
    def evict(self, job_name: str) -> None:
        """The node evicts the job's pod: SIGKILL, pod Failed (Evicted, DisruptionTarget), Job Failed."""
        self._controller.evict(self._job_key(job_name))

    def vanish(self, job_name: str) -> None:
        """Someone ran `kubectl delete job` (background propagation): as a DELETE."""
        namespace, name = self._job_key(job_name)
        self.delete_job(namespace, name, "Background", by="vanish")

    def pass_deadline(self, job_name: str) -> None:
        """activeDeadlineSeconds passed: FailureTarget, the pod terminated, then Failed (DeadlineExceeded)."""
        self._controller.pass_deadline(self._job_key(job_name))

    def expire_history(self) -> None:
        """Forget the event history: a watch from an older resourceVersion gets 410 Gone (Expired)."""
        self._store.expire_history()

    def job(self, job_name: str) -> dict[str, Any] | None:
        with self._store.changed:
            keys = [key for key in self._store.objects["jobs"] if key[1] == job_name]
            return copy.deepcopy(self._store.objects["jobs"][keys[0]]) if keys else None

    def pods(self, job_name: str) -> list[dict[str, Any]]:
        """The job's pods now (by its `job-name` label: orphans included)."""
        with self._store.changed:
            return [copy.deepcopy(pod) for pod in self._store.objects["pods"].values()
                    if pod["metadata"]["labels"].get(objects.JOB_NAME) == job_name]

    def wait_until(self, condition: Callable[[], Any], timeout: float = 30,
                   what: str | Callable[[], str] = "a condition") -> Any:
        """Block until ``condition()`` (called under the cluster's lock at each change) is true."""
        return self._store.wait(condition, timeout, what)

    def wait_for_pod_phase(self, job_name: str, phase: str, timeout: float = 30) -> list[str]:
        """Until the job's pod has reached ``phase`` (now or before; "Deleted" once removed): the
        phases seen. Waiting for one end (Succeeded, Failed) fails at once on the other, with the log."""
        other_end = {"Succeeded": "Failed", "Failed": "Succeeded"}.get(phase)

        def seen() -> list[str] | None:
            phases = self._controller.phases_seen.get(job_name, [])
            return list(phases) if phase in phases or other_end in phases else None
        phases = self.wait_until(seen, timeout, lambda: f"a pod of job {job_name} to reach {phase} "
                                 f"(seen: {self._controller.phases_seen.get(job_name)})")
        if phase not in phases:
            raise AssertionError(f"the pod of job {job_name} went {phases}, not {phase}; its log:\n{self.log(job_name)}")
        return phases

    def log(self, job_name: str) -> str:
        """The log of the job's latest pod that ran, as far as written ("" when none ran)."""
        with self._store.changed:
            logs = [process.log_path for (_, pod), process in self._controller.processes.items()
                    if pod.rsplit("-", 1)[0] == job_name]
        return logs[-1].read_text(errors="replace") if logs and logs[-1].exists() else ""

    def wait_for_jobs(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """Until ``count`` Jobs were posted: their bodies."""
        return self.wait_until(lambda: len(self.jobs_created) >= count and list(self.jobs_created), timeout,
                               f"{count} jobs to be created")

    def _job_key(self, job_name: str) -> Key:
        with self._store.changed:
            keys = [key for key in self._store.objects["jobs"] if key[1] == job_name]
        if len(keys) != 1:
            raise KeyError(f"the fake cluster has {len(keys)} jobs named {job_name!r}")
        return keys[0]
