"""The semantic backlog merge: task by task, field by field, nothing a human wrote lost."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

from conftest import git, write
from hypothesis import given, settings
from hypothesis import strategies as st

from leviathan_local.backlog.merge import merge_backlogs, merged_order
from leviathan_local.backlog.merge_driver import run_driver
from leviathan_local.commands.init import run_init
from leviathan_local.config import yamlio
from leviathan_local.git.repo import find_repo

BASE = """\
# Our backlog. Keep this header.
tasks:
  - id: alpha            # the first one
    title: Alpha
    status: ready
    effort: 3
    acceptance_criteria: [works]

  - id: beta
    title: Beta
    status: ready
    effort: 5
    acceptance_criteria: [works]
# trailing words
"""

WRITEBACK = {"status": "done", "completed_at": "2026-11-22T12:00:00Z", "last_attempt_id": "attempt-alpha-1",
             "branch_name": "agent/alpha-1"}


def tasks_of(text: str) -> dict[str, dict]:
    return {str(task["id"]): task for task in yamlio.construct(yamlio.compose(text, "merged"))["tasks"] or []}


def with_writeback(text: str, task_id: str, fields: dict[str, str]) -> str:
    """The tool's writeback as the tool writes it: an existing field changes in its line, new
    fields go after the task's last field."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.split("#")[0].strip() == f"- id: {task_id}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("- id:")), len(lines))
    body, extra = lines[start:end], dict(fields)
    for index, line in enumerate(body):
        name = line.strip().split(":")[0]
        if line.startswith("    ") and name in extra:
            body[index] = f"    {name}: {extra.pop(name)}\n"
    insert_at = next(i for i, line in enumerate(body) if not line.strip() or line.startswith("#")) \
        if any(not line.strip() or line.startswith("#") for line in body) else len(body)
    added = [f"    {name}: {value}\n" for name, value in extra.items()]
    return "".join(lines[:start] + body[:insert_at] + added + body[insert_at:] + lines[end:])


def test_done_from_the_branch_wins_over_review_and_human_edits_stay() -> None:
    ours = (BASE.replace("title: Beta", "title: Beta, better named  # human fix")
                .replace("    status: ready\n    effort: 3", "    status: review\n    branch_name: agent/alpha-1\n"
                                                           "    effort: 3")
                .replace("Keep this header.\n", "Keep this header.\n# A human's new comment.\n"))
    theirs = with_writeback(BASE, "alpha", WRITEBACK)
    merged = merge_backlogs(BASE, ours, theirs)
    assert merged.conflicts == [] and merged.by_task
    tasks = tasks_of(merged.text)
    assert {k: tasks["alpha"][k] for k in WRITEBACK} == WRITEBACK
    assert tasks["beta"]["title"] == "Beta, better named"
    for kept in ("# A human's new comment.", "# human fix", "# the first one", "# trailing words"):
        assert kept in merged.text


def test_the_same_human_field_changed_two_ways_conflicts_with_both_versions() -> None:
    ours = BASE.replace("title: Beta", "title: Beta from Ann")
    theirs = BASE.replace("title: Beta", "title: Beta from Bob").replace("effort: 5", "effort: 8")
    merged = merge_backlogs(BASE, ours, theirs)
    assert len(merged.conflicts) == 1 and "beta" in merged.conflicts[0] and "title" in merged.conflicts[0]
    assert "<<<<<<< ours\n" in merged.text and "=======\n" in merged.text and ">>>>>>> theirs\n" in merged.text
    assert "Beta from Ann" in merged.text and "Beta from Bob" in merged.text and "effort: 8" in merged.text
    assert "title: Alpha" in merged.text  # the rest is merged as usual


def test_a_task_added_on_each_side_lands_after_its_neighbour() -> None:
    ours = BASE.replace("# trailing words\n", "  - id: gamma\n    title: Gamma\n# trailing words\n")
    theirs = BASE.replace("\n  - id: beta", "  - id: alpha2\n    title: Alpha two\n\n  - id: beta")
    merged = merge_backlogs(BASE, ours, theirs)
    assert merged.conflicts == []
    assert list(tasks_of(merged.text)) == ["alpha", "alpha2", "beta", "gamma"]


