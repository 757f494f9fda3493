"""The fake Kubernetes API server (tests/kube_fake), tested through the real `kubernetes` client:
what it serves must be what the client sends and accepts, so the runner's controller can be
tested against it where no real cluster runs. Every test here uses the fake API server."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

kubernetes = pytest.importorskip("kubernetes")
from engine_fixtures import assert_dies, process_gone  # noqa: E402
from kube_fake import FakeCluster  # noqa: E402
from kubernetes import client, config, watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

from leviathan_local.config.policy import RunnerSettings, SecretEnv  # noqa: E402
from leviathan_local.engine.remote.record import AttemptRefs  # noqa: E402
from leviathan_local.engine.runners.kubernetes_job import attempt_job  # noqa: E402

NAMESPACE = "agents"
GRACE_SECONDS = 0.3  # SIGKILL this long after SIGTERM: short, so a stubborn process costs little
WATCH_SECONDS = 5  # server side; each watch here ends earlier, on the event it waits for


@dataclasses.dataclass
class Api:
    batch: Any
    core: Any


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[FakeCluster]:
    with FakeCluster(root=tmp_path / "cluster", grace_seconds=GRACE_SECONDS) as fake:
        yield fake


@pytest.fixture
def api(cluster: FakeCluster, tmp_path: Path) -> Iterator[Api]:
    kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
    with config.new_client_from_config(config_file=str(kubeconfig)) as api_client:
        yield Api(client.BatchV1Api(api_client), client.CoreV1Api(api_client))


def job_body(name: str, script: str, env: list[dict[str, Any]] | None = None, image: str = "img") -> dict[str, Any]:
    container = {"name": "attempt", "image": image, "command": ["sh", "-c", script], "env": env or []}
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "labels": {"app": "leviathan", "leviathan/task": name}},
            "spec": {"backoffLimit": 0, "template": {"metadata": {"labels": {"app": "leviathan"}},
                                                     "spec": {"restartPolicy": "Never", "containers": [container]}}}}


def the_pod(api: Api, job: str) -> Any:
    pods = api.core.list_namespaced_pod(NAMESPACE, label_selector=f"job-name={job}").items
    assert len(pods) == 1, [pod.metadata.name for pod in pods]
    return pods[0]


def conditions(job: Any) -> list[tuple[str, str, str | None]]:
    return [(c.type, c.status, c.reason) for c in job.status.conditions or []]


def test_fake_api_server_runs_a_job_to_complete_with_its_secret_and_log(cluster: FakeCluster, api: Api) -> None:
    cluster.secrets[(NAMESPACE, "agent-keys")] = {"token": "s3cret"}
    env = [{"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "agent-keys", "key": "token"}}}]
    created = api.batch.create_namespaced_job(NAMESPACE, job_body("hello", "echo hello; echo $FROM_SECRET", env))
    assert isinstance(created, client.V1Job)
    assert created.metadata.uid and created.metadata.resource_version and created.metadata.namespace == NAMESPACE
    assert cluster.wait_for_pod_phase("hello", "Succeeded") == ["Pending", "Running", "Succeeded"]
    job = api.batch.read_namespaced_job("hello", NAMESPACE)
    assert (job.status.active, job.status.succeeded) == (0, 1) and job.status.completion_time
    assert conditions(job) == [("SuccessCriteriaMet", "True", "CompletionsReached"), ("Complete", "True", "CompletionsReached")]
    pod = the_pod(api, "hello")
    assert pod.metadata.name.startswith("hello-") and len(pod.metadata.name) == len("hello-") + 5
    assert pod.metadata.owner_references[0].kind == "Job" and pod.metadata.owner_references[0].uid == created.metadata.uid
    assert pod.metadata.labels["batch.kubernetes.io/job-name"] == "hello" and pod.metadata.labels["app"] == "leviathan"
    assert pod.status.container_statuses[0].state.terminated.exit_code == 0
    assert pod.status.container_statuses[0].state.terminated.reason == "Completed"
    assert api.core.read_namespaced_pod_log(pod.metadata.name, NAMESPACE, container="attempt") == "hello\ns3cret\n"
    assert cluster.jobs_created[0]["metadata"]["name"] == "hello" and cluster.max_running == 1


def test_fake_api_server_streams_a_followed_log_line_by_line(cluster: FakeCluster, api: Api, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    held = os.open(gate, os.O_RDWR)  # a writer exists from now on: the container's open never blocks
    try:
        api.batch.create_namespaced_job(NAMESPACE, job_body("follow", f"echo first; read line < {gate}; echo $line"))
        pod = the_pod(api, "follow")
        lines = watch.Watch().stream(api.core.read_namespaced_pod_log, pod.metadata.name, NAMESPACE,
                                     container="attempt", _request_timeout=10)
        assert next(lines) == "first"
        assert api.core.read_namespaced_pod(pod.metadata.name, NAMESPACE).status.phase == "Running"
        os.write(held, b"second\n")  # only now may the container go on
        assert list(lines) == ["second"]  # and the stream ends once the container has exited
    finally:
        os.close(held)
    assert cluster.wait_for_pod_phase("follow", "Succeeded")


def test_fake_api_server_watch_sees_added_modified_deleted_as_v1_jobs(cluster: FakeCluster, api: Api) -> None:
    version = api.batch.list_namespaced_job(NAMESPACE).metadata.resource_version
    api.batch.create_namespaced_job(NAMESPACE, job_body("watched", "true"))
    api.batch.create_namespaced_job(NAMESPACE, {**job_body("other", "true"), "metadata": {"name": "other"}})
    cluster.wait_for_pod_phase("watched", "Succeeded")
    api.batch.delete_namespaced_job("watched", NAMESPACE, propagation_policy="Background")
    events = []
    watcher = watch.Watch()
    for event in watcher.stream(api.batch.list_namespaced_job, NAMESPACE, label_selector="app=leviathan,leviathan/task=watched",
                                resource_version=version, timeout_seconds=WATCH_SECONDS):
        assert isinstance(event["object"], client.V1Job) and event["object"].metadata.name == "watched"
        events.append((event["type"], [c[0] for c in conditions(event["object"])]))
        if event["type"] == "DELETED":
            watcher.stop()
    assert events[0] == ("ADDED", []) and events[-1][0] == "DELETED"
    assert ("MODIFIED", ["SuccessCriteriaMet", "Complete"]) in events
    started = list(watch.Watch().stream(api.batch.list_namespaced_job, NAMESPACE, field_selector="metadata.name=other",
                                        timeout_seconds=0))
    assert [(event["type"], event["object"].metadata.name) for event in started] == [("ADDED", "other")]
    assert [d.propagation_policy for d in cluster.deleted_jobs] == ["Background"]


def test_fake_api_server_refuses_a_taken_name_and_reads_nothing_absent(cluster: FakeCluster, api: Api) -> None:
    api.batch.create_namespaced_job(NAMESPACE, job_body("twice", "true"))
    with pytest.raises(ApiException) as taken:
        api.batch.create_namespaced_job(NAMESPACE, job_body("twice", "true"))
    assert taken.value.status == 409 and '"reason": "AlreadyExists"' in taken.value.body
    for call in (lambda: api.batch.read_namespaced_job("absent", NAMESPACE),
                 lambda: api.batch.delete_namespaced_job("absent", NAMESPACE),
                 lambda: api.core.read_namespaced_pod("absent", NAMESPACE)):
        with pytest.raises(ApiException) as absent:
            call()
        assert absent.value.status == 404 and '"reason": "NotFound"' in absent.value.body
    assert len(cluster.jobs_created) == 1


@pytest.mark.parametrize("secrets, message", [
    ({}, 'secret "keys" not found'),
    ({(NAMESPACE, "keys"): {"other": "x"}}, f"couldn't find key token in Secret {NAMESPACE}/keys"),
], ids=["no-secret", "no-key"])
def test_fake_api_server_leaves_a_pod_without_its_secret_pending(cluster: FakeCluster, api: Api, tmp_path: Path,
                                                                 secrets: dict, message: str) -> None:
    cluster.secrets.update(secrets)
    ran = tmp_path / "ran"
    env = [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "keys", "key": "token"}}}]
    api.batch.create_namespaced_job(NAMESPACE, job_body("nosecret", f"touch {ran}", env))
    pod = the_pod(api, "nosecret")
    waiting = pod.status.container_statuses[0].state.waiting
    assert (pod.status.phase, waiting.reason, waiting.message) == ("Pending", "CreateContainerConfigError", message)
    with pytest.raises(ApiException) as log:
        api.core.read_namespaced_pod_log(pod.metadata.name, NAMESPACE, container="attempt")
    assert log.value.status == 400 and "is waiting to start" in log.value.body
    assert not ran.exists() and api.batch.read_namespaced_job("nosecret", NAMESPACE).status.active == 1


def test_fake_api_server_backs_off_an_unpullable_image(cluster: FakeCluster, api: Api) -> None:
    cluster.unpullable_images.add("registry.example.com/missing:1")
    version = api.core.list_namespaced_pod(NAMESPACE).metadata.resource_version
    api.batch.create_namespaced_job(NAMESPACE, job_body("nopull", "true", image="registry.example.com/missing:1"))
    reasons = [event["object"].status.container_statuses[0].state.waiting.reason
               for event in watch.Watch().stream(api.core.list_namespaced_pod, NAMESPACE, resource_version=version,
                                                 timeout_seconds=0)]
    assert reasons == ["ContainerCreating", "ErrImagePull", "ImagePullBackOff"]


def stubborn(pid_file: Path) -> str:
    """A container whose shell and background child ignore SIGTERM: only SIGKILL ends them."""
    return f"trap '' TERM; sleep 60 & echo $! > {pid_file}.tmp; mv {pid_file}.tmp {pid_file}; echo ready; wait"


def start_stubborn(cluster: FakeCluster, api: Api, name: str, pid_file: Path) -> int:
    api.batch.create_namespaced_job(NAMESPACE, job_body(name, stubborn(pid_file)))
    pod = the_pod(api, name)
    lines = watch.Watch().stream(api.core.read_namespaced_pod_log, pod.metadata.name, NAMESPACE, _request_timeout=10)
    assert next(lines) == "ready"  # the child's pid is written by now
    lines.close()
    return int(pid_file.read_text())


def test_fake_api_server_delete_kills_the_process_group_after_the_grace(cluster: FakeCluster, api: Api,
                                                                        tmp_path: Path) -> None:
    child = start_stubborn(cluster, api, "doomed", tmp_path / "child")
    api.batch.delete_namespaced_job("doomed", NAMESPACE, propagation_policy="Background")
    with pytest.raises(ApiException) as gone:
        api.batch.read_namespaced_job("doomed", NAMESPACE)  # the Job goes at once
    assert gone.value.status == 404
    assert cluster.wait_for_pod_phase("doomed", "Deleted")[-2:] == ["Failed", "Deleted"]
    assert process_gone(child)
    assert api.core.list_namespaced_pod(NAMESPACE, label_selector="job-name=doomed").items == []


def test_fake_api_server_delete_without_a_policy_orphans_the_pod(cluster: FakeCluster, api: Api, tmp_path: Path) -> None:
    child = start_stubborn(cluster, api, "orphaned", tmp_path / "child")
    api.batch.delete_namespaced_job("orphaned", NAMESPACE)  # the API's default for batch/v1: orphan
    pod = the_pod(api, "orphaned")
    assert pod.status.phase == "Running" and not pod.metadata.owner_references and not process_gone(child)


def test_fake_api_server_evict_fails_the_pod_and_the_job(cluster: FakeCluster, api: Api, tmp_path: Path) -> None:
    child = start_stubborn(cluster, api, "evicted", tmp_path / "child")
    cluster.evict("evicted")
    cluster.wait_for_pod_phase("evicted", "Failed")
    pod = the_pod(api, "evicted")
    assert (pod.status.reason, pod.status.container_statuses[0].state.terminated.exit_code) == ("Evicted", 137)
    assert ("DisruptionTarget", "True") in [(c.type, c.status) for c in pod.status.conditions]
    job = api.batch.read_namespaced_job("evicted", NAMESPACE)
    assert conditions(job)[-1] == ("Failed", "True", "BackoffLimitExceeded") and job.status.failed == 1
    assert_dies(child)


def test_fake_api_server_pass_deadline_terminates_then_fails_the_job(cluster: FakeCluster, api: Api) -> None:
    api.batch.create_namespaced_job(NAMESPACE, job_body("late", "exec sleep 60"))
    cluster.wait_for_pod_phase("late", "Running")
    cluster.pass_deadline("late")
    assert cluster.wait_for_pod_phase("late", "Deleted") == ["Pending", "Running", "Failed", "Deleted"]
    job = api.batch.read_namespaced_job("late", NAMESPACE)
    assert conditions(job) == [("FailureTarget", "True", "DeadlineExceeded"), ("Failed", "True", "DeadlineExceeded")]
    assert job.status.completion_time is None and (job.status.active, job.status.failed) == (0, 1)


def test_fake_api_server_vanish_is_a_kubectl_delete(cluster: FakeCluster, api: Api) -> None:
    api.batch.create_namespaced_job(NAMESPACE, job_body("vanished", "exec sleep 60"))
    version = api.batch.read_namespaced_job("vanished", NAMESPACE).metadata.resource_version
    cluster.vanish("vanished")
    kinds = [event["type"] for event in watch.Watch().stream(api.batch.list_namespaced_job, NAMESPACE,
                                                             resource_version=version, timeout_seconds=0)]
    assert kinds[-1] == "DELETED"
    assert [(d.name, d.by) for d in cluster.deleted_jobs] == [("vanished", "vanish")]
    cluster.wait_for_pod_phase("vanished", "Deleted")


def test_fake_api_server_runs_the_runners_own_job_with_a_private_home(cluster: FakeCluster, api: Api) -> None:
    runner = RunnerSettings(kind="kubernetes", image="img", remote="/srv/app.git", namespace=NAMESPACE,
                            secret_env=(SecretEnv("LEVIATHAN_GIT_TOKEN", "git", "token"),))
    cluster.secrets[(NAMESPACE, "git")] = {"token": "t"}
    cluster.image_env["GIT_TERMINAL_PROMPT"] = "0"  # deploy/Dockerfile's ENV, which the image would carry
    body = attempt_job(runner, AttemptRefs("add-login", "1a2b3c"), "0" * 40, attempt_timeout_seconds=60)
    container = body["spec"]["template"]["spec"]["containers"][0]
    container["command"] = ["sh", "-c", 'mkdir "$XDG_CACHE_HOME" && touch "$HOME/written" && pwd && echo "$HOME" '
                            '&& test "$GIT_TERMINAL_PROMPT$LEVIATHAN_GIT_TOKEN" = 0t && test -z "$LEVIATHAN_NOW"']
    name = api.batch.create_namespaced_job(NAMESPACE, body).metadata.name
    cluster.wait_for_pod_phase(name, "Succeeded")
    pod = the_pod(api, name)
    cwd, home = api.core.read_namespaced_pod_log(pod.metadata.name, NAMESPACE).splitlines()
    assert cwd == home and home.startswith(str(cluster.root)) and Path(home, "written").is_file()
    assert Path(home, ".cache").is_dir()
    version_job = job_body("cli", "")
    version_job["spec"]["template"]["spec"]["containers"][0]["command"] = ["leviathan", "--version"]
    api.batch.create_namespaced_job(NAMESPACE, version_job)
    cluster.wait_for_pod_phase("cli", "Succeeded")
    assert "leviathan, version" in api.core.read_namespaced_pod_log(the_pod(api, "cli").metadata.name, NAMESPACE)


def test_fake_api_server_leaves_no_process_behind(tmp_path: Path) -> None:
    with FakeCluster(grace_seconds=30) as fake:
        kubeconfig = fake.write_kubeconfig(tmp_path / "kubeconfig")
        with config.new_client_from_config(config_file=str(kubeconfig)) as api_client:
            batch = client.BatchV1Api(api_client)
            for number in range(3):
                batch.create_namespaced_job(NAMESPACE, job_body(f"left-{number}", stubborn(tmp_path / f"child-{number}")))
            fake.wait_until(lambda: all((tmp_path / f"child-{n}").exists() for n in range(3)) or None, what="children")
            pids = [int((tmp_path / f"child-{n}").read_text()) for n in range(3)]
            leaders = [pod["status"]["containerStatuses"][0]["containerID"] for n in range(3) for pod in fake.pods(f"left-{n}")]
        root = fake.root
        assert fake.max_running == 3
    for pid in pids + [int(leader.removeprefix("fake://")) for leader in leaders]:
        assert process_gone(pid)
    assert not root.exists()


def test_fake_api_server_foreground_delete_keeps_the_job_until_its_pod_is_gone(cluster: FakeCluster, api: Api) -> None:
    api.batch.create_namespaced_job(NAMESPACE, job_body("foreground", "exec sleep 60"))
    version = api.batch.read_namespaced_job("foreground", NAMESPACE).metadata.resource_version
    api.batch.delete_namespaced_job("foreground", NAMESPACE, propagation_policy="Foreground")
    events = []
    for event in watch.Watch().stream(api.batch.list_namespaced_job, NAMESPACE, resource_version=version,
                                      timeout_seconds=WATCH_SECONDS):
        events.append((event["type"], bool(event["object"].metadata.deletion_timestamp)))
        if event["type"] == "DELETED":
            break
    assert events == [("MODIFIED", True), ("DELETED", True)]
    assert cluster.pods("foreground") == []


def test_fake_api_server_expired_history_is_410_gone(cluster: FakeCluster, api: Api) -> None:
    version = api.batch.list_namespaced_job(NAMESPACE).metadata.resource_version
    api.batch.create_namespaced_job(NAMESPACE, job_body("expired", "true"))
    cluster.expire_history()
    with pytest.raises(ApiException) as gone:
        list(watch.Watch().stream(api.batch.list_namespaced_job, NAMESPACE, resource_version=version, timeout_seconds=1))
    assert gone.value.status == 410
