"""The fake job controller and kubelet: a posted Job gets its one pod, the pod's container runs
as a real process, its end decides the Job's status; deleting, evicting and the deadline
terminate pods as the real ones do (SIGTERM to the group, SIGKILL after the grace period)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import objects
from .kubelet import ContainerConfigError, ContainerProcess, Secrets, container_argv, mount_map, resolve_env, rewrite
from .store import Key, Store

KILL_WAIT_SECONDS = 10.0  # after SIGKILL a group is gone at once; this only bounds a broken machine


class JobController:
    def __init__(self, store: Store, root: Path, secrets: Secrets, unpullable_images: set[str],
                 image_env: dict[str, str]) -> None:
        self.store, self.root, self.secrets, self.unpullable_images = store, root, secrets, unpullable_images
        self.image_env = image_env
        self.grace_seconds = 30.0
        self.max_running = 0
        self.phases_seen: dict[str, list[str]] = {}  # job name → each phase its pods reached, in order
        self.processes: dict[Key, ContainerProcess] = {}
        self._evicted: set[Key] = set()
        self._threads: list[threading.Thread] = []

    @property
    def lock(self) -> threading.Condition:
        return self.store.changed

    def start(self, job: dict[str, Any]) -> None:
        """The job controller's pod for ``job``, and the kubelet's start of it (lock held)."""
        pod = objects.new_pod(job, seed=f"{job['metadata']['namespace']}/{job['metadata']['name']}/{self.store.version}")
        self._record_pod("ADDED", pod)
        objects.job_running(job, ready=False)
        self.store.record("jobs", "MODIFIED", job)
        self._run(pod)

    def _run(self, pod: dict[str, Any]) -> None:
        meta, container = pod["metadata"], pod["spec"]["containers"][0]
        image = container.get("image", "")
        if image in self.unpullable_images:
            objects.waiting(pod, "ErrImagePull", f'failed to pull and unpack image "{image}": not found')
            self._record_pod("MODIFIED", pod)
            objects.waiting(pod, "ImagePullBackOff", f'Back-off pulling image "{image}"')
            self._record_pod("MODIFIED", pod)
            return
        try:
            env = resolve_env(container, meta["namespace"], self.secrets)
        except ContainerConfigError as error:
            objects.waiting(pod, "CreateContainerConfigError", str(error))
            self._record_pod("MODIFIED", pod)
            return
        pod_root = self.root / "pods" / meta["namespace"] / meta["name"]
        mounts = mount_map(container, pod_root)
        cwd = Path(rewrite(container.get("workingDir") or str(pod_root), mounts))
        cwd.mkdir(parents=True, exist_ok=True)
        host = {name: value for name, value in os.environ.items() if name in ("PATH", "PYTHONPATH")}
        env = {**host, **self.image_env, **env}
        key = (meta["namespace"], meta["name"])
        try:
            self.processes[key] = ContainerProcess(
                container_argv(container), {name: rewrite(value, mounts) for name, value in env.items()}, cwd,
                pod_root / "log", self.lock, lambda code: self._exited(key, code))
        except OSError as error:
            objects.running(pod, "fake://start-error")
            objects.terminated(pod, 128, "StartError", f"failed to start the container's command: {error}")
            self._record_pod("MODIFIED", pod)
            self._job_reacts(pod)
            return
        objects.running(pod, f"fake://{self.processes[key].process.pid}")
        self._record_pod("MODIFIED", pod)
        owner = self._owner(pod)
        if owner is not None:
            objects.job_running(owner, ready=True)
            self.store.record("jobs", "MODIFIED", owner)
        running = sum(p["status"]["phase"] == "Running" for p in self.store.objects["pods"].values())
        self.max_running = max(self.max_running, running)

    def _exited(self, key: Key, exit_code: int) -> None:
        with self.lock:
            pod = self.store.objects["pods"].get(key)
            if pod is None:
                return
            if key in self._evicted:
                objects.evicted(pod)
            else:
                objects.terminated(pod, exit_code, "Completed" if exit_code == 0 else "Error")
            self._record_pod("MODIFIED", pod)
            self._job_reacts(pod)

    def _job_reacts(self, pod: dict[str, Any]) -> None:
        job = self._owner(pod)
        if job is None or "deletionTimestamp" in job["metadata"]:
            return
        pending = [c for c in job["status"].get("conditions", []) if c["type"] == "FailureTarget"]
        if pending:
            objects.job_finished(job, succeeded=False, failure_reason=pending[0]["reason"])
        else:
            objects.job_finished(job, succeeded=pod["status"]["phase"] == "Succeeded")
        self.store.record("jobs", "MODIFIED", job)

    def evict(self, job_key: Key) -> None:
        with self.lock:
            for key, pod in self._pods_of(job_key):
                if pod["status"]["phase"] not in ("Pending", "Running"):
                    continue  # an ended pod has nothing left to evict
                self._evicted.add(key)
                process = self.processes.get(key)
                if process is None:
                    self._exited(key, 137)
                else:
                    process.signal_group(signal.SIGKILL)

    def pass_deadline(self, job_key: Key) -> None:
        with self.lock:
            job = self.store.objects["jobs"][job_key]
            if any(c["type"] in ("Complete", "Failed") for c in job["status"].get("conditions", [])):
                return  # finished before its deadline: the controller has nothing to enforce
            objects.failure_target(job, "DeadlineExceeded")
            self.store.record("jobs", "MODIFIED", job)
            pods = self._pods_of(job_key)
            if not pods:
                objects.job_finished(job, succeeded=False, failure_reason="DeadlineExceeded")
                self.store.record("jobs", "MODIFIED", job)
            for key, _ in pods:
                self.terminate(key)

    def terminate(self, key: Key, then: Callable[[], None] | None = None) -> None:
        """Delete pod ``key`` as the kubelet does: marked, SIGTERM, SIGKILL after the grace period, removed."""
        worker = threading.Thread(target=self._terminate, args=(key, then), name=f"kube-fake-terminate-{key[1]}", daemon=True)
        with self.lock:
            self._threads.append(worker)
        worker.start()

    def _terminate(self, key: Key, then: Callable[[], None] | None) -> None:
        with self.lock:
            pod = self.store.objects["pods"].get(key)
            process = self.processes.get(key)
            if pod is not None and "deletionTimestamp" not in pod["metadata"]:
                pod["metadata"].update(deletionTimestamp=objects.now(), deletionGracePeriodSeconds=int(self.grace_seconds))
                self._record_pod("MODIFIED", pod)
        if process is not None:
            process.signal_group(signal.SIGTERM)
            with self.lock:
                if not self.lock.wait_for(lambda: process.exited or self.store.closed, self.grace_seconds):
                    process.signal_group(signal.SIGKILL)
            process.join(KILL_WAIT_SECONDS)
        with self.lock:
            pod = self.store.objects["pods"].get(key)
            if pod is not None:
                self._record_pod("DELETED", pod)
            self.processes.pop(key, None)
            if then is not None:
                then()

    def orphan(self, job_key: Key) -> None:
        for _, pod in self._pods_of(job_key):
            pod["metadata"].pop("ownerReferences", None)
            self._record_pod("MODIFIED", pod)

    def pods_of(self, job_key: Key) -> list[Key]:
        with self.lock:
            return [key for key, _ in self._pods_of(job_key)]

    def _pods_of(self, job_key: Key) -> list[tuple[Key, dict[str, Any]]]:
        job = self.store.objects["jobs"].get(job_key)
        uid = job["metadata"]["uid"] if job else None
        return [(key, pod) for key, pod in self.store.objects["pods"].items()
                if any(ref.get("uid") == uid for ref in pod["metadata"].get("ownerReferences", []))]

    def _owner(self, pod: dict[str, Any]) -> dict[str, Any] | None:
        uids = {ref["uid"] for ref in pod["metadata"].get("ownerReferences", [])}
        for job in self.store.objects["jobs"].values():
            if job["metadata"]["uid"] in uids:
                return job
        return None

    def _record_pod(self, kind: str, pod: dict[str, Any]) -> None:
        self.store.record("pods", kind, pod)
        seen = self.phases_seen.setdefault(pod["metadata"]["labels"].get(objects.JOB_NAME, ""), [])
        phase = "Deleted" if kind == "DELETED" else pod["status"]["phase"]
        if not seen or seen[-1] != phase:
            seen.append(phase)

    def shut_down(self) -> None:
        """Kill every container's group, then wait for the threads watching them."""
        with self.lock:
            processes, threads = list(self.processes.values()), list(self._threads)
        for process in processes:
            process.signal_group(signal.SIGKILL)
        for process in processes:
            process.join(KILL_WAIT_SECONDS)
        for thread in threads:
            thread.join(KILL_WAIT_SECONDS)