def test_a_task_deleted_by_a_human_stays_deleted_unless_the_other_side_edited_it() -> None:
    ours = BASE[:BASE.index("  - id: beta")] + "# trailing words\n"
    progress = with_writeback(BASE, "beta", {"attempts": "1"})
    assert list(tasks_of(merge_backlogs(BASE, ours, progress).text)) == ["alpha"]
    edited = BASE.replace("title: Beta", "title: Beta renamed")
    merged = merge_backlogs(BASE, ours, edited)
    assert merged.conflicts and "Beta renamed" in merged.text


def test_attempts_take_the_larger_count_and_tool_fields_merge_quietly() -> None:
    ours = with_writeback(BASE, "beta", {"attempts": "2", "last_attempt_id": "attempt-beta-2"})
    theirs = with_writeback(BASE, "beta", {"attempts": "1", "last_attempt_id": "attempt-beta-1"})
    merged = merge_backlogs(BASE, ours, theirs)
    assert merged.conflicts == []
    assert tasks_of(merged.text)["beta"]["attempts"] == 2


def test_an_unreadable_side_is_merged_line_by_line() -> None:
    broken = BASE.replace("  - id: beta", "  - id: [beta")
    merged = merge_backlogs(BASE, broken, BASE.replace("# Our backlog.", "# Their backlog."))
    assert not merged.by_task and merged.conflicts == []
    assert "id: [beta" in merged.text and "# Their backlog." in merged.text


def test_the_driver_writes_ours_in_place_and_exits_one_on_conflict(tmp_path) -> None:
    files = {}
    for name, text in (("base", BASE), ("ours", BASE.replace("Alpha", "A1")), ("theirs", BASE.replace("Alpha", "A2"))):
        files[name] = tmp_path / name
        files[name].write_text(text)
    err = io.StringIO()
    assert run_driver(files["base"], files["ours"], files["theirs"], marker_size=9, err=err) == 1
    text = files["ours"].read_text()
    assert "<<<<<<<<< ours" in text and "A1" in text and "A2" in text
    assert "merge conflict in .leviathan/backlog.yaml: task alpha" in err.getvalue()


# --- property: human edits on one side, a tool writeback on the other, never lost ------------

# Not `no`, `on`, `null`...: YAML reads those as booleans and null, not as the id's text.
task_ids = st.lists(st.from_regex(r"[a-z]{1,6}", fullmatch=True).filter(
    lambda name: isinstance(yamlio.construct(yamlio.compose(name, "id")), str)), min_size=2, max_size=6, unique=True)


def render(ids: list[str], titles: dict[str, str], comments: dict[str, str]) -> str:
    out = ["# backlog header\n", "tasks:\n"]
    for task_id in ids:
        out.append(f"  - id: {task_id}\n    title: '{titles.get(task_id, task_id.upper())}'\n    status: ready\n"
                   f"    acceptance_criteria: [ok]\n")
        if task_id in comments:
            out.append(f"    # {comments[task_id]}\n")
    return "".join(out)


@settings(max_examples=60, deadline=None)
@given(ids=task_ids, data=st.data())
def test_human_edits_and_a_writeback_always_merge_without_loss(ids: list[str], data: st.DataObject) -> None:
    base = render(ids, {}, {})
    finished = data.draw(st.sampled_from(ids))
    retitled = data.draw(st.lists(st.sampled_from(ids), unique=True))
    commented = data.draw(st.lists(st.sampled_from(ids), unique=True))
    new_ids = [f"new{n}" for n in range(data.draw(st.integers(0, 2)))]
    titles = {task_id: f"Human title {task_id}" for task_id in retitled}
    comments = {task_id: f"note on {task_id}" for task_id in commented}
    ours = render(ids + new_ids, titles, comments).replace("# backlog header\n", "# backlog header\n# edited\n")
    theirs = with_writeback(base, finished, {**WRITEBACK, "last_attempt_id": f"attempt-{finished}-1"})
    for human_side, tool_side in ((ours, theirs), (theirs, ours)):
        merged = merge_backlogs(base, human_side, tool_side)
        assert merged.conflicts == [] and merged.by_task
        tasks = tasks_of(merged.text)
        assert set(tasks) == set(ids + new_ids)
        assert tasks[finished]["status"] == "done" and tasks[finished]["last_attempt_id"] == f"attempt-{finished}-1"
        for task_id in retitled:
            assert tasks[task_id]["title"] == f"Human title {task_id}"
        for text in [*comments.values(), "# edited"]:
            assert text in merged.text


