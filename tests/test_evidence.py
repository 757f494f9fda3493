"""Test evidence: the runners' counts read from their output, the trailers written and read back,
and real attempts whose one commit carries them, shown by `review`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from conftest import git, write
from engine_fixtures import POLICY, make_project, task_yaml

from leviathan_local.commands.review import run_review
from leviathan_local.config.policy_load import load_policy
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.engine.evidence import Counts, Evidence, junit_counts, output_counts, parse_trailers, trailers
from leviathan_local.engine.verification import red_command
from leviathan_local.errors import ConfigError
from leviathan_local.git.repo import RepoPaths, find_repo

UNITTEST = "python -m unittest discover -s tests -q"
TESTS_PASS = f'invariants:\n  - {{name: Tests pass, check: "{UNITTEST}"}}\n'


@pytest.mark.parametrize(("output", "counts"), [
    ("..F.\nFAILED tests/test_a.py::test_x - assert 1 == 2\n1 failed, 3 passed in 0.12s\n", Counts(3, 1, 0, 0, "pytest")),
    ("===== 2 passed, 1 skipped, 1 error, 1 warning in 1.05s =====\n", Counts(2, 0, 1, 1, "pytest")),
    ("============ 3 errors in 0.30s (0:00:00) ============\n", Counts(0, 0, 3, 0, "pytest")),
    ("\n===== no tests ran in 0.01s =====\n", Counts(0, 0, 0, 0, "pytest")),
    ("------------------------------------------------------------\nRan 4 tests in 0.001s\n\nOK\n",
     Counts(4, 0, 0, 0, "unittest")),
    ("Ran 5 tests in 0.010s\n\nOK (skipped=2)\n", Counts(3, 0, 0, 2, "unittest")),
    ("Ran 6 tests in 0.010s\n\nFAILED (failures=1, errors=2, skipped=1)\n", Counts(2, 1, 2, 1, "unittest")),
    ("Traceback (most recent call last):\nImportError: no module\n", Counts()),
], ids=["pytest-q", "pytest-banner", "pytest-errors", "pytest-none", "unittest-ok", "unittest-skipped",
        "unittest-failed", "nothing"])
def test_the_runners_counts_are_read_from_their_summary(output: str, counts: Counts) -> None:
    assert output_counts(output) == counts


def test_junit_reports_are_summed_over_their_suites() -> None:
    suites = ('<?xml version="1.0" encoding="utf-8"?><testsuites>'
              '<testsuite name="pytest" errors="1" failures="2" skipped="1" tests="9" time="0.2"/>'
              '<testsuite name="more" errors="0" failures="0" skipped="0" tests="3"/></testsuites>')
    assert junit_counts(suites) == Counts(8, 2, 1, 1, "junit")
    assert junit_counts('<testsuite tests="2" failures="1"/>') == Counts(1, 1, 0, 0, "junit")
    assert junit_counts("<testsuites><testsuite tests=") is None  # a report cut short: no counts


def test_trailers_read_back_as_written() -> None:
    written = [Evidence("green", "0", 0.42, "sha256:ab12cd34ef56", passed=3, failed=0, errors=0, skipped=0,
                        runner="pytest"),
               Evidence("red", "timeout", 5.0, "sha256:000000000000", command="red_command"),
               Evidence("invariant", "0", 0.42, "sha256:ab12cd34ef56", name="Tests pass 'quoted' = yes",
                        reused="green")]
    text = trailers(written)
    assert text.splitlines()[0] == ("Leviathan-Evidence-Green: exit=0 passed=3 failed=0 errors=0 skipped=0 "
                                    "runner=pytest seconds=0.42 output=sha256:ab12cd34ef56")
    message = f"Subject\n\nBody.\n\nLeviathan-Task: t\nLeviathan-Attempt: a\n{text}"
    assert parse_trailers(message) == written
    # A reader skips what it does not know, and what an edit by hand broke.
    assert parse_trailers("Leviathan-Evidence-Green: exit=1 colour=blue seconds=x\n") == [
        Evidence("green", "1", 0.0, "?")]


def counter(root: Path) -> Path:
    return root.parent / "runs.txt"


def counted(root: Path, command: str = UNITTEST) -> str:
    """``command``, each run appending one line to a file outside the repository."""
    return f"echo run >> {counter(root)}; {command}"


def runs(root: Path) -> int:
    return len(counter(root).read_text().splitlines()) if counter(root).exists() else 0


def project(git_repo: Path, task: str, extra_policy: str = "", test_command: str | None = None) -> Path:
    command = test_command or counted(git_repo)
    policy = POLICY.replace(UNITTEST, command) + extra_policy.replace(UNITTEST, command)
    return make_project(git_repo, task, policy)


def with_tdd(root: Path, setting: str) -> Path:
    """The project with one more `tdd:` setting, committed."""
    policy = root / ".leviathan" / "policy.yaml"
    write(policy, policy.read_text().replace("  test_globs:", f"  {setting}\n  test_globs:"))
    git(root, "commit", "-qam", setting)
    return root


def commit_evidence(root: Path, branch: str) -> list[Evidence]:
    return parse_trailers(git(root, "log", "-1", "--format=%B", branch))


def attempt_log(root: Path, attempt_id: str) -> str:
    return (find_repo(root).state_dir / "attempts" / f"{attempt_id}.log").read_text()


def test_the_commit_carries_each_checks_evidence_and_identical_runs_are_reused(git_repo: Path) -> None:
    root = project(git_repo, task_yaml("add"), TESTS_PASS)
    result = run_attempt(find_repo(root), "add")
    assert result.outcome == "succeeded", result.reason
    red, green, refactor, invariant = commit_evidence(root, result.branch)
    # unittest counts the module that fails to import as one error; the project's base test passes.
    assert (red.check, red.exit, red.passed, red.failed, red.errors, red.runner) == ("red", "1", 1, 0, 1, "unittest")
    assert (green.exit, green.passed, green.failed, green.errors, green.reused) == ("0", 2, 0, 0, None)
    assert green.output.startswith("sha256:") and len(green.output) == len("sha256:") + 12 and green.seconds > 0
    assert refactor.reused == "green" and refactor.output == green.output  # refactor changed nothing
    assert (invariant.check, invariant.name, invariant.reused) == ("invariant", "Tests pass", "green")
    assert runs(root) == 2  # red and green: the same command on the same tree ran once
    log = attempt_log(root, result.attempt_id)
    assert "reused green's result for refactor: same command, same tree" in log
    assert "reused green's result for invariant Tests pass: same command, same tree" in log
    message = git(root, "log", "-1", "--format=%B", result.branch)
    assert f"Leviathan-Task: add\nLeviathan-Attempt: {result.attempt_id}\nLeviathan-Evidence-Red: " in message
    out = io.StringIO()
    run_review(find_repo(root), out=out)
    shown = out.getvalue()
    assert "  evidence red                   exit=1 passed=1 failed=0 errors=1" in shown
    assert f"  evidence invariant Tests pass  exit=0 passed=2 failed=0 errors=0 skipped=0 runner=unittest " \
           f"seconds={invariant.seconds:g} output={green.output} reused=green" in shown
    as_json = io.StringIO()
    run_review(find_repo(root), as_json=True, out=as_json)
    [item] = json.loads(as_json.getvalue())["reviews"]
    assert [(e["check"], e["passed"], e["reused"]) for e in item["evidence"]] == [
        ("red", 1, None), ("green", 2, None), ("refactor", 2, "green"), ("invariant", 2, "green")]


def test_without_reuse_every_check_runs(git_repo: Path) -> None:
    root = with_tdd(project(git_repo, task_yaml("add"), TESTS_PASS), "reuse_results: false")
    result = run_attempt(find_repo(root), "add")
    assert result.outcome == "succeeded", result.reason
    assert runs(root) == 4  # red, green, refactor, the invariant: today's behaviour, for the bench's baseline
    assert not any(evidence.reused for evidence in commit_evidence(root, result.branch))


def test_a_refactor_that_changes_the_tree_runs_again_and_the_gates_reuse_its_run(git_repo: Path) -> None:
    root = project(git_repo, task_yaml("add", refactor="echo '# tidied' >> calc.py"), TESTS_PASS)
    result = run_attempt(find_repo(root), "add")
    assert result.outcome == "succeeded", result.reason
    assert runs(root) == 3
    refactor, invariant = commit_evidence(root, result.branch)[2:]
    assert refactor.reused is None and invariant.reused == "refactor" and invariant.output == refactor.output


def test_a_tree_changed_by_the_tests_is_never_taken_for_the_committed_one(git_repo: Path) -> None:
    # Each run of the tests, once calc.py exists, appends to it: no run is ever on the tree before it.
    touching = counted(git_repo, f"{UNITTEST}; status=$?; [ -e calc.py ] && echo '#' >> calc.py; exit $status")
    root = project(git_repo, task_yaml("add"), TESTS_PASS, test_command=touching)
    result = run_attempt(find_repo(root), "add")
    assert result.outcome == "failed" and "changed after the agent's last phase" in result.reason, result.reason
    assert runs(root) == 4  # the invariant ran on the tree as the tests left it, not on refactor's


def test_red_runs_the_red_command_on_the_changed_test_files(git_repo: Path) -> None:
    red = f"echo red {{changed_tests}} >> {counter(git_repo)}; python -m unittest {{changed_tests}}"
    root = with_tdd(project(git_repo, task_yaml("add")), f'red_command: "{red}"')
    result = run_attempt(find_repo(root), "add")
    assert result.outcome == "succeeded", result.reason
    assert counter(root).read_text().splitlines() == ["red tests/test_add.py", "run"]  # then green's full suite
    red_evidence = commit_evidence(root, result.branch)[0]
    assert (red_evidence.command, red_evidence.exit, red_evidence.errors) == ("red_command", "1", 1)


def test_the_junit_report_the_policy_names_gives_the_counts_when_the_run_wrote_it(git_repo: Path) -> None:
    # A stand-in runner: unittest, plus a report (kept: ignored) written only while calc.py is missing (red).
    report = "<testsuite tests=\\\"7\\\" failures=\\\"5\\\" errors=\\\"0\\\" skipped=\\\"1\\\"/>"
    command = f"{UNITTEST}; status=$?; [ -e calc.py ] || echo '{report}' > report.xml; exit $status"
    root = with_tdd(project(git_repo, task_yaml("add"), test_command=command), "junit_xml: report.xml")
    write(root / ".gitignore", "worktrees/\n__pycache__/\nreport.xml\n")
    git(root, "commit", "-qam", "the report is ignored")
    result = run_attempt(find_repo(root), "add")
    assert result.outcome == "succeeded", result.reason
    red, green, _ = commit_evidence(root, result.branch)
    assert (red.runner, red.passed, red.failed, red.skipped) == ("junit", 1, 5, 1)
    assert (green.runner, green.passed) == ("unittest", 2)  # red's report, left behind, says nothing of green
    assert "wrote no JUnit report at report.xml" in attempt_log(root, result.attempt_id)


@pytest.mark.parametrize(("tdd", "problem"), [
    ('red_command: "python -m pytest {changed_test}"', r"policy.yaml:3:\d+: tdd.red_command: unknown placeholder "
                                                       r"\{changed_test\} \(allowed: \{changed_tests\}\)"),
    ("junit_xml: ../report.xml", r"policy.yaml:3:\d+: tdd.junit_xml: the path must stay inside the repository"),
    ("reuse_results: sometimes", r"policy.yaml:3:\d+: tdd.reuse_results: expected true or false"),
])
def test_bad_verification_settings_name_file_line_and_field(repo_paths: RepoPaths, tdd: str, problem: str) -> None:
    write(repo_paths.policy, f"tdd:\n  test_command: pytest\n  {tdd}\n")
    with pytest.raises(ConfigError, match=problem):
        load_policy(repo_paths)


def test_the_shells_own_braces_are_no_placeholders(repo_paths: RepoPaths) -> None:
    write(repo_paths.policy, 'tdd:\n  red_command: "pytest ${ARGS} {changed_tests} && ls {a,b} | xargs -I{} echo {}"\n')
    assert load_policy(repo_paths).tdd.red_command.startswith("pytest ${ARGS}")


def test_the_red_command_gets_the_changed_test_files_shell_quoted() -> None:
    changed = ["src/app.py", "tests/test_a b.py", "tests/test_it's.py", "docs/x.md"]
    assert red_command("pytest -q {changed_tests}", changed, ("tests/**",)) == (
        "pytest -q 'tests/test_a b.py' 'tests/test_it'\"'\"'s.py'")
