"""policy.yaml's `runner:` section: the local default, a kubernetes runner, and every way to get
it wrong named by file, line and field (credentials refused, pointed at a Secret)."""

from __future__ import annotations

import pytest
from conftest import write
from test_policy import policy_problems

from leviathan_local.config.policy import RunnerResources, RunnerSettings, SecretEnv
from leviathan_local.config.policy_load import load_policy
from leviathan_local.git.repo import RepoPaths

KUBERNETES = """\
runner:
  kind: kubernetes
  image: registry.example.com/leviathan-agent:1
  remote: https://git.example.com/team/app.git
  namespace: leviathan
  service_account: leviathan-attempt
  resources: {requests: {cpu: 500m, memory: 2Gi}, limits: {cpu: 2, memory: 4Gi}}
  secret_env:
    - {name: ANTHROPIC_API_KEY, secret: leviathan-agent, key: anthropic-api-key}
  ttl_seconds: 600
"""


def test_the_runner_is_local_by_default(repo_paths: RepoPaths) -> None:
    assert load_policy(repo_paths).runner == RunnerSettings(kind="local")
    write(repo_paths.policy, "runner: {kind: local}\n")
    assert load_policy(repo_paths).runner.kind == "local"


def test_a_kubernetes_runner_loads_as_typed_values(repo_paths: RepoPaths) -> None:
    write(repo_paths.policy, KUBERNETES)
    assert load_policy(repo_paths).runner == RunnerSettings(
        kind="kubernetes", image="registry.example.com/leviathan-agent:1",
        remote="https://git.example.com/team/app.git", namespace="leviathan", service_account="leviathan-attempt",
        resources=RunnerResources(requests={"cpu": "500m", "memory": "2Gi"}, limits={"cpu": "2", "memory": "4Gi"}),
        secret_env=(SecretEnv("ANTHROPIC_API_KEY", "leviathan-agent", "anthropic-api-key"),), ttl_seconds=600)


def test_kubernetes_needs_an_image_and_a_remote(repo_paths: RepoPaths) -> None:
    message = policy_problems(repo_paths, "limits: {}\nrunner:\n  kind: kubernetes\n")
    assert ".leviathan/policy.yaml:3:3: runner: kind kubernetes needs `image`" in message
    assert ".leviathan/policy.yaml:3:3: runner: kind kubernetes needs `remote`" in message


def test_an_unknown_kind_and_unknown_keys_are_named(repo_paths: RepoPaths) -> None:
    message = policy_problems(repo_paths, "runner:\n  kind: slurm\n  imag: x\n")
    assert ":2:9: runner.kind: expected one of local, kubernetes, found 'slurm'" in message
    assert ":3:3: runner.imag: unknown key (did you mean `image`?)" in message


@pytest.mark.parametrize("line, field", [
    ("  token: ghp_0123456789", "runner.token"),
    ("  password: hunter2", "runner.password"),
    ("  secret_env: [{name: GIT_TOKEN, secret: git, key: token, value: ghp_0123}]", "runner.secret_env[0].value"),
])
def test_a_credential_written_inline_is_refused_with_a_pointer_to_secrets(
        repo_paths: RepoPaths, line: str, field: str) -> None:
    message = policy_problems(repo_paths, KUBERNETES + line + "\n")
    assert ":11:" in message and f"{field}: a credential is never written in policy.yaml" in message
    assert "Kubernetes Secret" in message and "secret_env" in message


def test_a_token_in_the_remote_url_is_refused(repo_paths: RepoPaths) -> None:
    text = KUBERNETES.replace("https://git.example.com", "https://bot:ghp_0123@git.example.com")
    message = policy_problems(repo_paths, text)
    assert ":4:11: runner.remote: the URL holds a password or token" in message


def test_secret_env_items_and_kubernetes_names_are_checked(repo_paths: RepoPaths) -> None:
    message = policy_problems(repo_paths, """\
runner:
  kind: kubernetes
  image: img
  remote: /srv/app.git
  namespace: Team_A
  resources: {requests: {memory: lots}, limits: [cpu]}
  secret_env:
    - {name: API_KEY, secret: keys}
    - {name: 9LIVES, secret: Keys, key: "a/b"}
    - {name: HOME, secret: keys, key: home}
  ttl_seconds: -1
""")
    for fragment in [
        ":5:14: runner.namespace: expected a namespace's name",
        ":6:34: runner.resources.requests.memory: expected a Kubernetes quantity such as 500m, 2, 1Gi, found 'lots'",
        "runner.resources.limits: expected a mapping of resource names to quantities",
        ":8:7: runner.secret_env[0]: no `key`",
        "runner.secret_env[1].name: expected an environment variable's name",
        "runner.secret_env[1].secret: expected a Secret's name (DNS-1123), found 'Keys'",
        "runner.secret_env[1].key: expected a Secret's key",
        "runner.secret_env[2].name: the Job sets HOME itself",
        "runner.ttl_seconds: expected an integer >= 0, found -1",
    ]:
        assert fragment in message, (fragment, message)