# --- property: a human's deletions, moves and additions on one side, the tool on the other ---

TOOL_LINES = re.compile(r"(?m)^    (completed_at|last_attempt_id|branch_name|attempts): .*\n")


def task_block(task_id: str) -> list[str]:
    return [f"  - id: {task_id}\n", f"    title: '{task_id.upper()}'  # title of {task_id}\n",
            f"    # note on {task_id}\n", "    status: ready\n", "    effort: 3\n", "    acceptance_criteria: [ok]\n",
            "\n"]


def document(blocks: list[list[str]]) -> str:
    return "# backlog header\ntasks:\n" + "".join("".join(block) for block in blocks) + "# footer\n"


HUMAN_EDITS = st.sampled_from(["retitle", "drop note", "drop trailing comment", "drop field", "drop blank",
                               "add note", "move note", "move field", "delete", "move", "add", "requote",
                               "reflow"])


def human_edit(blocks: list[list[str]], number: int, kind: str, pick: int, where: int) -> None:
    """The ``number``-th edit a human makes in an editor, on the document's lines."""
    if kind == "add":
        blocks.insert(where % (len(blocks) + 1), task_block(f"new{number}"))
        return
    if not blocks:
        return
    block = blocks[pick % len(blocks)]
    lines = {line.split(":")[0].strip(): n for n, line in enumerate(block) if ":" in line}
    if kind == "retitle" and "title" in lines:
        block[lines["title"]] = f"    title: 'Human title {where}'\n"
    elif kind in ("drop note", "move note", "drop blank"):
        wanted = "    # note" if kind != "drop blank" else "\n"
        found = [n for n, line in enumerate(block) if line.startswith(wanted) or line == wanted]
        if found:
            line = block.pop(found[0])
            if kind == "move note":
                block.insert(1 + where % len(block), line)
    elif kind == "drop trailing comment" and "title" in lines:
        block[lines["title"]] = block[lines["title"]].split("  #")[0].rstrip("\n") + "\n"
    elif kind == "requote" and "title" in lines:  # the same title, in double quotes (or back)
        line = block[lines["title"]]
        block[lines["title"]] = line.replace("'", '"') if "'" in line else line.replace('"', "'")
    elif kind == "reflow" and "acceptance_criteria" in lines and block[lines["acceptance_criteria"]].endswith("[ok]\n"):
        block[lines["acceptance_criteria"]:lines["acceptance_criteria"] + 1] = ["    acceptance_criteria:\n", "      - ok\n"]
    elif kind == "drop field" and "effort" in lines:
        del block[lines["effort"]]
    elif kind == "move field" and "effort" in lines:
        block.insert(1, block.pop(lines["effort"]))  # right under the id
    elif kind == "add note":
        block.insert(1 + where % len(block), f"    # added {where}\n")
    elif kind == "delete":
        blocks.remove(block)
    elif kind == "move":
        blocks.remove(block)
        blocks.insert(where % (len(blocks) + 1), block)


def tool_writes(text: str, finished: str, failed: str | None) -> str:
    done = with_writeback(text, finished, {**WRITEBACK, "last_attempt_id": f"attempt-{finished}-1"})
    return done if failed is None else with_writeback(done, failed, {"attempts": "1"})


def without_tool_writes(text: str) -> str:
    return TOOL_LINES.sub("", text).replace("    status: done\n", "    status: ready\n")


