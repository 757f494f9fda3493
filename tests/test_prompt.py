"""The prompt file a `command` agent reads in each phase, as a whole, from a real attempt."""

from __future__ import annotations

from pathlib import Path

from conftest import write
from engine_fixtures import make_project

from leviathan_local.engine.agents import PHASE_GOALS
from leviathan_local.engine.attempt import run_attempt
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


def expected(phase: str, last_output: str) -> str:
    return (
        "# Task p: Prompted task\n\nMake it work.\n\n"
        "## Acceptance criteria\n- add(2, 3) is 5\n- documented\n\n"
        "## You may change only\n- src/\n- tests/\nand never anything matching `**/*.pem`, `.leviathan/**`\n\n"
        "## A reviewer rejected the previous attempt\nHandle negative numbers too\n\n"
        f"## This phase: {phase}\n{PHASE_GOALS[phase]}\n\n"
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
