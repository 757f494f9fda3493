"""The prompt file a `command` agent reads in each phase, as a whole, from a real attempt."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import write
from engine_fixtures import make_project

from leviathan_local.backlog.model import Status, Task
from leviathan_local.engine.attempt import run_attempt
from leviathan_local.engine.prompt import OUTPUT_CAP, PHASE_GOALS, Verification, prompt_text
from leviathan_local.git.repo import find_repo

# The agent keeps each phase's prompt, then does the phase's work. The test command's output
# is exact (it names the files in src/), so the prompts can be compared whole.
AGENT = """\
cp "$LEVIATHAN_PROMPT_FILE" "$PROMPTS/$LEVIATHAN_PHASE.md"
case "$LEVIATHAN_PHASE" in
  red) echo 'assert True' > tests/test_impl.py ;;
  green) mkdir -p src && echo 'VALUE = 1' > src/impl.py ;;
esac
"""

POLICY = """\
tdd:
  test_command: "echo checked: $(ls src 2>/dev/null); test -f src/impl.py"
  test_globs: ["tests/**"]
agent: {kind: command, command: "PROMPTS=PROMPT_DIR bash AGENT_FILE"}
forbidden_patterns: ["**/*.pem"]
scopes:
  web: {allowed_paths: [src/, tests/]}
"""

TASK = """\
  - id: p
    title: Prompted task
    description: Make it work.
    status: ready
    scope: web
    acceptance_criteria: ["add(2, 3) is 5", documented]
    review_feedback: Handle negative numbers too
"""


CHECKS = {"red": "It must FAIL, and at least one changed file must match the test globs (`tests/**`)",
          "green": "It must PASS", "refactor": "It must still PASS"}


def expected(phase: str, last_output: str) -> str:
    return (
        "# Task p: Prompted task\n\nMake it work.\n\n"
        "## Acceptance criteria\n- add(2, 3) is 5\n- documented\n\n"
        "## You may change only\n- src/\n- tests/\nand never anything matching `**/*.pem`, `.leviathan/**`\n\n"
        "## A reviewer rejected the previous attempt\nHandle negative numbers too\n\n"
        f"## This phase: {phase}\n{PHASE_GOALS[phase]}\n\n"
        "## How the executor checks this phase\n"
        "When you finish, the executor runs the test command in the worktree itself:\n"
        "```\necho checked: $(ls src 2>/dev/null); test -f src/impl.py\n```\n"
        f"{CHECKS[phase]}. After the last phase the gates check that every changed path is allowed above and "
        "that no secret was added.\n\n"
        f"## Last test output\n```\n{last_output}\n```\n"
    )


def test_each_phase_prompt_restates_the_task_the_scope_paths_the_goal_and_the_last_output(git_repo: Path) -> None:
    prompts = git_repo.parent / "prompts"
    prompts.mkdir()
    agent = write(git_repo.parent / "agent.sh", AGENT)
    root = make_project(git_repo, TASK, POLICY.replace("PROMPT_DIR", str(prompts)).replace("AGENT_FILE", str(agent)))
    result = run_attempt(find_repo(root), "p")
    assert result.outcome == "succeeded", result.reason
    assert (prompts / "red.md").read_text() == expected("red", "(tests not run yet)")
    assert (prompts / "green.md").read_text() == expected("green", "checked:")  # red's failing run
    assert (prompts / "refactor.md").read_text() == expected("refactor", "checked: impl.py")


def test_a_prompt_without_feedback_or_description_leaves_those_out(git_repo: Path) -> None:
    prompts = git_repo.parent / "prompts"
    prompts.mkdir()
    agent = write(git_repo.parent / "agent.sh", AGENT)
    task = TASK.replace("    description: Make it work.\n", "")
    task = task.replace("    review_feedback: Handle negative numbers too\n", "")
    task = task.replace("    scope: web\n", "    allowed_paths: [src/impl.py, tests/test_impl.py]\n")
    root = make_project(git_repo, task, POLICY.replace("PROMPT_DIR", str(prompts)).replace("AGENT_FILE", str(agent)))
    assert run_attempt(find_repo(root), "p").outcome == "succeeded"
    red = (prompts / "red.md").read_text()
    assert red == expected("red", "(tests not run yet)").replace("Make it work.\n\n", "").replace(
        "## A reviewer rejected the previous attempt\nHandle negative numbers too\n\n", "").replace(
        "- src/\n- tests/\n", "- src/impl.py\n- tests/test_impl.py\n")


# Fails green on purpose the first time (no src/impl.py), with a test output longer than any
# tail a prompt used to keep; the second attempt succeeds.
LONG_OUTPUT_POLICY = """\
tdd:
  test_command: "seq 1 1500; echo END OF OUTPUT; test -f src/impl.py"
  test_globs: ["tests/**"]
invariants:
  - {name: Lint, check: "true"}
