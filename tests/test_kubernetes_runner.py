"""The Kubernetes runner's controller (engine/runners/kubernetes.py) against a local FAKE API
server (tests/kube_fake), because no cluster can run here: its Jobs' containers are real
`leviathan attempt --remote` processes, the remote a real bare repository served by `git
daemon` on 127.0.0.1, the controller a real run in a clone of it, and the client the official
`kubernetes` package. What is fake is the cluster's scheduling: the kubelet runs the container
as a local process, and evictions, deadlines and deletions happen when a test says so. The
same run against a real cluster: tests/test_kubernetes_cluster.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import git
from engine_fixtures import wait_until
from remote_fixtures import NAMESPACE, Remote, daemon, kube_remote, own_task, status  # noqa: F401 - a fixture

from leviathan_local.engine.halt import HaltReason
from leviathan_local.engine.runner import RunOptions, RunReport, run
from leviathan_local.errors import ConfigError, LeviathanError
from leviathan_local.events import read_events

pytest.importorskip("kubernetes")
from kube_fake import FakeCluster  # noqa: E402 - only with the client installed


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCluster]:
    with FakeCluster() as fake:
        fake.grace_seconds = 10
        monkeypatch.setenv("KUBECONFIG", str(fake.write_kubeconfig(tmp_path / "kubeconfig")))
        yield fake


def hanging_green(marker: Path) -> str:
    """A green phase that says it started (its process group in ``marker``), then hangs."""
    return (f"python -c 'import os, time; open(\"{marker}.tmp\", \"w\").write(str(os.getpgid(0))); "
            f"os.rename(\"{marker}.tmp\", \"{marker}\"); time.sleep(120)'")


class Background:
    """A run in a thread, as the app runs one: the test acts on the cluster meanwhile."""

    def __init__(self, remote: Remote, options: RunOptions) -> None:
        self.stop = threading.Event()
        self.report: RunReport | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(remote, options))
        self.thread.start()

    def _run(self, remote: Remote, options: RunOptions) -> None:
        try:
            self.report = run(remote.controller, options, self.stop)
        except BaseException as error:  # noqa: BLE001 - raised in the test's thread by `join`
            self.error = error

    def join(self) -> RunReport:
        self.thread.join(120)
        assert not self.thread.is_alive(), "the run did not end"
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report


def end_agent(marker: Path) -> None:
    """The hanging agent's group: its worker was killed around it, so it is the test's to end."""
    if marker.exists():
        try:
            os.killpg(int(marker.read_text()), signal.SIGKILL)
        except ProcessLookupError:
            pass


def deleted(cluster: FakeCluster) -> list[str]:
    """The Jobs the controller deleted (not the test's own `vanish`)."""
    return [deletion.name for deletion in cluster.deleted_jobs if deletion.by == "api"]


def only_job(cluster: FakeCluster) -> str:
    cluster.wait_for_jobs(1)
    [job] = cluster.jobs_created
    return str(job["metadata"]["name"])


def mid_green(tmp_path: Path, daemon: tuple[Path, str], cluster: FakeCluster,
              act: Callable[[str, Background], None]) -> tuple[Remote, RunReport, str]:
    """A one-task run in the background whose agent hangs in green; ``act`` (given the Job's name
    and the run) once the agent is there; (the remote, the run's report, the Job's name)."""
    marker = tmp_path / "agent.pgid"
    remote = kube_remote(tmp_path, daemon, own_task("one", green=hanging_green(marker)))
    background = Background(remote, RunOptions(max_tasks=1))
    try:
        job = only_job(cluster)
        wait_until(marker.exists, "the agent's green phase to start")
        act(job, background)
        return remote, background.join(), job
    finally:
        end_agent(marker)


def test_fake_api_server_jobs_run_attempts_side_by_side_and_bring_each_to_review(
        tmp_path: Path, daemon: tuple[Path, str], cluster: FakeCluster) -> None:
    names = ("one", "two", "three")
    remote = kube_remote(tmp_path, daemon, "".join(own_task(name) for name in names), running=2)
    before = remote.refs()

    report = run(remote.controller, RunOptions(max_tasks=3))

    assert [result.outcome for result in report.attempts] == ["succeeded"] * 3, [r.reason for r in report.attempts]
    assert [status(remote, name) for name in names] == [("review", 0)] * 3
    # max_running_attempts bounds the Jobs; each was deleted once it had ended.
    assert len(cluster.jobs_created) == 3 and 1 <= cluster.max_running <= 2
    created = [job["metadata"]["name"] for job in cluster.jobs_created]
    assert sorted(deleted(cluster)) == sorted(created)
    assert all(job["metadata"]["namespace"] == NAMESPACE for job in cluster.jobs_created)
    # Nothing but each attempt's branch and record on the remote.
    attempt_ids = [result.attempt_id for result in report.attempts]
    assert set(remote.refs()) - set(before) == {
        *(f"refs/heads/{result.branch}" for result in report.attempts),
        *(f"refs/leviathan/attempts/{attempt_id}" for attempt_id in attempt_ids)}
    for result, job in zip(report.attempts, cluster.jobs_created):
        started = next(e for e in read_events(remote.controller, result.task_id) if e.kind == "attempt.started")
        assert started.data["job"] in created and started.data["namespace"] == NAMESPACE
        # The pod's log was streamed into the attempt's log, which holds the record's log whole.
        log = (remote.controller.state_dir / "attempts" / f"{result.attempt_id}.log").read_bytes()
        assert f"[leviathan] Job {started.data['job']}, pod ".encode() in log
        recorded = git(remote.controller.root, "show", f"refs/leviathan/attempts/{result.attempt_id}:attempt.log")
        assert recorded and recorded.encode() in log
        assert b"the stream above is not all of it" not in log  # the stream held it whole, live
        assert "--stream-log" in job["spec"]["template"]["spec"]["containers"][0]["command"]


def test_fake_api_server_an_evicted_pod_interrupts_the_attempt_not_counted(
        tmp_path: Path, daemon: tuple[Path, str], cluster: FakeCluster) -> None:
    remote, report, job = mid_green(tmp_path, daemon, cluster, lambda job, _: cluster.evict(job))
    [result] = report.attempts
    assert result.outcome == "interrupted" and "evicted" in result.reason, result.reason
    assert status(remote, "one") == ("ready", 0)
    assert report.halt_reason is HaltReason.SHUTDOWN_REQUESTED
    assert job in deleted(cluster)  # the controller's cleanup: the fake keeps an evicted Job


def test_fake_api_server_a_job_deleted_by_someone_else_interrupts_the_attempt(
        tmp_path: Path, daemon: tuple[Path, str], cluster: FakeCluster) -> None:
    remote, report, job = mid_green(tmp_path, daemon, cluster, lambda job, _: cluster.vanish(job))
    [result] = report.attempts
    assert result.outcome == "interrupted", result.reason
    assert status(remote, "one") == ("ready", 0)


def test_fake_api_server_a_job_past_its_deadline_is_a_counted_failure(
        tmp_path: Path, daemon: tuple[Path, str], cluster: FakeCluster) -> None:
    # The worker is told to stop: its record says interrupted.
    remote, report, job = mid_green(tmp_path, daemon, cluster, lambda job, _: cluster.pass_deadline(job))
    [result] = report.attempts
    assert result.outcome == "failed" and "deadline" in result.reason, result.reason
    assert status(remote, "one") == ("ready", 1)  # counted, as a local attempt's timeout is
    failed = [e for e in read_events(remote.controller, "one") if e.kind == "attempt.failed"][-1]
    assert failed.data["phase"] == "remote" and "activeDeadlineSeconds" in failed.data["reason"]
    assert job in deleted(cluster)


def test_fake_api_server_a_missing_secret_fails_the_environment_and_ends_the_job(
        tmp_path: Path, daemon: tuple[Path, str], cluster: FakeCluster) -> None:
    remote = kube_remote(tmp_path, daemon, own_task("one"),
                         runner_extra="  secret_env:\n    - {name: AGENT_TOKEN, secret: agent-token, key: token}\n")
    report = run(remote.controller, RunOptions(max_tasks=1))
    [result] = report.attempts
    assert result.outcome == "failed" and "CreateContainerConfigError" in result.reason, result.reason
    assert status(remote, "one") == ("ready", 0)  # the cluster's setup failed, not the agent
    failed = [e for e in read_events(remote.controller, "one") if e.kind == "attempt.failed"][-1]
    assert failed.data["counted"] is False and 'secret "agent-token" not found' in failed.data["reason"]
    assert cluster.max_running == 0  # no container ever ran
    assert deleted(cluster) == [job["metadata"]["name"] for job in cluster.jobs_created]


def test_fake_api_server_a_secret_reaches_the_container_as_its_environment(
        tmp_path: Path, daemon: tuple[Path, str], cluster: FakeCluster) -> None:
    seen = tmp_path / "token.seen"
    cluster.secrets[(NAMESPACE, "agent-token")] = {"token": "s3cret"}
    remote = kube_remote(tmp_path, daemon, own_task("one", green=f"echo \"$AGENT_TOKEN\" > {seen} && "
                                                    "printf 'def one():\\n    return 1\\n' > one.py"),
                         runner_extra="  secret_env:\n    - {name: AGENT_TOKEN, secret: agent-token, key: token}\n")
    [result] = run(remote.controller, RunOptions(max_tasks=1)).attempts
    assert result.outcome == "succeeded", result.reason
    assert seen.read_text() == "s3cret\n"
    assert "s3cret" not in (remote.controller.root / ".leviathan" / "policy.yaml").read_text()


def test_fake_api_server_stopping_the_run_deletes_its_job_and_keeps_the_record(
        tmp_path: Path, daemon: tuple[Path, str], cluster: FakeCluster) -> None:
    # Ctrl-C, or `s` in the Run tab.
    remote, report, job = mid_green(tmp_path, daemon, cluster, lambda _, run_: run_.stop.set())
    [result] = report.attempts
    assert result.outcome == "interrupted", result.reason
    assert status(remote, "one") == ("ready", 0)
    assert job in deleted(cluster)
    # The worker, told to stop, pushed its record before the controller applied the result: the
    # result is the record's (the agent's phase, stopped), not "no record".
    assert result.reason == "green: shutdown requested", result.reason
    assert f"refs/leviathan/attempts/{result.attempt_id}" in remote.refs()
    record = json.loads(git(remote.controller.root, "show", f"refs/leviathan/attempts/{result.attempt_id}:attempt.json"))
    assert record["outcome"] == "interrupted"


def kill_controller_mid_green(remote: Remote, cluster: FakeCluster, marker: Path) -> str:
    """`leviathan run` as its own process, SIGKILLed once its Job's agent has written ``marker``
    in green: the controller dies, its Job runs on. The Job's name."""
    controller = subprocess.Popen([sys.executable, "-m", "leviathan_local", "--repo", str(remote.controller.root),
                                   "run", "--max-tasks", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  start_new_session=True, env=os.environ.copy())
    try:
        job = only_job(cluster)
        wait_until(marker.exists, "the agent's green phase to start")
        return job
    finally:
        os.killpg(controller.pid, signal.SIGKILL)
        controller.communicate()


def test_fake_api_server_the_next_run_applies_what_a_dead_controllers_job_pushed(
        tmp_path: Path, daemon: tuple[Path, str], cluster: FakeCluster) -> None:
    go = tmp_path / "go"
    marker = tmp_path / "agent.pgid"
    wait_for_go = (f"python -c 'import os, time; open(\"{marker}\", \"w\").write(str(os.getpgid(0)))' && "
                   f"while [ ! -e {go} ]; do sleep 0.05; done && printf 'def one():\\n    return 1\\n' > one.py")
    remote = kube_remote(tmp_path, daemon, own_task("one", green=wait_for_go))
    job = kill_controller_mid_green(remote, cluster, marker)
    go.touch()
    cluster.wait_for_pod_phase(job, "Succeeded", timeout=60)
    assert status(remote, "one") == ("doing", 0)

    report = run(remote.controller, RunOptions(max_tasks=1))

    assert status(remote, "one") == ("review", 0)
    assert any("lost its controller" in note for note in report.notes), report.notes
    assert any("review" in note for note in report.notes), report.notes
    assert job in deleted(cluster)
    assert report.attempts == []  # nothing left to attempt: the one task waits for review


def test_a_kubernetes_run_without_a_cluster_configuration_is_refused(
        tmp_path: Path, daemon: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    remote = kube_remote(tmp_path, daemon, own_task("one"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ConfigError) as refused:
        run(remote.controller, RunOptions(max_tasks=1))
    assert "no Kubernetes configuration found" in refused.value.message and "KUBECONFIG" in str(refused.value.hint)
    assert not (remote.controller.state_dir / "events.jsonl").exists()  # nothing written, nothing logged
    assert status(remote, "one") == ("ready", 0)


def test_a_kubernetes_run_without_the_client_says_how_to_install_it(
        tmp_path: Path, daemon: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    remote = kube_remote(tmp_path, daemon, own_task("one"))
    monkeypatch.setitem(sys.modules, "kubernetes", None)  # as if it were not installed
    with pytest.raises(ConfigError) as refused:
        run(remote.controller, RunOptions(max_tasks=1))
    assert "pip install 'leviathan-local[kubernetes]'" in str(refused.value.hint)


def test_a_kubernetes_run_whose_base_is_not_on_the_remote_is_refused(
        tmp_path: Path, daemon: tuple[Path, str], cluster: FakeCluster) -> None:
    remote = kube_remote(tmp_path, daemon, own_task("one"))
    root = remote.controller.root
    (root / "notes.txt").write_text("not pushed\n")
    git(root, "add", "notes.txt")
    git(root, "commit", "-qm", "a local commit")
    with pytest.raises(LeviathanError) as refused:
        run(remote.controller, RunOptions(max_tasks=1))
    assert refused.value.exit_code == 2 and "has no branch holding main's commit" in refused.value.message
    assert refused.value.hint == f"push it first: git push {remote.url} main"
    assert cluster.jobs_created == []


def test_fake_api_server_an_interrupted_watch_ends_at_once_not_at_its_window(cluster: FakeCluster) -> None:
    """An attempt that has ended interrupts its watches; closing the response instead waited
    for the reader's lock, which it held until the window's end (60 s per attempt, found by
    these tests)."""
    from leviathan_local.config.policy import RunnerSettings
    from leviathan_local.engine.runners.kubernetes_api import connect

    api = connect(RunnerSettings(kind="kubernetes", namespace=NAMESPACE))
    stream = api.watch_jobs("nothing-happens", None, seconds=300)
    reader = threading.Thread(target=lambda: list(stream.lines()), daemon=True)
    reader.start()
    stream.interrupt()
    reader.join(30)  # a generous bound on a loaded machine, far below the window
    assert not reader.is_alive()
    stream.close()
    api.close()


def test_fake_api_server_the_next_job_is_told_the_previous_failure_and_feedback(
        tmp_path: Path, daemon: tuple[Path, str], cluster: FakeCluster) -> None:
    """The worker's clone has no log of the task's earlier attempts: the controller passes what
    its main checkout knows (the last counted failure, its test output, the spend, a reviewer's
    feedback), so the Job's agent is prompted as a local attempt's would be."""
    tried, prompt = tmp_path / "tried", tmp_path / "prompt.seen"
    green = (f"if [ -e {tried} ]; then cp \"$LEVIATHAN_PROMPT_FILE\" {prompt} && "
             f"printf 'def one():\\n    return 1\\n' > one.py; "
             f"else touch {tried} && printf 'def one():\\n    return 0\\n' > one.py; fi")
    remote = kube_remote(tmp_path, daemon, own_task("one", green=green))
    # A reviewer's feedback written in the main checkout, not committed: the clone cannot see it.
    backlog = remote.controller.root / ".leviathan" / "backlog.yaml"
    backlog.write_text(backlog.read_text().replace("    status: ready\n",
                                                   "    status: ready\n    review_feedback: keep it short\n"))

    report = run(remote.controller, RunOptions(max_tasks=2))

    assert [result.outcome for result in report.attempts] == ["failed", "succeeded"]
    first = report.attempts[0].attempt_id
    told = prompt.read_text()
    assert f"## The previous attempt failed\n{first} failed in green" in told
    assert "AssertionError" in told  # its test output, read from the controller's copy of its log
    assert "## A reviewer rejected the previous attempt\nkeep it short" in told
    env = {item["name"]: item.get("value") for item in
           cluster.jobs_created[1]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert json.loads(env["LEVIATHAN_CONTROLLER_CONTEXT"])["previous_failure"]["attempt_id"] == first


def test_fake_api_server_the_next_run_ends_a_dead_controllers_job_still_running(
        tmp_path: Path, daemon: tuple[Path, str], cluster: FakeCluster) -> None:
    marker = tmp_path / "agent.pgid"
    hang_once = f"if [ -e {marker} ]; then printf 'def one():\\n    return 1\\n' > one.py; else {hanging_green(marker)}; fi"
    remote = kube_remote(tmp_path, daemon, own_task("one", green=hang_once))
    try:
        job = kill_controller_mid_green(remote, cluster, marker)
        report = run(remote.controller, RunOptions(max_tasks=1))  # recovers, then tries the task again
    finally:
        end_agent(marker)
    assert any(f"deleted Job {job}: it was still running" in note for note in report.notes), report.notes
    assert cluster.job(job) is None
    # Its worker, told to stop, pushed the interrupted attempt's record, which recovery applied.
    attempt_id = next(e for e in read_events(remote.controller, "one") if e.kind == "attempt.started").data["attempt"]
    assert f"refs/leviathan/attempts/{attempt_id}" in remote.refs()
    failed = next(e for e in read_events(remote.controller, "one") if e.kind == "attempt.failed")
    assert failed.data["attempt"] == attempt_id and failed.data["outcome"] == "interrupted"
    # Not counted: the run's own attempt then reached review as the task's first.
    assert [result.outcome for result in report.attempts] == ["succeeded"]
    assert status(remote, "one") == ("review", 0)
