"""What a Job and its pods say about the attempt they run: still going, its container started
(its log can be followed), or ended, and how. A pure function of the API's JSON, so the watch
loop reads the same truth whichever event woke it, and the tests can state each case.

How an ending counts when the container pushed no record (with a record, the record decides,
but for the deadline, which counts even when the stopped worker pushed an interrupted record):
the Job ran past its deadline: a counted failure (the attempt's timeout, enforced by the
cluster); the pod was evicted or preempted, or the Job vanished: interrupted, not counted (the
cluster took it away); the container could not start (its image, a Secret) or exited without
pushing: a failure of the environment, not counted, which the circuit breaker still halts on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leviathan_local.engine.attempt_state import PhaseFailed

# A container's waiting reasons that no wait will cure: the Job is ended rather than left to its
# deadline. ErrImagePull is not among them: the kubelet retries it, and a registry's hiccup passes.
CANNOT_START = frozenset({"ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "CreateContainerConfigError",
                          "CreateContainerError"})
DISRUPTED_REASONS = frozenset({"Evicted", "Preempting", "Terminated", "NodeLost", "Shutdown", "UnexpectedAdmissionError"})
PHASE = "remote"  # the phase a failure of the Job itself is told under


@dataclass(frozen=True)
class Ending:
    how: str  # "ended", "deadline", "disrupted", "vanished", "stopped", "cannot_start"
    detail: str

    def failure(self) -> PhaseFailed:
        """How the attempt failed, as the cluster tells it (a record, if pushed, says more)."""
        if self.how == "deadline":
            return PhaseFailed(PHASE, self.detail)
        if self.how in ("disrupted", "vanished", "stopped"):
            return PhaseFailed(PHASE, self.detail, interrupted=True)
        return PhaseFailed(PHASE, self.detail, environment=True)


def as_seen(ending: Ending, container_started: bool) -> Ending:
    """``ending`` given whether the controller ever saw the container start: a deadline reached
    by a pod that never ran (unschedulable in a full cluster, an image still pulling) is the
    environment's failure, not the agent's."""
    if ending.how == "deadline" and not container_started:
        return Ending("cannot_start", f"{ending.detail}, and its container never started "
                                      "(no node could take its pod, or its image was still pulling)")
    return ending


@dataclass(frozen=True)
class JobState:
    ending: Ending | None = None
    started_pod: str | None = None  # a pod whose container has started: its log can be read


def read_state(name: str, job: dict[str, Any] | None, pods: list[dict[str, Any]], container: str) -> JobState:
    """The state of Job ``name`` (None: gone) with its ``pods``; ``container``: the attempt's."""
    started = next((_name(pod) for pod in pods if _container_state(pod, container).keys() & {"running", "terminated"}),
                   None)
    if job is None:
        return JobState(Ending("vanished", f"its Job {name} was deleted before it ended"), started)
    for pod in pods:
        if disruption := _disruption(pod):
            return JobState(Ending("disrupted", f"its pod {_name(pod)} was {disruption}"), started)
    failed = _condition(job, "Failed")
    if failed is not None:
        if failed.get("reason") == "DeadlineExceeded":
            deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
            return JobState(Ending("deadline", f"its Job ran past its deadline (activeDeadlineSeconds {deadline})"),
                            started)
        return JobState(Ending("ended", _exit_detail(pods, container) or _condition_detail(failed)), started)
    if _condition(job, "Complete") is not None:
        return JobState(Ending("ended", _exit_detail(pods, container) or "its container exited 0"), started)
    for pod in pods:
        waiting = _container_state(pod, container).get("waiting") or {}
        if waiting.get("reason") in CANNOT_START:
            return JobState(Ending("cannot_start", f"its pod {_name(pod)} cannot start the container: "
                                   f"{waiting['reason']}: {waiting.get('message') or 'no message'}"), started)
    return JobState(None, started)


def _name(pod: dict[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("name"))


def _container_state(pod: dict[str, Any], container: str) -> dict[str, Any]:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == container:
            return dict(status.get("state") or {})
    return {}


def _condition(thing: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for condition in (thing.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind and condition.get("status") == "True":
            return dict(condition)
    return None


def _disruption(pod: dict[str, Any]) -> str | None:
    """How the cluster took the pod away (evicted, preempted, its node lost), if it did."""
    status = pod.get("status") or {}
    if status.get("phase") == "Failed" and status.get("reason") in DISRUPTED_REASONS:
        return f"{status['reason'].lower()} ({status.get('message') or 'no message'})"
    if (target := _condition(pod, "DisruptionTarget")) is not None and status.get("phase") in ("Failed", "Succeeded"):
        return f"disrupted: {target.get('reason') or 'DisruptionTarget'} ({target.get('message') or 'no message'})"
    return None


def _exit_detail(pods: list[dict[str, Any]], container: str) -> str | None:
    for pod in pods:
        terminated = _container_state(pod, container).get("terminated")
        if terminated:
            return (f"its container exited {terminated.get('exitCode')} ({terminated.get('reason') or 'no reason'})"
                    + (f": {terminated['message']}" if terminated.get("message") else ""))
    return None


def _condition_detail(condition: dict[str, Any]) -> str:
    return f"its Job failed: {condition.get('reason') or 'no reason'} ({condition.get('message') or 'no message'})"