@settings(max_examples=150, deadline=None)
@given(ids=task_ids.map(lambda ids: ids[:3]), edits=st.lists(st.tuples(HUMAN_EDITS, st.integers(0, 9), st.integers(0, 9)), min_size=1,
                                    max_size=8), data=st.data())
def test_every_human_deletion_move_and_addition_survives_a_writeback(ids: list[str], edits, data) -> None:
    base = document([task_block(task_id) for task_id in ids])
    blocks = [task_block(task_id) for task_id in ids]
    for number, (kind, pick, where) in enumerate(edits):
        human_edit(blocks, number, kind, pick, where)
    human = document(blocks)
    finished = data.draw(st.sampled_from(ids))
    failed = data.draw(st.one_of(st.none(), st.sampled_from([task_id for task_id in ids if task_id != finished] or [None])))
    tool = tool_writes(base, finished, failed)
    for ours, theirs in ((human, tool), (tool, human)):
        merged = merge_backlogs(base, ours, theirs)
        assert merged.conflicts == [] and merged.by_task
        # Take the tool's writes back out: what remains is the human's file, byte for byte.
        assert without_tool_writes(merged.text) == human
        tasks = tasks_of(merged.text)
        if finished in tasks:
            assert tasks[finished]["status"] == "done" and tasks[finished]["branch_name"] == WRITEBACK["branch_name"]
        if failed in tasks:
            assert tasks[failed]["attempts"] == 1


def test_a_comment_deleted_next_to_a_field_the_branch_changes_stays_deleted() -> None:
    base = BASE.replace("    status: ready\n    effort: 3", "    # waiting for a slot\n    status: ready\n    effort: 3")
    human = base.replace("    # waiting for a slot\n", "")
    tool = with_writeback(base, "alpha", WRITEBACK)
    for ours, theirs in ((human, tool), (tool, human)):
        merged = merge_backlogs(base, ours, theirs)
        assert merged.conflicts == [] and "waiting for a slot" not in merged.text
        assert tasks_of(merged.text)["alpha"]["status"] == "done"


STYLE_BASE = BASE.replace("title: Alpha", "title: Fix it")


def style_edits() -> list[tuple[str, str]]:
    """(human, tool) pairs on STYLE_BASE whose line merge conflicts: a value-preserving human
    edit right next to the lines a writeback changes."""
    requoted = STYLE_BASE.replace("title: Fix it", "title: 'Fix it'")
    reflowed = STYLE_BASE.replace("    effort: 5\n    acceptance_criteria: [works]\n",
                                  "    effort: 5\n    acceptance_criteria:\n      - works\n")
    return [(requoted, with_writeback(STYLE_BASE, "alpha", WRITEBACK)),
            (reflowed, with_writeback(STYLE_BASE, "beta", {"attempts": "1"}))]


def test_a_human_style_edit_next_to_a_writeback_survives_it() -> None:
    for human, tool in style_edits():
        for ours, theirs in ((human, tool), (tool, human)):
            merged = merge_backlogs(STYLE_BASE, ours, theirs)
            assert merged.conflicts == [] and merged.by_task
            assert without_tool_writes(merged.text) == human  # the quotes, the block list: all kept
            assert tasks_of(merged.text) == tasks_of(tool)  # a style edit changes no value
    merged = merge_backlogs(STYLE_BASE, *style_edits()[0])
    assert tasks_of(merged.text)["alpha"]["status"] == "done"
    merged = merge_backlogs(STYLE_BASE, *style_edits()[1])
    assert tasks_of(merged.text)["beta"]["attempts"] == 1


def test_the_driver_keeps_a_human_style_edit_next_to_a_writeback(tmp_path) -> None:
    for human, tool in style_edits():
        for ours, theirs in ((human, tool), (tool, human)):
            files = [tmp_path / name for name in ("base", "ours", "theirs")]
            for file, text in zip(files, (STYLE_BASE, ours, theirs)):
                file.write_text(text)
            err = io.StringIO()
            assert run_driver(*files, err=err) == 0 and err.getvalue() == ""
            merged = files[1].read_text()
            assert without_tool_writes(merged) == human and tasks_of(merged) == tasks_of(merge_backlogs(
                STYLE_BASE, ours, theirs).text)


