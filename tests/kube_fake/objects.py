"""The API objects the fake serves, as the dicts a real API server sends: Jobs and Pods with their
status fragments, label and field selectors, and the errors (`Status` objects)."""

from __future__ import annotations

import copy
import random
import uuid
from datetime import datetime, timezone
from typing import Any

CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"
_POD_SUFFIX_LETTERS = "bcdfghjklmnpqrstvwxz"  # the apiserver's generateName alphabet, letters only


class ApiError(Exception):
    """An API error: the HTTP status and the `Status` object sent with it."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def status(self) -> dict[str, Any]:
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}


def not_found(resource: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{resource} "{name}" not found')


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_job(body: dict[str, Any], namespace: str) -> dict[str, Any]:
    """The Job the apiserver stores for a posted ``body``: identity, defaults, selector, `status: {}`."""
    metadata = body.get("metadata") or {}
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "BadRequest", "Job.batch is invalid: metadata.name: Required value: name is required")
    if metadata.get("namespace", namespace) != namespace:
        raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request")
    spec = body.get("spec") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers")
    if not isinstance(containers, list) or not containers:
        raise ApiError(400, "BadRequest", f'Job.batch "{name}" is invalid: spec.template.spec.containers: Required value')
    job = copy.deepcopy(body)
    job.update(apiVersion="batch/v1", kind="Job", status={})
    uid = str(uuid.uuid4())
    job["metadata"] = {**copy.deepcopy(metadata), "namespace": namespace, "uid": uid, "generation": 1,
                       "creationTimestamp": now()}
    spec = job["spec"]
    for field, default in (("parallelism", 1), ("completions", 1), ("backoffLimit", 6),
                           ("completionMode", "NonIndexed"), ("suspend", False), ("manualSelector", False)):
        spec.setdefault(field, default)
    spec["selector"] = {"matchLabels": {CONTROLLER_UID: uid}}
    template_metadata = spec["template"].setdefault("metadata", {})
    template_metadata["labels"] = {**(template_metadata.get("labels") or {}), **_job_pod_labels(name, uid)}
    return job


def _job_pod_labels(job_name: str, uid: str) -> dict[str, str]:
    return {CONTROLLER_UID: uid, JOB_NAME: job_name, "controller-uid": uid, "job-name": job_name}


def new_pod(job: dict[str, Any], seed: str) -> dict[str, Any]:
    """The job controller's one pod for ``job``: `<job>-<5 letters>`, Pending, owned by the Job."""
    meta, template = job["metadata"], job["spec"]["template"]
    letters = random.Random(seed)  # reproducible names: the same test makes the same pods
    suffix = "".join(letters.choice(_POD_SUFFIX_LETTERS) for _ in range(5))
    pod_spec = copy.deepcopy(template["spec"])
    pod_spec.setdefault("nodeName", "fake-node")
    pod_spec.setdefault("terminationGracePeriodSeconds", 30)
    container = pod_spec["containers"][0]
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"{meta['name']}-{suffix}", "generateName": f"{meta['name']}-",
                     "namespace": meta["namespace"], "uid": str(uuid.uuid4()), "creationTimestamp": now(),
                     "labels": copy.deepcopy(template["metadata"]["labels"]),
                     "annotations": copy.deepcopy(template["metadata"].get("annotations") or {}),
                     "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": meta["name"],
                                          "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}]},
        "spec": pod_spec,
        "status": {"phase": "Pending", "qosClass": "BestEffort",
                   "conditions": [_condition("PodScheduled", "True")],
                   "containerStatuses": [container_status(container, {"waiting": {"reason": "ContainerCreating"}})]},
    }


def container_status(container: dict[str, Any], state: dict[str, Any], ready: bool = False) -> dict[str, Any]:
    return {"name": container["name"], "image": container.get("image", ""), "imageID": "", "ready": ready,
            "started": ready, "restartCount": 0, "state": state}


def waiting(pod: dict[str, Any], reason: str, message: str) -> None:
    container = pod["spec"]["containers"][0]
    pod["status"]["containerStatuses"] = [container_status(container, {"waiting": {"reason": reason, "message": message}})]


