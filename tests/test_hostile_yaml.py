"""Issue 14, defects 2, 3 and 6: values that crashed or hung a command are bad input (exit 2,
file, line and field, a hint), found in seconds and a bounded memory: a non-list `dependencies`,
integers beyond 4,300 digits, a "billion laughs" (9 levels of 10 aliases)."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write
from test_cli import run_cli

from leviathan_local.config import yamlio

BACKLOG, POLICY, CONTRACT = ".leviathan/backlog.yaml", ".leviathan/policy.yaml", ".leviathan/contract.yaml"
HUGE = "9" * 5000
HUGE_HEX = "0x" + "f" * 4000  # converts, but could never be printed in decimal
MEMORY = 1 << 30  # what a command may use at most here (address space)
SECONDS = 20


def laughs(indent: int, levels: int = 9, width: int = 10) -> str:
    """List items `- &l0 lol`, `- &l1 [*l0 × width]`, … : ``width ** levels`` values written out."""
    pad = " " * indent
    lines = [f"{pad}- &l0 lol\n"]
    lines += [f"{pad}- &l{n} [{', '.join([f'*l{n - 1}'] * width)}]\n" for n in range(1, levels + 1)]
    return "".join(lines)


def bounded(root: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process, with at most MEMORY and SECONDS."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    try:
        return subprocess.run([sys.executable, "-m", "leviathan_local", "--repo", str(root), *command],
                              capture_output=True, text=True, timeout=SECONDS, preexec_fn=limit)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{' '.join(command)}` still running after {SECONDS}s")


def assert_refused(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2 and "Traceback" not in result.stderr, (result.returncode, result.stderr[-2000:])
    assert result.stderr.startswith("error: ") and "\nhint: " in result.stderr, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


TASK = "tasks:\n  - id: a\n    title: A\n    status: ready\n"
LAUGHS = 'the aliases of this document stand for more than 1,000,000 values written out'


@pytest.mark.parametrize("where, files, command", [
    ("a task field", {BACKLOG: TASK + "    notes:\n" + laughs(6)}, "plan"),
    ("acceptance_criteria", {BACKLOG: TASK + "    acceptance_criteria:\n" + laughs(6)}, "plan"),
    ("policy", {BACKLOG: TASK, POLICY: "escalation:\n  keywords:\n" + laughs(4)}, "plan"),
    ("contract", {BACKLOG: TASK, POLICY: "agent: {kind: recipe}\n",
                  CONTRACT: "default_branch: main\n? \n" + laughs(2) + ": x\n"}, "run"),
])
def test_a_billion_laughs_is_refused_in_seconds(git_repo: Path, where: str, files: dict[str, str],
                                                command: str) -> None:
    for name, text in files.items():
        write(git_repo / name, text)
    shown = next(name for name in files if "l9" in files[name])
    assert_refused(bounded(git_repo, command), f"error: {shown}:", LAUGHS)


def test_aliases_within_the_limit_load_and_share_their_value(git_repo: Path, capsys) -> None:
    write(git_repo / BACKLOG, TASK + "    notes:\n" + laughs(6, levels=5))  # 111,110 values added
    code, _, err = run_cli(capsys, "--repo", str(git_repo), "plan", "--json")
    assert code == 0, err
    value = yamlio.construct(yamlio.compose("a: &x [1, {b: 2}]\nc: [*x, *x]\n", "test"))
    assert value["c"][0] is value["a"] and value["c"][1] is value["a"]  # built once, not copied


def test_the_expansion_limit_counts_every_value_an_alias_stands_for() -> None:
    within = "- " + laughs(2, levels=6, width=10)[2:]  # 10 ** 6 values: over the limit
    with pytest.raises(yamlio.LeviathanError) as refused:
        yamlio.compose(within, "doc")
    assert refused.value.message.startswith("doc:") and LAUGHS in refused.value.message
    assert yamlio.compose(laughs(0, levels=5, width=10), "doc") is not None  # 10 ** 5: within


@pytest.mark.parametrize("value", ["14", "-3", "true", "{a: b}", "text"])
def test_non_list_dependencies_are_a_problem_of_the_task(git_repo: Path, capsys, value: str) -> None:
    write(git_repo / BACKLOG, TASK + f"    dependencies: {value}\n  - id: b\n    status: new\n    dependencies: [a]\n")
    code, out, err = run_cli(capsys, "--repo", str(git_repo), "plan", "--json")
    assert code == 2 and out == "" and "Traceback" not in err, err
    assert f"{BACKLOG}:5:5: task 'a' field 'dependencies': must be a list of strings" in err
    assert "\nhint: fix it in .leviathan/backlog.yaml" in err  # one problem


def test_an_empty_mapping_in_a_list_field_is_a_problem_of_the_field(git_repo: Path, capsys) -> None:
    # Found by tests/test_malformed_input_property.py: it was a StopIteration traceback.
    write(git_repo / BACKLOG, TASK + "    acceptance_criteria: [works, {}]\n")
    code, out, err = run_cli(capsys, "--repo", str(git_repo), "plan", "--json")
    assert code == 2 and out == "" and "Traceback" not in err, err
    assert (f"{BACKLOG}:5:5: task 'a' field 'acceptance_criteria': item 2 must be text, "
            "found an empty mapping `{}`") in err


@pytest.mark.parametrize("number", [HUGE, "-" + HUGE, HUGE_HEX, "1" + "_0" * 4400, "1" + ":00" * 5000],
                         ids=["decimal", "negative", "hexadecimal", "underscores", "sexagesimal"])
def test_an_integer_too_long_in_a_task_is_a_problem_of_its_field(git_repo: Path, capsys, number: str) -> None:
    write(git_repo / BACKLOG, TASK + f"    impact: {number}\n    tags: [x, {number}]\n")
    code, out, err = run_cli(capsys, "--repo", str(git_repo), "plan", "--json")
    assert code == 2 and out == "" and "Traceback" not in err, err
    assert f"{BACKLOG}:5:13: task 'a' field 'impact': {yamlio.INTEGER_TOO_LONG_REASON}" in err
    assert f"{BACKLOG}:6:15: task 'a' field 'tags': {yamlio.INTEGER_TOO_LONG_REASON}" in err


@pytest.mark.parametrize("name, text, where", [
    (POLICY, f"limits:\n  max_attempts_per_task: {HUGE}\n", "2:26: limits.max_attempts_per_task"),
    (POLICY, f"escalation:\n  keywords: [auth, {HUGE_HEX}]\n", "2:20: escalation.keywords[1]"),
    (CONTRACT, f"default_branch: main\ntarget_id: {HUGE}\n", "2:12: target_id"),
], ids=["policy limit", "policy list", "contract"])
def test_an_integer_too_long_in_a_config_file_names_file_line_and_field(git_repo: Path, name: str, text: str,
                                                                       where: str) -> None:
    write(git_repo / BACKLOG, TASK)
    write(git_repo / POLICY, "agent: {kind: recipe}\n")
    write(git_repo / name, text)
    assert_refused(bounded(git_repo, "run"), f"error: {name}:{where}: {yamlio.INTEGER_TOO_LONG_REASON}")