def test_the_same_line_restyled_two_ways_next_to_a_writeback_conflicts() -> None:
    single = STYLE_BASE.replace("title: Fix it", "title: 'Fix it'")
    double = with_writeback(STYLE_BASE.replace("title: Fix it", 'title: "Fix it"'), "alpha", WRITEBACK)
    merged = merge_backlogs(STYLE_BASE, single, double)
    assert len(merged.conflicts) == 1 and "alpha" in merged.conflicts[0]
    assert "title: 'Fix it'" in merged.text and 'title: "Fix it"' in merged.text and "<<<<<<< ours\n" in merged.text


def test_tasks_added_to_a_side_that_holds_none_go_under_tasks() -> None:
    one = "# head\ntasks:\n  - id: a\n    title: A\n"
    added = one + "  - id: c\n    title: C\n"
    cases = [(one, "# head\ntasks: []\n", added, "# head\ntasks:\n  - id: c\n    title: C\n"),  # all deleted, one added
             ("# head\ntasks: []\n", "# head edited\ntasks: []\n", "# head\ntasks:\n  - id: c\n    title: C\n",
              "# head edited\ntasks:\n  - id: c\n    title: C\n"),
             ("# head\ntasks: []\n", "# head\ntasks: []  # none yet\n", "# head\ntasks:\n  - id: c\n    title: C\n",
              "# head\ntasks:  # none yet\n  - id: c\n    title: C\n")]
    for base, empty, other, expected in cases:
        for ours, theirs in ((empty, other), (other, empty)):
            merged = merge_backlogs(base, ours, theirs)
            assert merged.conflicts == [] and merged.by_task and merged.text == expected
    both_empty = merge_backlogs("tasks: []\n", "# new\ntasks: []\n", "tasks: []\n")
    assert both_empty.conflicts == [] and both_empty.text == "# new\ntasks: []\n"  # no tasks: `[]` stays


def test_too_many_moves_on_both_sides_to_check_are_left_to_a_human() -> None:
    items = [f"t{n}" for n in range(2000)]
    one_moved = items[1:] + items[:1]
    assert merged_order(items, items[::-1], items[:1] + items[2:] + items[1:2], set(items)) is None
    assert merged_order(items, one_moved, items[:1] + items[2:] + items[1:2], set(items)) == \
        items[2:] + ["t1", "t0"]  # a few moves are checked and merged: t0 last of all on our side


def test_a_reorder_on_either_side_is_kept() -> None:
    alpha, beta = BASE[BASE.index("  - id: alpha"):BASE.index("  - id: beta")], BASE[BASE.index("  - id: beta"):]
    moved = BASE[:BASE.index("  - id: alpha")] + beta.replace("# trailing words\n", "") + alpha + "# trailing words\n"
    tool = with_writeback(BASE, "alpha", WRITEBACK)
    for ours, theirs in ((moved, tool), (tool, moved)):
        merged = merge_backlogs(BASE, ours, theirs)
        assert merged.conflicts == [] and list(tasks_of(merged.text)) == ["beta", "alpha"]
        assert without_tool_writes(merged.text) == moved


def listed(order: str) -> str:
    return "tasks:\n" + "".join(f"  - id: {name}\n    title: {name.upper()}\n" for name in order)


def test_moves_on_both_sides_merge_when_they_agree_and_conflict_when_they_contradict() -> None:
    merged = merge_backlogs(listed("abcd"), listed("bacd"), listed("abdc"))
    assert merged.conflicts == [] and list(tasks_of(merged.text)) == list("badc")
    assert list(tasks_of(merge_backlogs(listed("abc"), listed("cab"), listed("bca")).text)) \
        == list("cba")  # c first on one side, a last on the other
    # a after b on one side and b after c on the other; b last on one side and first on the other
    for base, ours, theirs in (("abc", "bac", "acb"), ("abcd", "acdb", "bacd")):
        clash = merge_backlogs(listed(base), listed(ours), listed(theirs).replace("title: C", "title: C2"))
        assert clash.conflicts == ["the order of the tasks: both sides moved tasks in ways that contradict"]
        mine, yours = clash.text.split("=======")  # each side's order of the merged tasks, to keep one of them
        assert mine.count("title: C2\n") == yours.count("title: C2\n") == 1 and "title: C\n" not in clash.text
        assert "".join(re.findall(r"id: (\w)", mine)) == ours and "".join(re.findall(r"id: (\w)", yours)) == theirs


