"""policy.yaml → Policy, validated (every key optional, unknown keys rejected with a hint)."""

from __future__ import annotations

from typing import Any

from leviathan_local.config.loading import display, load_config
from leviathan_local.config.policy import (
    AgentPrices, AgentSettings, DiscoverySettings, EscalationRules, Invariant, Limits, Policy, ReportSettings, Scope,
    SetupCommand, TddSettings, WsjfSettings,
)
from leviathan_local.config.runner_policy import check_runner, runner_settings
from leviathan_local.config.schema import (
    boolean, command_list, command_template, list_of, mapping, mapping_of, number, one_of, path_list, repo_path, text,
    text_list,
)
from leviathan_local.errors import ConfigError
from leviathan_local.repo_paths import RepoPaths

AGENT_KINDS = ("claude", "codex", "aider", "command", "recipe", "manual")
PRICE_SPEC = {name: number(0, whole=False) for name in AgentPrices.__dataclass_fields__}
SANDBOXES = ("bwrap",)

POLICY_SPEC = {
    "scopes": mapping_of({"allowed_paths": path_list, "forbidden_patterns": path_list, "tdd": boolean}),
    "forbidden_patterns": path_list,
    "invariants": list_of({"name": text, "check": text}),
    "setup": command_list({"name": text, "run": text}, required="run"),
    "tdd": mapping({"test_command": text, "test_globs": path_list, "red_command": command_template("changed_tests"),
                    "junit_xml": repo_path, "reuse_results": boolean}),
    "limits": mapping({name: number(0, whole=False) if name.startswith("max_cost_usd") else number(1)
                       for name in Limits.__dataclass_fields__}),
    "escalation": mapping({"effort_at_least": number(1), "keywords": text_list, "paths": path_list,
                           "types": text_list}),
    "wsjf": mapping({"aging_per_day": number(0, whole=False), "aging_cap": number(1, whole=False),
                     "slice_threshold": number(1)}),
    "agent": mapping({"kind": one_of(*AGENT_KINDS), "command": text, "model": text, "executable": text,
                      "args": text_list, "prices": mapping(PRICE_SPEC), "sandbox": one_of(*SANDBOXES),
                      "sandbox_writable": text_list}),
    "discovery": mapping({"tags": text_list, "exclude": path_list, "on_run": boolean}),
    "reports": mapping({"commit": boolean, "coverage_command": text, "keep": number(1)}),
    "runner": check_runner,
}


def load_policy(paths: RepoPaths) -> Policy:
    """The repository's policy; the documented defaults when policy.yaml is absent or empty."""
    data: dict[str, Any] = load_config(paths, paths.policy, POLICY_SPEC) or {}
    policy = Policy(
        scopes={name: _scope(name, body or {}) for name, body in (data.get("scopes") or {}).items()},
        forbidden_patterns=tuple(data.get("forbidden_patterns") or ()),
        invariants=tuple(Invariant(item.get("name") or item.get("check", ""), item.get("check", ""))
                         for item in data.get("invariants") or ()),
        setup=tuple(_setup_command(item) for item in data.get("setup") or ()),
        tdd=_section(TddSettings, data.get("tdd")),
        limits=_section(Limits, data.get("limits")),
        escalation=_section(EscalationRules, data.get("escalation")),
        wsjf=_section(WsjfSettings, data.get("wsjf")),
        agent=_agent(data.get("agent")),
        discovery=_section(DiscoverySettings, data.get("discovery")),
        reports=_section(ReportSettings, data.get("reports")),
        runner=runner_settings(data.get("runner")),
    )
    _check_consistency(paths, policy, data)
    return policy


def _scope(name: str, body: dict[str, Any]) -> Scope:
    return Scope(name, tuple(body.get("allowed_paths") or ()), tuple(body.get("forbidden_patterns") or ()),
                 bool(body.get("tdd", True)))


def _setup_command(item: str | dict[str, str]) -> SetupCommand:
    """A bare command is its own name in the log and in a failure's reason."""
    if isinstance(item, str):
        return SetupCommand(item, item)
    return SetupCommand(item.get("name") or item["run"], item["run"])


def _agent(values: dict[str, Any] | None) -> AgentSettings:
    values = dict(values or {})
    prices = values.pop("prices", None)
    return _section(AgentSettings, {**values, "prices": _section(AgentPrices, prices) if prices else None})


def _section(kind: type, values: dict[str, Any] | None) -> Any:
    converted = {key: tuple(value) if isinstance(value, list) else value for key, value in (values or {}).items()}
    return kind(**converted)


def _check_consistency(paths: RepoPaths, policy: Policy, data: dict[str, Any]) -> None:
    source = display(paths, paths.policy)
    for number, item in enumerate(data.get("invariants") or ()):
        if not item.get("check"):
            raise ConfigError(f"{source}: invariants[{number}] has no `check` command",
                              hint="each invariant needs `check: <shell command>` that exits 0 when it holds")
    if policy.agent.kind == "command" and not policy.agent.command:
        raise ConfigError(f"{source}: agent.kind is command but agent.command is missing",
                          hint='add e.g. `command: "claude -p --permission-mode acceptEdits"`')
