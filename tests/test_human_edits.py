"""A human edits backlog.yaml while the tool works: every edit and every status update survives."""

from __future__ import annotations

import io
import re
from pathlib import Path

from conftest import git
from engine_fixtures import POLICY, make_project, task_yaml, unittest_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog, update_task
from leviathan_local.commands.run import run_headless
from leviathan_local.config import yamlio
from leviathan_local.git.repo import RepoPaths, find_repo

HUMAN_EDIT = r'''
import pathlib, re, sys
backlog = pathlib.Path(sys.argv[1])
text = backlog.read_text()
text = text.replace("Secnd", "Second")                                   # fix a typo
text = text.replace("    effort: 1\n", "    effort: 8\n")                # change a priority
text = text.replace("tasks:\n", "tasks:\n  # added during the run\n", 1)  # a comment
text += "  - id: later\n    title: Added while an attempt ran\n    status: new\n"  # a task
items = re.split(r"(?m)^(?=  - id: )", text)                             # move `idle` to the top
idle = next(item for item in items if item.startswith("  - id: idle"))
items.remove(idle)
items.insert(1, idle)
backlog.write_text("".join(items))
'''


def test_edits_made_during_and_between_attempts_all_survive(git_repo: Path) -> None:
    editor = git_repo.parent / "human_edit.py"
    editor.write_text(HUMAN_EDIT)
    backlog = git_repo / ".leviathan" / "backlog.yaml"
    edit_now = f"python {editor} {backlog}"
    second = task_yaml("second", red=unittest_file("sub", "self.assertEqual(sub(3, 2), 1)", "from sub import sub"),
                       green="printf 'def sub(a, b):\\n    return a - b\\n' > sub.py", allowed="[sub.py, tests/]")
    root = make_project(git_repo, task_yaml("add", green=f"printf 'def add(a, b):\\n    return a + b\\n' > calc.py"
                                            f" && {edit_now}")
                        + second.replace("Add second", "Secnd task").replace("effort: 2", "effort: 3")
                        + "  - id: idle\n    title: Idle\n    status: new\n    effort: 1\n",
                        policy=POLICY.replace("attempt_timeout_seconds: 30", "attempt_timeout_seconds: 30, max_open_reviews: 5"))
    paths = find_repo(root)
    code = run_headless(paths, out=io.StringIO())
    assert code == 0
    text = backlog.read_text()
    assert "  # added during the run\n" in text and "id: later" in text and "title: Second task" in text
    assert [task.id for task in load_backlog(paths).tasks] == ["idle", "add", "second", "later"]
    tasks = load_backlog(paths).by_id
    assert tasks["idle"].get("effort") == 8
    assert tasks["add"].status is Status.REVIEW and tasks["second"].status is Status.REVIEW
    # the second attempt started after the edit and saw it
    prompt = next((paths.state_dir / "attempts").glob(f"{tasks['second'].get('last_attempt_id')}-red.prompt.md"))
    assert "# Task second: Second task" in prompt.read_text()
    assert git(root, "show", "HEAD:.leviathan/backlog.yaml") == text  # the halt commit holds it all


EDITS_BY_STEP = r'''
import pathlib, re, sys
backlog, step = pathlib.Path(sys.argv[1]), sys.argv[2]
text = backlog.read_text()
if step == "first-refactor":  # attempt 1's last step, before its writeback
    text = text.replace("title: Secnd task", "title: Second task")                                  # a typo
    text = text.replace("  - id: first\n", "  - id: first\n    # human: watch the edge cases\n")  # a comment
elif step == "second-red":  # after attempt 1's writeback, before attempt 2 does anything
    text = text.replace("    # obsolete: ask Ann first\n", "")                                     # a deletion
    text = text.replace("    effort: 1\n", "    effort: 8\n")                                      # a priority
    text += "  - id: later\n    title: Added between attempts\n    status: new\n"                # a task
    items = re.split(r"(?m)^(?=  - id: )", text)                                                 # a reorder
    idle = next(item for item in items if item.startswith("  - id: idle"))
    items.remove(idle)
    items.insert(1, idle.replace("    status: new\n", "    status: new  # not yet\n"))
    text = "".join(items)
elif step == "third-green":  # attempt 3, with attempts 1 and 2 in review
    text = text.replace("title: Add first", "title: Add, as the reviewer asked")
backlog.write_text(text)
'''


def task_in_file(task_id: str, module: str, edits: dict[str, str], effort: int) -> str:
    """A task that adds ``module``.py with a test; ``edits``: phase -> a shell command to append."""
    red = unittest_file(module, f"self.assertEqual({module}(1), 1)", f"from {module} import {module}")
    green = f"printf 'def {module}(a):\\n    return a\\n' > {module}.py"
    text = task_yaml(task_id, red=" && ".join(filter(None, [red, edits.get("red")])),
                     green=" && ".join(filter(None, [green, edits.get("green")])),
                     refactor=edits.get("refactor", "true"), allowed=f"[{module}.py, tests/]")
    return text.replace("effort: 2", f"effort: {effort}")


