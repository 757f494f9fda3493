from __future__ import annotations

import pytest
from conftest import write

from leviathan_local.config.contract import load_contract
from leviathan_local.config.policy import Policy
from leviathan_local.config.policy_load import load_policy
from leviathan_local.errors import EXIT_BAD_INPUT, ConfigError
from leviathan_local.git.repo import RepoPaths

DESIGN_EXAMPLE = """\
scopes:                      # optional; a task's `scope` names one
  docs: {allowed_paths: [docs/], forbidden_patterns: [], tdd: false}
forbidden_patterns: [".github/**", "**/*.pem"]
invariants:
  - {name: Tests pass, check: "python -m pytest -q"}
tdd: {test_command: "python -m pytest -q", test_globs: ["tests/**", "**/test_*.py", "**/*_test.py"]}
limits: {max_attempts_per_task: 2, circuit_breaker_failures: 2, attempt_timeout_seconds: 900,
         max_running_attempts: 1, max_open_reviews: 1}
escalation: {effort_at_least: 8, keywords: [auth, crypto, secret, migration], paths: []}
wsjf: {aging_per_day: 0.1, aging_cap: 2.0, slice_threshold: 5}
agent: {kind: command, command: "claude -p --permission-mode acceptEdits"}
discovery: {tags: [TODO, FIXME, HACK, XXX, BUG], exclude: [], on_run: false}
reports: {commit: false}
"""

SEED_004 = """\
scopes:
  dependencies:
    allowed_paths:
      - requirements.txt
      - package.json
      - Gemfile
    forbidden_patterns:
      - "src/**"
      - "tests/**"
  observability:
    allowed_paths:
      - "src/**/*.py"
    forbidden_patterns:
      - "tests/**"
      - "config/**"
invariants:
  - name: "Tests must pass"
    check: "pytest tests/"
  - name: "No secrets in code"
    check: "detect-secrets scan"
"""


def policy_problems(repo_paths: RepoPaths, text: str) -> str:
    write(repo_paths.policy, text)
    with pytest.raises(ConfigError) as caught:
        load_policy(repo_paths)
    assert caught.value.exit_code == EXIT_BAD_INPUT and caught.value.hint
    return caught.value.message


def test_missing_or_empty_policy_gives_the_documented_defaults(repo_paths: RepoPaths) -> None:
    assert load_policy(repo_paths) == Policy()
    write(repo_paths.policy, "# nothing yet\n")
    assert load_policy(repo_paths) == Policy()
    assert Policy().limits.max_attempts_per_task == 2 and Policy().wsjf.aging_cap == 2.0


def test_design_example_loads(repo_paths: RepoPaths) -> None:
    write(repo_paths.policy, DESIGN_EXAMPLE)
    policy = load_policy(repo_paths)
    assert policy.scopes["docs"].tdd is False
    assert policy.forbidden_patterns == (".github/**", "**/*.pem")
    assert policy.invariants[0].check == "python -m pytest -q"
    assert policy.agent.kind == "command"
    assert policy.forbidden_for(policy.scopes["docs"])[-1] == ".leviathan/**"


def test_seed_004_policy_loads(repo_paths: RepoPaths) -> None:
    write(repo_paths.policy, SEED_004)
    policy = load_policy(repo_paths)
    assert policy.scopes["observability"].allowed_paths == ("src/**/*.py",)
    assert [i.name for i in policy.invariants] == ["Tests must pass", "No secrets in code"]


def test_typos_get_did_you_mean_with_position(repo_paths: RepoPaths) -> None:
    message = policy_problems(repo_paths, "limits:\n  max_attempt_per_task: 3\nforbiden_patterns: []\n")
    assert ".leviathan/policy.yaml:2:3: limits.max_attempt_per_task: unknown key (did you mean `max_attempts_per_task`?)" in message
    assert ".leviathan/policy.yaml:3:1: forbiden_patterns: unknown key (did you mean `forbidden_patterns`?)" in message
    assert "2 problems" in message


def test_every_problem_at_once(repo_paths: RepoPaths) -> None:
    message = policy_problems(repo_paths, """\
limits: {max_attempts_per_task: two, attempt_timeout_seconds: 0}
wsjf: {aging_cap: 0.5}
agent: {kind: robot}
forbidden_patterns: [../secrets, /etc/**]
discovery: {on_run: maybe}
scopes: {docs: [docs/]}
""")
    for fragment in [
        ":1:33: limits.max_attempts_per_task: expected an integer >= 1, found 'two'",
        "limits.attempt_timeout_seconds: expected an integer >= 1, found 0",
        "wsjf.aging_cap: expected a number >= 1, found 0.5",
        "agent.kind: expected one of claude, codex, aider, command, recipe, manual, found 'robot'",
        "forbidden_patterns: paths must stay inside the repository",
        "discovery.on_run: expected true or false, found 'maybe'",
        "scopes.docs: expected a mapping of keys, found a list",
    ]:
        assert fragment in message, (fragment, message)


def test_command_agent_needs_a_command(repo_paths: RepoPaths) -> None:
    assert "agent.command is missing" in policy_problems(repo_paths, "agent: {kind: command}\n")


def test_syntax_error_names_line_and_column(repo_paths: RepoPaths) -> None:
    message = policy_problems(repo_paths, "limits:\n  max_attempts_per_task: [1\n")
    assert message.startswith(".leviathan/policy.yaml:") and "YAML syntax error" in message


def test_contract_defaults_and_validation(repo_paths: RepoPaths) -> None:
    assert load_contract(repo_paths).default_branch == "main"
    write(repo_paths.contract, "target_id: my-repo\nname: My Repository\ndefault_branch: trunk\nowner: team\n")
    contract = load_contract(repo_paths)
    assert (contract.target_id, contract.default_branch, contract.owner) == ("my-repo", "trunk", "team")
    write(repo_paths.contract, "target_id: x\ndefault_brnch: main\n")
    with pytest.raises(ConfigError, match=r"contract.yaml:2:1: default_brnch: unknown key \(did you mean `default_branch`\?\)"):
        load_contract(repo_paths)
