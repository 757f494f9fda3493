"""The cluster as the Kubernetes runner uses it: the one module that imports the official
`kubernetes` client (the optional extra `leviathan-local[kubernetes]`), imported when a run
asks for the runner, never before, so the local runner needs none of it.

Objects come back as the API's own JSON (dicts in camelCase, as `kubectl get -o json` shows
them), the shape engine/runners/job_state.py reads. Streams (watches, a pod's log) are
responses the caller may close from another thread, which ends them at once.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from leviathan_local.config.policy import RunnerSettings
from leviathan_local.errors import ConfigError, WorkFailedError

CONNECTIONS = 64  # connections kept to the API server: 16 Jobs at once (beyond, urllib3 warns as it drops them)
INSTALL_HINT = "install the client: pip install 'leviathan-local[kubernetes]'"
CONFIG_HINT = ("set KUBECONFIG (or write ~/.kube/config) for the cluster the Jobs run on, or run the controller in "
               "a pod; `kubectl get jobs -n NAMESPACE` must work with the same configuration")


class ClusterError(WorkFailedError):
    """The cluster refused or failed a request (exit 1: the run halts, nothing half-written)."""

    title = "Kubernetes problem"


class Stream:
    """An open watch or log stream: iterate it, then `close()` it; `interrupt()`, from any
    thread, ends an iteration blocked on the socket at once, as the stream's end."""

    def __init__(self, response: Any) -> None:
        self.response = response  # urllib3.HTTPResponse
        self._interrupted = threading.Event()

    def chunks(self) -> Iterator[bytes]:
        try:
            yield from self.response.stream(8192, decode_content=True)
        except Exception:
            if not self._interrupted.is_set():
                raise

    def lines(self) -> Iterator[bytes]:
        pending = b""
        for chunk in self.chunks():
            pending += chunk
            *complete, pending = pending.split(b"\n")
            yield from (line for line in complete if line.strip())
        if pending.strip():
            yield pending

    def interrupt(self) -> None:
        """Shut the socket down under the reader (closing the response from another thread would
        wait for the reader's lock, which it holds until the server sends something)."""
        self._interrupted.set()
        connection = getattr(self.response, "connection", None)
        if (sock := getattr(connection, "sock", None)) is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # closed already: the reader has ended

    def close(self) -> None:
        try:
            self.response.close()
        except Exception:  # noqa: BLE001 - its connection already gone: ended all the same
            pass


def check_client() -> None:
    """The `kubernetes` package is importable (exit 2 with the install command if not)."""
    try:
        import kubernetes  # noqa: F401
    except ImportError:
        raise ConfigError("runner.kind: kubernetes needs the `kubernetes` Python client, which is not installed",
                          hint=INSTALL_HINT) from None