def test_edits_between_attempts_and_the_tool_updates_all_survive_the_run(git_repo: Path) -> None:
    editor = git_repo.parent / "edits_by_step.py"
    editor.write_text(EDITS_BY_STEP)
    backlog = git_repo / ".leviathan" / "backlog.yaml"
    edit = f"python {editor} {backlog}"
    tasks = (task_in_file("first", "one", {"refactor": f"{edit} first-refactor"}, 1).replace("effort: 1", "effort: 2")
             + task_in_file("second", "two", {"red": f"{edit} second-red"}, 3).replace("Add second", "Secnd task")
             + task_in_file("third", "three", {"green": f"{edit} third-green"}, 5)
             + "  - id: idle\n    title: Idle\n    status: new\n    # obsolete: ask Ann first\n    effort: 1\n")
    root = make_project(git_repo, tasks, policy=POLICY.replace("attempt_timeout_seconds: 30",
                                                               "attempt_timeout_seconds: 30, max_open_reviews: 5"))
    paths = find_repo(root)
    assert run_headless(paths, out=io.StringIO()) == 0
    text = backlog.read_text()
    board = load_backlog(paths)
    assert [task.id for task in board.tasks] == ["idle", "first", "second", "third", "later"]
    # the tool's updates: each attempt's review status, attempt id and branch
    for task_id in ("first", "second", "third"):
        task = board.task(task_id)
        assert task.status is Status.REVIEW and task.get("branch_name") == f"agent/{task.get('last_attempt_id')[8:]}"
    # the human's edits, each made while a different attempt ran
    assert board.task("second").title == "Second task" and "# human: watch the edge cases\n" in text
    assert "obsolete" not in text and board.task("idle").get("effort") == 8 and "status: new  # not yet\n" in text
    assert board.task("later").status is Status.NEW and board.task("first").title == "Add, as the reviewer asked"
    assert git(root, "show", "HEAD:.leviathan/backlog.yaml") == text  # the halt commit holds all of it
    assert git(root, "status", "--porcelain", "--", ".leviathan/backlog.yaml") == ""


# --- property: any interleaving of human edits and tool writes loses nothing ----------------

def _render(order: list[str]) -> str:
    return "# header\ntasks:\n" + "".join(
        f"  - id: {task_id}\n    title: Task {task_id}\n    status: ready\n    effort: 2\n"
        f"    acceptance_criteria: [ok]\n" for task_id in order)


ops = st.lists(st.one_of(
    st.tuples(st.just("retitle"), st.integers(0, 5), st.text("abcdef xyz", min_size=1, max_size=12)),
    st.tuples(st.just("effort"), st.integers(0, 5), st.sampled_from([1, 2, 3, 5, 8, 13])),
    st.tuples(st.just("comment"), st.integers(0, 5), st.from_regex(r"[a-z ]{1,15}", fullmatch=True)),
    st.tuples(st.just("add"), st.integers(0, 5), st.just("")),
    st.tuples(st.just("reorder"), st.integers(0, 5), st.just("")),
    st.tuples(st.just("status"), st.integers(0, 5), st.sampled_from(["doing", "review", "ready", "done"])),
), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=ops)
def test_interleaved_human_edits_and_tool_writes_lose_nothing(repo_paths: RepoPaths, sequence) -> None:
    order = ["a", "b", "c"]
    model = {task_id: {"title": f"Task {task_id}", "effort": 2, "status": "ready"} for task_id in order}
    comments: list[str] = []
    repo_paths.leviathan_dir.mkdir(exist_ok=True)
    repo_paths.backlog.write_text(_render(order))
    for kind, pick, value in sequence:
        task_id = order[pick % len(order)]
        if kind == "status":  # the tool
            update_task(repo_paths, task_id, {"status": value})
            model[task_id]["status"] = value
        else:  # a human in an editor: load the file as it is now, change it, save
            _human_edit(repo_paths.backlog, kind, task_id, value, order, model, comments)
    data = yamlio.construct(yamlio.compose(repo_paths.backlog.read_text(), "backlog"))
    assert [task["id"] for task in data["tasks"]] == order
    for task in data["tasks"]:
        assert {k: task[k] for k in ("title", "effort", "status")} == model[task["id"]]
    for comment in comments:
        assert f"# {comment}\n" in repo_paths.backlog.read_text()


def _human_edit(backlog: Path, kind: str, task_id: str, value, order: list[str], model: dict, comments: list[str]) -> None:
    text = backlog.read_text()
    items = re.split(r"(?m)^(?=  - id: )", text)
    index = next(i for i, item in enumerate(items) if item.startswith(f"  - id: {task_id}\n"))
    if kind == "retitle":
        items[index] = re.sub(r"(?m)^    title: .*$", f"    title: '{value}'", items[index])
        model[task_id]["title"] = value
    elif kind == "effort":
        items[index] = re.sub(r"(?m)^    effort: .*$", f"    effort: {value}", items[index])
        model[task_id]["effort"] = value
    elif kind == "comment":
        items[index] += f"    # {value}\n"
        comments.append(value)
    elif kind == "add":
        new_id = f"n{len(order)}"
        items.append(f"  - id: {new_id}\n    title: Task {new_id}\n    status: ready\n    effort: 2\n")
        order.append(new_id)
        model[new_id] = {"title": f"Task {new_id}", "effort": 2, "status": "ready"}
    elif kind == "reorder":
        items.insert(1, items.pop(index))
        order.insert(0, order.pop(order.index(task_id)))
    backlog.write_text("".join(items))