agent: {kind: command, command: "PROMPTS=PROMPT_DIR bash AGENT_FILE"}
limits: {max_attempts_per_task: 3}
"""
FAIL_FIRST_AGENT = """\
cp "$LEVIATHAN_PROMPT_FILE" "$PROMPTS/$LEVIATHAN_ATTEMPT_ID-$LEVIATHAN_PHASE.md"
case "$LEVIATHAN_PHASE" in
  red) echo 'assert True' > tests/test_impl.py ;;
  green) if [ -e "$PROMPTS/failed-once" ]; then mkdir -p src && echo 'VALUE = 1' > src/impl.py; \
         else touch "$PROMPTS/failed-once"; fi ;;
esac
"""


def test_the_next_attempt_is_told_how_the_last_one_failed_with_its_whole_test_output(git_repo: Path) -> None:
    prompts = git_repo.parent / "prompts"
    prompts.mkdir()
    agent = write(git_repo.parent / "agent.sh", FAIL_FIRST_AGENT)
    policy = LONG_OUTPUT_POLICY.replace("PROMPT_DIR", str(prompts)).replace("AGENT_FILE", str(agent))
    root = make_project(git_repo, TASK.replace("    scope: web\n", "    allowed_paths: [src/, tests/]\n"), policy)
    first = run_attempt(find_repo(root), "p")
    assert first.outcome == "failed" and first.reason == "green: the test command failed (exit 1)"
    assert "previous attempt failed" not in (prompts / f"{first.attempt_id}-red.md").read_text()
    second = run_attempt(find_repo(root), "p")
    assert second.outcome == "succeeded", second.reason
    red = (prompts / f"{second.attempt_id}-red.md").read_text()
    told = red.split("## The previous attempt failed\n")[1].split("\n## This phase")[0]
    whole_output = "\n".join(str(n) for n in range(1, 1501)) + "\nEND OF OUTPUT\n"
    assert re.fullmatch(re.escape(f"{first.attempt_id} failed in green: the test command failed (exit 1)\n"
                                  f"Its last test output:\n```\n{whole_output}") + r"\[exit 1 after [0-9.]+s\]\n```\n",
                        told), told[-200:]
    assert "- Lint: `true`" in red  # the invariants the gates will run


def test_an_output_beyond_the_cap_keeps_its_end_and_says_where_the_rest_is() -> None:
    task = Task("p", {"id": "p", "title": "Prompted task", "acceptance_criteria": ["works"]}, Status.READY)
    output = "first line\n" + "x" * OUTPUT_CAP + "\nthe failure at the end"
    text = prompt_text(task, "green", ("src/",), (), Verification(), output, None, Path("/state/attempt-p.log"))
    shown = text.split("## Last test output\n")[1]
    assert shown.startswith("(its first 34 characters are left out; all of it is in /state/attempt-p.log)\n```\n")
    assert shown.endswith("x\nthe failure at the end\n```\n") and "first line" not in shown
    assert "How the executor checks" not in text  # no test command known: nothing to restate


def test_reds_prompt_names_the_red_command_when_the_policy_sets_one() -> None:
    task = Task("p", {"id": "p", "title": "Prompted task", "acceptance_criteria": ["works"]}, Status.READY)
    checks = Verification("python -m pytest -q", ("tests/**",), (), "python -m pytest -q {changed_tests}")
    red = prompt_text(task, "red", ("src/",), (), checks, "", None)
    assert "runs the red command ({changed_tests}: the test files you changed) in the worktree itself:\n" \
           "```\npython -m pytest -q {changed_tests}\n```" in red
    green = prompt_text(task, "green", ("src/",), (), checks, "", None)
    assert "runs the test command in the worktree itself:\n```\npython -m pytest -q\n```" in green


RED_COMMAND_POLICY = """\
tdd:
  test_command: "test -f src/impl.py"
  red_command: "echo checked {changed_tests}"
  test_globs: ["tests/**"]
agent: {kind: command, command: "PROMPTS=PROMPT_DIR bash AGENT_FILE"}
limits: {max_attempts_per_task: 3}
"""


def test_a_red_failure_under_the_red_command_tells_the_next_attempt_its_output(git_repo: Path) -> None:
    """red ran `tdd.red_command` (its file list differs each time), which passed: the next
    attempt hears that output, not nothing because no line names the full test command."""
    prompts = git_repo.parent / "prompts"
    prompts.mkdir()
    agent = write(git_repo.parent / "agent.sh", FAIL_FIRST_AGENT)
    policy = RED_COMMAND_POLICY.replace("PROMPT_DIR", str(prompts)).replace("AGENT_FILE", str(agent))
    root = make_project(git_repo, TASK.replace("    scope: web\n", "    allowed_paths: [src/, tests/]\n"), policy)
    first = run_attempt(find_repo(root), "p")
    assert first.outcome == "failed" and first.reason == "red: the tests pass: the new test proves nothing"
    second = run_attempt(find_repo(root), "p")
    red = (prompts / f"{second.attempt_id}-red.md").read_text()
    told = red.split("## The previous attempt failed\n")[1].split("\n## This phase")[0]
    assert "Its last test output:\n```\nchecked tests/test_impl.py\n[exit 0 after" in told, told
