"""What a Job and its pods say about the attempt (engine/runners/job_state.py), case by case, in
the API's own JSON as `kubectl get -o json` prints it, and how each ending counts when the
worker pushed no record."""

from __future__ import annotations

from typing import Any

import pytest

from leviathan_local.engine.runners.job_state import as_seen, read_state

NAME = "leviathan-attempt-add-1a2b3c-0123abcd"


def job(*conditions: tuple[str, str], deadline: int = 1200) -> dict[str, Any]:
    return {"metadata": {"name": NAME}, "spec": {"activeDeadlineSeconds": deadline},
            "status": {"conditions": [{"type": kind, "status": "True", "reason": reason, "message": f"{reason}!"}
                                      for kind, reason in conditions]}}


def pod(phase: str = "Running", state: dict[str, Any] | None = None, **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": f"{NAME}-x7k2p"},
            "status": {"phase": phase, **status,
                       "containerStatuses": [{"name": "attempt", "state": state or {"running": {}}}]}}


def test_a_running_job_is_going_and_its_pod_can_be_followed() -> None:
    state = read_state(NAME, job(), [pod()], "attempt")
    assert (state.ending, state.started_pod) == (None, f"{NAME}-x7k2p")


def test_a_pending_pod_is_not_followed_yet() -> None:
    waiting = pod("Pending", {"waiting": {"reason": "ContainerCreating"}})
    assert read_state(NAME, job(), [waiting], "attempt").started_pod is None
    # The kubelet retries a first pull failure: not an ending yet.
    pulling = pod("Pending", {"waiting": {"reason": "ErrImagePull", "message": "timeout"}})
    assert read_state(NAME, job(), [pulling], "attempt").ending is None


def test_a_completed_job_has_ended_and_says_how_its_container_exited() -> None:
    done = pod("Succeeded", {"terminated": {"exitCode": 0, "reason": "Completed"}})
    state = read_state(NAME, job(("SuccessCriteriaMet", ""), ("Complete", "")), [done], "attempt")
    assert state.ending is not None and state.ending.how == "ended"
    assert state.ending.detail == "its container exited 0 (Completed)"
    assert state.started_pod == f"{NAME}-x7k2p"  # a finished pod's log is still there to read


def test_a_container_that_exits_without_a_record_failed_its_environment_not_counted() -> None:
    exited = pod("Failed", {"terminated": {"exitCode": 2, "reason": "Error"}})
    state = read_state(NAME, job(("FailureTarget", "BackoffLimitExceeded"), ("Failed", "BackoffLimitExceeded")),
                       [exited], "attempt")
    assert state.ending is not None and (state.ending.how, state.ending.detail) == ("ended", "its container exited 2 (Error)")
    failure = state.ending.failure()
    assert (failure.phase, failure.environment, failure.interrupted) == ("remote", True, False)


def test_the_deadline_is_a_counted_failure() -> None:
    state = read_state(NAME, job(("Failed", "DeadlineExceeded"), deadline=1200), [], "attempt")
    assert state.ending is not None and state.ending.how == "deadline"
    assert "activeDeadlineSeconds 1200" in state.ending.detail
    failure = state.ending.failure()
    assert failure.counted


@pytest.mark.parametrize("evicted", [
    pod("Failed", {"terminated": {"exitCode": 137}}, reason="Evicted", message="The node was low on memory."),
    pod("Failed", {"terminated": {"exitCode": 143}},
        conditions=[{"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler"}]),
])
def test_an_evicted_or_preempted_pod_interrupts_the_attempt(evicted: dict[str, Any]) -> None:
    # Seen from the pod at once, before the Job's own condition says anything.
    state = read_state(NAME, job(), [evicted], "attempt")
    assert state.ending is not None and state.ending.how == "disrupted"
    assert state.ending.failure().interrupted


def test_a_job_that_vanished_interrupts_the_attempt() -> None:
    state = read_state(NAME, None, [], "attempt")
    assert state.ending is not None and state.ending.how == "vanished" and NAME in state.ending.detail
    assert state.ending.failure().interrupted


@pytest.mark.parametrize("reason", ["ImagePullBackOff", "CreateContainerConfigError", "InvalidImageName"])
def test_a_container_that_cannot_start_ends_the_job_at_once(reason: str) -> None:
    stuck = pod("Pending", {"waiting": {"reason": reason, "message": 'secret "leviathan-git" not found'}})
    state = read_state(NAME, job(), [stuck], "attempt")
    assert state.ending is not None and state.ending.how == "cannot_start"
    assert reason in state.ending.detail and "leviathan-git" in state.ending.detail
    assert state.ending.failure().environment


def test_another_containers_state_says_nothing() -> None:
    sidecar = pod("Running", {"waiting": {"reason": "ImagePullBackOff"}})
    sidecar["status"]["containerStatuses"][0]["name"] = "istio-proxy"
    assert read_state(NAME, job(), [sidecar], "attempt").ending is None


def test_a_deadline_reached_by_a_pod_that_never_ran_is_the_environments_failure() -> None:
    ending = read_state(NAME, job(("Failed", "DeadlineExceeded")), [], "attempt").ending
    assert ending is not None
    assert as_seen(ending, container_started=True) == ending and ending.failure().counted
    unscheduled = as_seen(ending, container_started=False)
    assert unscheduled.how == "cannot_start" and "never started" in unscheduled.detail
    assert not unscheduled.failure().counted and unscheduled.failure().environment