# --- the driver under a plain `git merge` ----------------------------------------------------

def registered_repo(root: Path) -> Path:
    write(root / ".leviathan" / "backlog.yaml", BASE)
    run_init(find_repo(root), out=io.StringIO())
    git(root, "add", "-A")
    git(root, "commit", "-qm", "backlog")
    return root


def agent_branch(root: Path, task_id: str) -> None:
    git(root, "switch", "-qc", f"agent/{task_id}-1")
    backlog = root / ".leviathan" / "backlog.yaml"
    backlog.write_text(with_writeback(backlog.read_text(), task_id,
                                      {**WRITEBACK, "last_attempt_id": f"attempt-{task_id}-1"}))
    write(root / f"{task_id}.py", "done = True\n")
    git(root, "commit", "-qam", f"complete {task_id}")
    git(root, "add", "-A")
    git(root, "commit", "-qm", f"{task_id} code")
    git(root, "switch", "-q", "main")


def merged_with_the_agent_both_ways(root: Path, branch: str, human: str) -> list[str]:
    """The backlog after ``branch`` (a human writing ``human``) and agent/alpha-1 merge, the
    human's side as ours (on ``branch``-then-agent) and as theirs (on main)."""
    git(root, "switch", "-qc", branch)
    (root / ".leviathan" / "backlog.yaml").write_text(human)
    git(root, "commit", "-qam", f"{branch}: a human edit")
    git(root, "switch", "-qc", f"{branch}-then-agent")
    git(root, "merge", "-q", "--no-edit", "agent/alpha-1")  # the human's side is ours
    git(root, "switch", "-q", "main")
    git(root, "merge", "-q", "--no-edit", "agent/alpha-1")
    git(root, "merge", "-q", "--no-edit", branch)  # the human's side is theirs
    return [git(root, "show", f"{name}:.leviathan/backlog.yaml") for name in ("main", f"{branch}-then-agent")]


def test_git_merges_two_agent_branches_and_a_human_edit_without_conflicts(git_repo: Path) -> None:
    root = registered_repo(git_repo)
    agent_branch(root, "alpha")
    agent_branch(root, "beta")
    backlog = root / ".leviathan" / "backlog.yaml"
    backlog.write_text(backlog.read_text().replace("title: Beta", "title: Beta  # renamed? no: annotated")
                       .replace("# trailing words\n", "  - id: gamma\n    title: Gamma\n# trailing words\n"))
    git(root, "commit", "-qam", "human edit")
    plain = subprocess.run(["git", "-c", "merge.leviathan-backlog.driver=false", "merge", "--no-commit", "agent/beta-1"],
                           cwd=root, capture_output=True, text=True)
    assert plain.returncode != 0  # without the driver, git would stop here
    git(root, "merge", "--abort")
    git(root, "merge", "-q", "--no-edit", "agent/alpha-1")
    git(root, "merge", "-q", "--no-edit", "agent/beta-1")
    tasks = tasks_of(backlog.read_text())
    assert [tasks[t]["status"] for t in ("alpha", "beta")] == ["done", "done"]
    assert tasks["beta"]["last_attempt_id"] == "attempt-beta-1" and "gamma" in tasks
    assert "# renamed? no: annotated" in backlog.read_text()
    assert git(root, "status", "--porcelain") == ""