class Cluster:
    """One namespace of one cluster, through a client of its own (no global configuration)."""

    def __init__(self, client: Any, namespace: str) -> None:
        from kubernetes import client as api

        self.namespace = namespace
        self._client = client
        self._batch = api.BatchV1Api(client)
        self._core = api.CoreV1Api(client)

    def create_job(self, job: dict[str, Any]) -> None:
        self._call("creating the Job", self._batch.create_namespaced_job, self.namespace, job)

    def job(self, name: str) -> dict[str, Any] | None:
        """The Job as the API has it now; None once it is gone."""
        return self._json(self._call(f"reading Job {name}", self._batch.read_namespaced_job, name, self.namespace,
                                     missing_ok=True))

    def pods(self, job_name: str) -> list[dict[str, Any]]:
        found = self._call(f"listing the pods of Job {job_name}", self._core.list_namespaced_pod, self.namespace,
                           label_selector=f"job-name={job_name}")
        return list((self._json(found) or {}).get("items") or [])

    def delete_job(self, name: str, foreground: bool) -> bool:
        """Delete the Job and its pods: ``foreground``, the Job stays (being deleted) until its pods
        are gone, so its end is seen after the container's last push. False: it was gone already."""
        deleted = self._call(f"deleting Job {name}", self._batch.delete_namespaced_job, name, self.namespace,
                             propagation_policy="Foreground" if foreground else "Background", missing_ok=True)
        return deleted is not None

    def watch_jobs(self, name: str, resource_version: str | None, seconds: int) -> Stream:
        return self._stream(f"watching Job {name}", self._batch.list_namespaced_job, self.namespace,
                            field_selector=f"metadata.name={name}", watch=True, timeout_seconds=seconds,
                            **({"resource_version": resource_version} if resource_version else {}))

    def watch_pods(self, job_name: str, seconds: int) -> Stream:
        return self._stream(f"watching the pods of Job {job_name}", self._core.list_namespaced_pod, self.namespace,
                            label_selector=f"job-name={job_name}", watch=True, timeout_seconds=seconds)

    def follow_log(self, pod: str, container: str) -> Stream:
        return self._stream(f"reading the log of pod {pod}", self._core.read_namespaced_pod_log, pod, self.namespace,
                            container=container, follow=True)

    def close(self) -> None:
        self._client.close()

    def _json(self, found: Any) -> Any:
        return None if found is None else self._client.sanitize_for_serialization(found)

    def _call(self, doing: str, method: Any, *arguments: Any, missing_ok: bool = False, **options: Any) -> Any:
        from kubernetes.client.exceptions import ApiException

        try:
            return method(*arguments, **options)
        except ApiException as error:
            if missing_ok and error.status == 404:
                return None
            raise ClusterError(f"{doing} in namespace {self.namespace}: {_api_message(error)}",
                               hint=_hint_for(error.status)) from None
        except Exception as error:  # noqa: BLE001 - urllib3's connection errors, named as they are
            raise ClusterError(f"{doing} in namespace {self.namespace}: {type(error).__name__}: {error}",
                               hint="check that the cluster's API server is reachable from here") from None

    def _stream(self, doing: str, method: Any, *arguments: Any, **options: Any) -> Stream:
        response = self._call(doing, method, *arguments, _preload_content=False, **options)
        if not 200 <= response.status < 300:
            body = response.data.decode("utf-8", "replace")
            response.close()
            raise ClusterError(f"{doing} in namespace {self.namespace}: HTTP {response.status}: "
                               f"{_status_message(body)}", hint=_hint_for(response.status))
        return Stream(response)


def connect(runner: RunnerSettings) -> Cluster:
    """A client for the runner's namespace: from KUBECONFIG or ~/.kube/config, with the policy's
    `context` when it names one, else from the pod's service account when running in a cluster."""
    check_client()
    from kubernetes import client as api
    from kubernetes import config

    configured = os.environ.get("KUBECONFIG") or str(Path("~/.kube/config").expanduser())
    configuration = api.Configuration()
    # Each running Job holds three streams open (two watches, its pod's log) besides the reads.
    configuration.connection_pool_maxsize = CONNECTIONS
    try:
        if any(Path(part).is_file() for part in configured.split(os.pathsep) if part):
            config.load_kube_config(config_file=configured, context=runner.context,
                                    client_configuration=configuration, persist_config=False)
        elif os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config(client_configuration=configuration)
        else:
            raise ConfigError(f"runner.kind: kubernetes: no Kubernetes configuration found ({configured} "
                              "does not exist, and this is not a pod)", hint=CONFIG_HINT)
    except config.ConfigException as error:
        raise ConfigError(f"runner.kind: kubernetes: the Kubernetes configuration {configured} is unusable: {error}",
                          hint=CONFIG_HINT) from None
    return Cluster(api.ApiClient(configuration), runner.namespace)


def _api_message(error: Any) -> str:
    return f"HTTP {error.status}: {_status_message(error.body) if error.body else error.reason}"


def _status_message(body: str | bytes) -> str:
    """A `Status` object's message, or the body as it is."""
    try:
        status = json.loads(body)
    except (TypeError, ValueError):
        return str(body).strip()[:500]
    return str(status.get("message") or status) if isinstance(status, dict) else str(status)


def _hint_for(status: int | None) -> str:
    if status in (401, 403):
        return "the configured user may not do this: grant it create, get, watch and delete on jobs, and get, " \
               "list and watch on pods and pods/log, in the runner's namespace"
    if status == 404:
        return "check runner.namespace in .leviathan/policy.yaml: the namespace must exist"
    return "check the cluster's state with kubectl, then run again"