def running(pod: dict[str, Any], container_id: str) -> None:
    started = now()
    container = pod["spec"]["containers"][0]
    running_state = {"running": {"startedAt": started}}
    status = pod["status"]
    status.update(phase="Running", startTime=started, hostIP="127.0.0.1", podIP="127.0.0.1",
                  conditions=[_condition(kind, "True") for kind in ("PodScheduled", "Initialized", "ContainersReady", "Ready")],
                  containerStatuses=[{**container_status(container, running_state, ready=True), "containerID": container_id}])


def terminated(pod: dict[str, Any], exit_code: int, reason: str, message: str | None = None) -> None:
    """The pod's container ended with ``exit_code``: phase Succeeded (0) or Failed."""
    container = pod["spec"]["containers"][0]
    status = pod["status"]
    previous = status["containerStatuses"][0]
    state = {"exitCode": exit_code, "reason": reason, "finishedAt": now(),
             "startedAt": previous["state"].get("running", {}).get("startedAt", now())}
    if message:
        state["message"] = message
    status["phase"] = "Succeeded" if exit_code == 0 else "Failed"
    status["conditions"] = [_condition("PodScheduled", "True"), _condition("Initialized", "True"),
                            _condition("ContainersReady", "False", "PodCompleted"), _condition("Ready", "False", "PodCompleted")]
    status["containerStatuses"] = [{**container_status(container, {"terminated": state}),
                                    **({"containerID": previous["containerID"]} if "containerID" in previous else {})}]


def evicted(pod: dict[str, Any]) -> None:
    message = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 10Mi."
    terminated(pod, 137, "Error")
    pod["status"].update(phase="Failed", reason="Evicted", message=message)
    pod["status"]["conditions"].append(_condition("DisruptionTarget", "True", "TerminationByKubelet", message))


def job_running(job: dict[str, Any], ready: bool) -> None:
    job["status"].update(active=1, ready=1 if ready else 0, terminating=0, uncountedTerminatedPods={})
    job["status"].setdefault("startTime", now())


def job_finished(job: dict[str, Any], succeeded: bool, failure_reason: str = "BackoffLimitExceeded") -> None:
    """Job status once its one pod is terminal: the interim condition and the final one together."""
    status = job["status"]
    status.update(active=0, ready=0, terminating=0)
    status.setdefault("startTime", now())
    conditions = [c for c in status.get("conditions", []) if c["type"] not in ("SuccessCriteriaMet", "FailureTarget")]
    if succeeded:
        status.update(succeeded=1, completionTime=now())  # set on success only, as the real controller does
        status["conditions"] = conditions + [_condition("SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods"),
                                             _condition("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods")]
        return
    message = failure_message(failure_reason)
    status["failed"] = 1
    status["conditions"] = conditions + [_condition("FailureTarget", "True", failure_reason, message),
                                         _condition("Failed", "True", failure_reason, message)]


def failure_target(job: dict[str, Any], reason: str) -> None:
    job["status"].setdefault("conditions", []).append(_condition("FailureTarget", "True", reason, failure_message(reason)))


def failure_message(reason: str) -> str:
    return {"DeadlineExceeded": "Job was active longer than specified deadline",
            "BackoffLimitExceeded": "Job has reached the specified backoff limit"}.get(reason, reason)


def _condition(kind: str, status: str, reason: str | None = None, message: str | None = None) -> dict[str, Any]:
    stamp = now()
    condition: dict[str, Any] = {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": stamp}
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def parse_selector(text: str | None, what: str) -> dict[str, str]:
    """Equality terms `a=b,c==d` (all the fake needs); anything else is a 400, as a typo should be."""
    terms: dict[str, str] = {}
    for term in filter(None, (part.strip() for part in (text or "").split(","))):
        key, equals, value = term.replace("==", "=").partition("=")
        if not equals or not key or "!" in key:
            raise ApiError(400, "BadRequest", f"unable to parse requirement: {what} {term!r}: the fake supports only key=value")
        terms[key.strip()] = value.strip()
    return terms


def matches(obj: dict[str, Any], labels: dict[str, str], fields: dict[str, str]) -> bool:
    meta = obj["metadata"]
    own_labels = meta.get("labels") or {}
    field_values = {"metadata.name": meta["name"], "metadata.namespace": meta["namespace"]}
    for field in fields:
        if field not in field_values:
            raise ApiError(400, "BadRequest", f'field label not supported: {field}')
    return (all(own_labels.get(key) == value for key, value in labels.items())
            and all(field_values[key] == value for key, value in fields.items()))