def test_git_merge_keeps_a_deleted_comment_and_a_reorder_from_either_side(git_repo: Path) -> None:
    root = registered_repo(git_repo)
    backlog = root / ".leviathan" / "backlog.yaml"
    backlog.write_text(BASE.replace("    status: ready\n    effort: 3", "    # waiting for a slot\n    status: ready\n    effort: 3"))
    git(root, "commit", "-qam", "a note")
    agent_branch(root, "alpha")
    text = backlog.read_text().replace("    # waiting for a slot\n", "")
    alpha, beta = text[text.index("  - id: alpha"):text.index("  - id: beta")], text[text.index("  - id: beta"):]
    tidied = text[:text.index("  - id: alpha")] + beta.replace("# trailing words\n", "") + alpha + "# trailing words\n"
    for merged in merged_with_the_agent_both_ways(root, "tidy", tidied):
        assert list(tasks_of(merged)) == ["beta", "alpha"] and tasks_of(merged)["alpha"]["status"] == "done"
        assert without_tool_writes(merged) == tidied
    assert git(root, "status", "--porcelain") == ""


def test_a_genuine_conflict_still_conflicts_under_git_merge(git_repo: Path) -> None:
    root = registered_repo(git_repo)
    backlog = root / ".leviathan" / "backlog.yaml"
    git(root, "switch", "-qc", "ann")
    backlog.write_text(BASE.replace("title: Alpha", "title: Alpha by Ann"))
    git(root, "commit", "-qam", "ann")
    git(root, "switch", "-q", "main")
    backlog.write_text(BASE.replace("title: Alpha", "title: Alpha by Bob"))
    git(root, "commit", "-qam", "bob")
    result = subprocess.run(["git", "merge", "ann"], cwd=root, capture_output=True, text=True)
    assert result.returncode != 0 and "CONFLICT" in result.stdout
    text = backlog.read_text()
    assert "Alpha by Ann" in text and "Alpha by Bob" in text and "<<<<<<< ours" in text
    assert "UU .leviathan/backlog.yaml" in git(root, "status", "--porcelain")


def test_git_merge_keeps_a_human_requote_and_reflow_next_to_a_writeback(git_repo: Path) -> None:
    root = registered_repo(git_repo)
    agent_branch(root, "alpha")
    restyled = BASE.replace("title: Alpha", "title: 'Alpha'").replace(
        "    effort: 3\n    acceptance_criteria: [works]\n", "    effort: 3\n    acceptance_criteria:\n      - works\n")
    for merged in merged_with_the_agent_both_ways(root, "restyle", restyled):
        assert without_tool_writes(merged) == restyled and tasks_of(merged)["alpha"]["status"] == "done"
    assert git(root, "status", "--porcelain") == ""


# What `leviathan init` wrote into `.git/config` and `.gitattributes` before the package became
# wings (version 0.1.0 at 1f9f048), spelled out rather than taken from today's code: a clone set
# up then must keep merging after an upgrade, without `init` again.
INIT_0_1_0_DRIVER = "{python} -m leviathan_local merge-driver %O %A %B --marker-size %L --path %P"
INIT_0_1_0_ATTRIBUTE = ".leviathan/backlog.yaml merge=leviathan-backlog"


def test_a_clone_registered_by_an_older_init_still_merges_through_its_driver_line(git_repo: Path) -> None:
    write(git_repo / ".leviathan" / "backlog.yaml", BASE)
    write(git_repo / ".gitattributes", INIT_0_1_0_ATTRIBUTE + "\n")
    git(git_repo, "config", "merge.leviathan-backlog.name", "leviathan-local backlog merge")
    git(git_repo, "config", "merge.leviathan-backlog.driver", INIT_0_1_0_DRIVER.format(python=sys.executable))
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "backlog, as an older init left it")
    agent_branch(git_repo, "alpha")
    agent_branch(git_repo, "beta")
    git(git_repo, "merge", "-q", "--no-edit", "agent/alpha-1")
    git(git_repo, "merge", "-q", "--no-edit", "agent/beta-1")  # conflicts in the backlog without the driver
    tasks = tasks_of((git_repo / ".leviathan" / "backlog.yaml").read_text())
    assert [tasks[t]["status"] for t in ("alpha", "beta")] == ["done", "done"]
    assert git(git_repo, "status", "--porcelain") == ""
