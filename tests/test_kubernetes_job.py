"""The Job the kubernetes runner builds per attempt: validated against the Kubernetes OpenAPI
schema (kubernetes-validate's bundled schemas, strict: no unknown field), its names within the
label and DNS rules, credentials only by reference, and deploy/'s files in step with it.
No cluster: these are pure functions."""

from __future__ import annotations

import re
import runpy
import tomllib
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from leviathan_local.config.policy import RunnerResources, RunnerSettings, SecretEnv
from leviathan_local.engine.remote.record import AttemptRefs
from leviathan_local.engine.runners.kubernetes_job import (
    CLONE_AND_PUSH_MARGIN_SECONDS, HOME, USER_ID, attempt_job, job_name, label_value,
)

PROJECT = Path(__file__).parent.parent
DEPLOY = PROJECT / "deploy"
BASE = "3f2c9a1e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39"
RUNNER = RunnerSettings(
    kind="kubernetes", image="registry.example.com/leviathan-agent:1", remote="https://git.example.com/team/app.git",
    namespace="agents", service_account="attempts", ttl_seconds=120,
    resources=RunnerResources(requests={"cpu": "500m"}, limits={"memory": "4Gi"}),
    secret_env=(SecretEnv("ANTHROPIC_API_KEY", "agent-keys", "anthropic"), SecretEnv("LEVIATHAN_GIT_TOKEN", "git", "t")))
LONG_TASK = "Refactor_the.Payment-Gateway_" + "x" * 90 + "_Z"  # 121 characters: legal as a task id
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
# The oldest Kubernetes the runner supports, and the newest schema kubernetes-validate bundles.
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())


def validate(job: dict, version: str) -> None:
    try:
        kubernetes_validate.validate(job, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        pytest.fail(f"Kubernetes {version} refuses the Job: {str(error).splitlines()[0]}")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("runner, refs", [
    (RUNNER, AttemptRefs("add-login", "1a2b3c")),
    (RunnerSettings(kind="kubernetes", image="img", remote="/srv/app.git"), AttemptRefs(LONG_TASK, "ff00ee")),
], ids=["every-field", "bare-long-task"])
def test_the_job_validates_against_the_kubernetes_schema(runner: RunnerSettings, refs: AttemptRefs,
                                                         version: str) -> None:
    validate(attempt_job(runner, refs, BASE, attempt_timeout_seconds=900), version)


def test_the_schema_check_can_fail() -> None:
    job = attempt_job(RUNNER, AttemptRefs("add-login", "1a2b3c"), BASE, 900)
    job["spec"]["template"]["spec"]["containers"][0]["env"][2]["valueFrom"]["secretKeyRef"]["secret"] = "x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, VERSIONS[0], strict=True)


def test_the_job_runs_the_remote_attempt_once_within_the_attempts_deadline() -> None:
    job = attempt_job(RUNNER, AttemptRefs("add-login", "1a2b3c"), BASE, attempt_timeout_seconds=900)
    spec, pod = job["spec"], job["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["command"] == ["leviathan", "attempt", "add-login", "--remote", RUNNER.remote, "--base", BASE,
                                    "--attempt-id", "attempt-add-login-1a2b3c", "--stream-log"]
    with_budget = attempt_job(RUNNER, AttemptRefs("add-login", "1a2b3c"), BASE, 900, budget_left=1.25)["spec"]["template"]["spec"]["containers"][0]
    assert with_budget["command"][-2:] == ["--budget-left", "1.25"]
    assert (job["apiVersion"], job["kind"], job["metadata"]["namespace"]) == ("batch/v1", "Job", "agents")
    assert (spec["backoffLimit"], pod["restartPolicy"]) == (0, "Never")
    assert spec["activeDeadlineSeconds"] == 900 + CLONE_AND_PUSH_MARGIN_SECONDS
    assert spec["ttlSecondsAfterFinished"] == 120
    assert pod["serviceAccountName"] == "attempts" and pod["automountServiceAccountToken"] is False
    assert container["resources"] == {"requests": {"cpu": "500m"}, "limits": {"memory": "4Gi"}}


def test_credentials_come_only_from_secrets() -> None:
    [container] = attempt_job(RUNNER, AttemptRefs("add-login", "1a2b3c"), BASE, 900)["spec"]["template"]["spec"][
        "containers"]
    by_name = {item["name"]: item for item in container["env"]}
    assert by_name["ANTHROPIC_API_KEY"] == {"name": "ANTHROPIC_API_KEY",
                                            "valueFrom": {"secretKeyRef": {"name": "agent-keys", "key": "anthropic"}}}
    assert {name for name, item in by_name.items() if "value" in item} == {"HOME", "XDG_CACHE_HOME"}


def test_the_pod_runs_as_non_root_with_a_writable_home() -> None:
    pod = attempt_job(RUNNER, AttemptRefs("add-login", "1a2b3c"), BASE, 900)["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == USER_ID
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}}
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert "emptyDir" in volumes[mounts[HOME]] and "emptyDir" in volumes[mounts["/tmp"]]


