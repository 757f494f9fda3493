"""One attempt as one Kubernetes `batch/v1` Job: a pure function of the runner's policy, the
attempt's names and its base. The Job's one container runs the remote attempt
(`leviathan attempt ID --remote URL --base SHA --attempt-id ID`, engine/remote/worker.py); the
controller creates it, watches it and applies the record it pushes (engine/remote/apply.py).

Nothing here talks to a cluster: the dict is what the `kubernetes` client or `kubectl apply`
takes. Validated against the Kubernetes OpenAPI schema by tests/test_kubernetes_job.py.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from leviathan_local.config.policy import RunnerSettings
from leviathan_local.engine.controller_context import ENV as CONTEXT_ENV
from leviathan_local.engine.controller_context import ControllerContext
from leviathan_local.engine.remote.record import AttemptRefs

# The Job's deadline is the attempt's timeout plus this: the worker's clone or fetch before the
# cycle and its push after it happen outside the attempt's own timeout.
CLONE_AND_PUSH_MARGIN_SECONDS = 300
HOME = "/home/leviathan"  # an emptyDir: the agents' config and caches, the remote's cache (XDG_CACHE_HOME)
USER_ID = 10001  # deploy/Dockerfile's user, so runAsNonRoot holds for any image built from it
CONTAINER_NAME = "attempt"
NAME_PREFIX = "leviathan-"
MAX_NAME = 63  # a Job's name ends up in its pods' `job-name` label: a label value's bound
MAX_LABEL_VALUE = 63
_DIGEST_LENGTH = 8
_NOT_IN_NAME = re.compile(r"[^a-z0-9-]+")
_NOT_IN_LABEL = re.compile(r"[^A-Za-z0-9._-]+")


def job_name(attempt_id: str) -> str:
    """A DNS-1123 label of at most 63 characters, unique per attempt id: the id lowercased and
    cut to fit, and a digest of the whole id, so ids that sanitise alike still differ."""
    readable = _NOT_IN_NAME.sub("-", attempt_id.lower()).strip("-")
    room = MAX_NAME - len(NAME_PREFIX) - 1 - _DIGEST_LENGTH
    readable = readable[:room].strip("-")
    return f"{NAME_PREFIX}{readable}-{_digest(attempt_id)}" if readable else f"{NAME_PREFIX}{_digest(attempt_id)}"


def label_value(value: str) -> str:
    """``value`` as a label value (at most 63 of A-Z a-z 0-9 . _ -, alphanumeric at both ends):
    unchanged when it is one; otherwise sanitised, and when that changed or cut it, a digest of
    the original appended so two values never share a label. The exact value is an annotation."""
    cleaned = _NOT_IN_LABEL.sub("-", value)
    if cleaned == value and len(value) <= MAX_LABEL_VALUE and _alnum_ends(value):
        return value
    head = _strip_to_alnum(cleaned[:MAX_LABEL_VALUE - 1 - _DIGEST_LENGTH])
    return f"{head}-{_digest(value)}" if head else _digest(value)


def attempt_job(runner: RunnerSettings, refs: AttemptRefs, base: str, attempt_timeout_seconds: int,
                budget_left: float | None = None, known: ControllerContext | None = None) -> dict[str, Any]:
    """The Job running attempt ``refs`` from commit ``base`` under ``runner`` (kind kubernetes);
    ``budget_left``: what the run may still spend on it (None: no run budget); ``known``: what
    the controller knows of the task that the worker's clone cannot."""
    if runner.kind != "kubernetes" or not runner.image or not runner.remote:
        raise ValueError("a Job needs runner kind kubernetes with an image and a remote (policy_load checks it)")
    labels = {"app.kubernetes.io/name": "leviathan", "app.kubernetes.io/component": "attempt",
              "app.kubernetes.io/managed-by": "leviathan", "leviathan/task": label_value(refs.task_id),
              "leviathan/attempt": label_value(refs.attempt_id)}
    annotations = {"leviathan/task": refs.task_id, "leviathan/attempt": refs.attempt_id, "leviathan/base": base}
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",  # a retry is the controller's decision, never the kubelet's
        "automountServiceAccountToken": False,  # the agent's code has no business with the cluster's API
        "securityContext": {"runAsNonRoot": True, "runAsUser": USER_ID, "runAsGroup": USER_ID, "fsGroup": USER_ID,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [_container(runner, refs, base, budget_left, known)],
        "volumes": [{"name": "home", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
    }
    if runner.service_account:
        pod_spec["serviceAccountName"] = runner.service_account
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": job_name(refs.attempt_id), "namespace": runner.namespace, "labels": labels,
                     "annotations": annotations},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": attempt_timeout_seconds + CLONE_AND_PUSH_MARGIN_SECONDS,
            "ttlSecondsAfterFinished": runner.ttl_seconds,
            # Copies: a caller editing the Job's metadata must not edit its pods' too.
            "template": {"metadata": {"labels": dict(labels), "annotations": dict(annotations)}, "spec": pod_spec},
        },
    }


def _container(runner: RunnerSettings, refs: AttemptRefs, base: str, budget_left: float | None,
               known: ControllerContext | None) -> dict[str, Any]:
    env: list[dict[str, Any]] = [{"name": "HOME", "value": HOME}, {"name": "XDG_CACHE_HOME", "value": f"{HOME}/.cache"}]
    if known is not None:
        env.append({"name": CONTEXT_ENV, "value": known.to_json()})
    env += [{"name": item.name, "valueFrom": {"secretKeyRef": {"name": item.secret, "key": item.key}}}
            for item in runner.secret_env]
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": runner.image,
        # --stream-log: the attempt's log on stdout as it is written, which is the pod's log the
        # controller streams into its own attempt log and Run tab.
        "command": ["leviathan", "attempt", refs.task_id, "--remote", runner.remote, "--base", base,
                    "--attempt-id", refs.attempt_id, "--stream-log",
                    *([] if budget_left is None else ["--budget-left", repr(budget_left)])],
        "workingDir": HOME,
        "env": env,
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "home", "mountPath": HOME}, {"name": "tmp", "mountPath": "/tmp"}],
    }
    resources = {part: dict(values) for part, values in (("requests", runner.resources.requests),
                                                         ("limits", runner.resources.limits)) if values}
    if resources:
        container["resources"] = resources
    return container


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:_DIGEST_LENGTH]


def _alnum_ends(value: str) -> bool:
    return not value or (value[0].isascii() and value[0].isalnum() and value[-1].isascii() and value[-1].isalnum())


def _strip_to_alnum(value: str) -> str:
    return value.strip("-_.")
