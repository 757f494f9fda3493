"""policy.yaml's `runner:` section: its checks (Kubernetes names, quantities, credentials only
from Secrets) and its typed value, RunnerSettings."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from leviathan_local.config import yamlio
from leviathan_local.config.policy import RunnerResources, RunnerSettings, SecretEnv
from leviathan_local.config.schema import (
    Checker, Problem, add_problem, check_mapping, list_of, mapping, matching, number, one_of, refused, text,
)

RUNNER_KINDS = ("local", "kubernetes")
# What Kubernetes accepts (k8s.io/apimachinery validation): a DNS-1123 label (a namespace), a
# DNS-1123 subdomain (a Secret, a service account), a C identifier (an environment variable),
# a Secret's key, a resource quantity ("500m", "2Gi", "1.5").
DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
DNS_SUBDOMAIN = r"(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
SECRET_KEY = r"[-._a-zA-Z0-9]{1,253}"
QUANTITY = re.compile(r"[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?")
# Names the Job sets itself (engine/runners/kubernetes_job.py): a secret_env item may not shadow them.
RESERVED_ENV = ("HOME", "XDG_CACHE_HOME", "LEVIATHAN_CONTROLLER_CONTEXT")

_SECRET_HINT = ("a credential is never written in policy.yaml (it is in the repository): put it in a "
                "Kubernetes Secret and name it, `secret_env: [{name: ENV_NAME, secret: SECRET_NAME, key: KEY}]`")
_CREDENTIAL_KEYS = ("token", "password", "api_key", "apikey", "secret_value", "value", "credentials")
_REFUSED = {key: refused(_SECRET_HINT) for key in _CREDENTIAL_KEYS}


def _quantities(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
    """resource name -> quantity, as a container's requests or limits."""
    if not isinstance(node, yamlio.MappingNode):
        add_problem(problems, node, field, "expected a mapping of resource names to quantities (cpu: 500m)")
        return
    for name, _, value_node in yamlio.mapping_pairs(node):
        value = yamlio.construct(value_node)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not QUANTITY.fullmatch(str(value)):
            add_problem(problems, value_node, f"{field}.{name}",
                        f"expected a Kubernetes quantity such as 500m, 2, 1Gi, found {value!r}")


def _secret_env_name(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
    matching(ENV_NAME, "an environment variable's name (letters, digits, _)")(node, field, problems)
    if yamlio.construct(node) in RESERVED_ENV:
        add_problem(problems, node, field, f"the Job sets {yamlio.construct(node)} itself; choose another name")


def _remote_url(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
    """A git URL with no password in it (https://user:TOKEN@host is refused)."""
    text(node, field, problems)
    value = yamlio.construct(node)
    if isinstance(value, str) and "://" in value and urlsplit(value).password:
        add_problem(problems, node, field, "the URL holds a password or token: " + _SECRET_HINT
                    + " and let a git credential helper or GIT_ASKPASS read it")


SECRET_ENV_SPEC = {"name": _secret_env_name, "secret": matching(DNS_SUBDOMAIN, "a Secret's name (DNS-1123)"),
                   "key": matching(SECRET_KEY, "a Secret's key (letters, digits, -, _, .)"), **_REFUSED}

RUNNER_SPEC: dict[str, Checker] = {
    "kind": one_of(*RUNNER_KINDS),
    "image": text,
    "remote": _remote_url,
    "namespace": matching(DNS_LABEL, "a namespace's name (lowercase letters, digits, -; at most 63)"),
    "context": text,
    "service_account": matching(DNS_SUBDOMAIN, "a service account's name (DNS-1123)"),
    "resources": mapping({"requests": _quantities, "limits": _quantities}),
    "secret_env": list_of(SECRET_ENV_SPEC, required=("name", "secret", "key")),
    "ttl_seconds": number(0),
    **_REFUSED,
}


def check_runner(node: yamlio.Node, field: str, problems: list[Problem]) -> None:
    """The section's keys, then what the kubernetes kind needs besides."""
    check_mapping(node, RUNNER_SPEC, field, problems)
    value = yamlio.construct(node)
    if not isinstance(value, dict) or value.get("kind") != "kubernetes":
        return
    for key, example in (("image", "registry.example.com/leviathan-agent:1"),
                         ("remote", "https://git.example.com/team/app.git")):
        if key not in value:
            add_problem(problems, node, field, f"kind kubernetes needs `{key}` (e.g. `{key}: {example}`)")


def runner_settings(values: dict[str, Any] | None) -> RunnerSettings:
    values = dict(values or {})
    resources = values.pop("resources", None) or {}
    secret_env = tuple(SecretEnv(item["name"], item["secret"], item["key"]) for item in values.pop("secret_env", ()))
    return RunnerSettings(**values, secret_env=secret_env, resources=RunnerResources(
        requests={name: str(value) for name, value in (resources.get("requests") or {}).items()},
        limits={name: str(value) for name, value in (resources.get("limits") or {}).items()}))