def test_names_and_labels_keep_the_kubernetes_rules_and_stay_unique() -> None:
    ids = [f"attempt-{LONG_TASK}-1a2b3c", f"attempt-{LONG_TASK}-1a2b3d", "attempt-A_b-1a2b3c", "attempt-a-b-1a2b3c",
           "attempt-add-login-1a2b3c"]
    names = [job_name(attempt_id) for attempt_id in ids]
    assert all(len(name) <= 63 and DNS_LABEL.fullmatch(name) for name in names), names
    assert len(set(names)) == len(names)
    values = [label_value(value) for value in [*ids, LONG_TASK, "_edge_", "x" * 64]]
    assert all(len(value) <= 63 and LABEL_VALUE.fullmatch(value) for value in values), values
    assert len(set(values)) == len(values)
    assert label_value("add-login") == "add-login"  # a value that is a label already stays readable


def test_the_job_labels_name_the_task_and_attempt_and_annotate_them_exactly() -> None:
    job = attempt_job(RUNNER, AttemptRefs(LONG_TASK, "1a2b3c"), BASE, 900)
    labels, annotations = job["metadata"]["labels"], job["metadata"]["annotations"]
    assert labels["app.kubernetes.io/name"] == "leviathan"
    assert (labels["leviathan/task"], labels["leviathan/attempt"]) == (
        label_value(LONG_TASK), label_value(f"attempt-{LONG_TASK}-1a2b3c"))
    assert (annotations["leviathan/task"], annotations["leviathan/attempt"]) == (LONG_TASK,
                                                                               f"attempt-{LONG_TASK}-1a2b3c")
    assert job["spec"]["template"]["metadata"]["labels"] == labels  # the pods are found by the same labels
    assert job["spec"]["template"]["metadata"]["labels"] is not labels


def test_a_local_runner_builds_no_job() -> None:
    with pytest.raises(ValueError):
        attempt_job(RunnerSettings(), AttemptRefs("add-login", "1a2b3c"), BASE, 900)


def test_the_sample_job_is_the_builders_output() -> None:
    sample = runpy.run_path(str(DEPLOY / "make_job_sample.py"))
    assert (DEPLOY / "job.sample.yaml").read_text(encoding="utf-8") == sample["sample_text"](), \
        "deploy/job.sample.yaml is stale: run `python deploy/make_job_sample.py`"


def test_the_image_runs_the_console_script_as_the_jobs_user() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    scripts = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    job = attempt_job(RUNNER, AttemptRefs("add-login", "1a2b3c"), BASE, 900)
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["command"][0] in scripts
    assert f'ENTRYPOINT ["{container["command"][0]}"]' in dockerfile
    assert f"USER {USER_ID}:{USER_ID}" in dockerfile and f"--uid {USER_ID}" in dockerfile
    assert f"HOME={HOME}" in dockerfile and "COPY deploy/git-askpass" in dockerfile


@pytest.mark.parametrize("version", VERSIONS)
def test_the_controllers_sample_rbac_is_valid_and_grants_what_the_controller_calls(version: str) -> None:
    documents = list(yaml.safe_load_all((DEPLOY / "controller-rbac.yaml").read_text(encoding="utf-8")))
    for document in documents:
        validate(document, version)
    [role] = [document for document in documents if document["kind"] == "Role"]
    granted = {(rule["apiGroups"][0], resource, verb) for rule in role["rules"]
               for resource in rule["resources"] for verb in rule["verbs"]}
    # engine/runners/kubernetes_api.py's calls, each with its API group, resource and verb.
    called = {("batch", "jobs", "create"), ("batch", "jobs", "get"), ("batch", "jobs", "watch"),
              ("batch", "jobs", "delete"), ("", "pods", "list"), ("", "pods", "watch"), ("", "pods/log", "get")}
    assert called <= granted
