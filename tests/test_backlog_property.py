"""Property: a tool write changes only the edited fields' lines; every other byte survives."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from leviathan_local.backlog import cache as backlog_cache
from leviathan_local.backlog import store as backlog_store
from leviathan_local.backlog.edit import EditRefused, untouched_lines
from leviathan_local.backlog.layout import task_mapping
from leviathan_local.backlog.store import load_backlog, update_task
from leviathan_local.git.repo import RepoPaths

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=12).map(str.strip).filter(bool)
HUMAN_FIELDS = ("title", "description", "priority", "impact", "effort", "allowed_paths", "tags", "scope")
TOOL_EDITS = st.fixed_dictionaries({}, optional={
    "status": st.sampled_from(["ready", "doing", "review", "done", "blocked", "pending", "READY"]),
    "ready": st.booleans(),
    "attempts": st.integers(0, 5),
    "blocked_reason": st.one_of(WORDS, st.just("needs: a human # really"), st.just("it's 'quoted'")),
    "branch_name": st.from_regex(r"agent/[a-z]{1,6}-[0-9a-f]{6}", fullmatch=True),
    "completed_at": st.just("2026-11-22T12:00:00Z"),
    "source": st.fixed_dictionaries({"kind": st.just("todo"), "line": st.integers(1, 99)}),
})


@st.composite
def scalar_text(draw, value: str) -> str:
    style = draw(st.sampled_from(["plain", "single", "double"]))
    if style == "single":
        return "'" + value.replace("'", "''") + "'"
    if style == "double":
        return '"' + value + '"'
    return value


@st.composite
def task_lines(draw, task_id: str, indent: int) -> list[str]:
    pad = " " * (indent + 2)
    fields: list[tuple[str, str]] = [("id", draw(scalar_text(task_id)))]
    for name in draw(st.lists(st.sampled_from(HUMAN_FIELDS + ("status", "attempts", "blocked_reason")), unique=True, max_size=6)):
        if name in ("impact", "effort", "attempts"):
            fields.append((name, str(draw(st.integers(1, 13)))))
        elif name == "status":
            fields.append((name, draw(st.sampled_from(["new", "ready", "pending", "NEW", "Doing"]))))
        elif name in ("allowed_paths", "tags"):
            items = draw(st.lists(st.from_regex(r"[a-z]{1,5}/", fullmatch=True), min_size=1, max_size=3))
            fields.append((name, "[" + ", ".join(items) + "]" if draw(st.booleans())
                           else "\n" + "".join(f"{pad}  - {item}\n" for item in items).rstrip("\n")))
        elif name == "description" and draw(st.booleans()):
            fields.append((name, "|\n" + f"{pad}  {draw(WORDS)}\n{pad}  {draw(WORDS)}"))
        elif name == "priority":
            fields.append((name, draw(st.sampled_from(["high", "medium", "low"]))))
        else:
            fields.append((name, draw(scalar_text(draw(WORDS)))))
    draw(st.randoms()).shuffle(fields)
    lines = []
    for position, (name, value) in enumerate(fields):
        lead = " " * indent + "- " if position == 0 else pad
        comment = draw(st.sampled_from(["", "", "  # note", "   # keep: me"]))
        if value.startswith(("\n", "|")):
            lines.append(f"{lead}{name}: {value}".replace(": \n", ":\n", 1) if value.startswith("\n")
                         else f"{lead}{name}: {value}")
        else:
            lines.append(f"{lead}{name}: {value}{comment}")
        if draw(st.integers(0, 6)) == 0:
            lines.append(draw(st.sampled_from(["", f"{pad}# a comment inside", "   "])))
    return lines


@st.composite
def backlogs(draw) -> tuple[str, list[str]]:
    count = draw(st.integers(1, 6))
    ids = [f"t{n}" for n in range(count)]
    bare = draw(st.booleans())
    indent = 0 if bare else draw(st.sampled_from([0, 2]))
    lines = [draw(st.sampled_from(["# backlog", "", "version: 1"]))] if not bare else ["# bare list"]
    if not bare:
        lines.append("tasks:" + draw(st.sampled_from(["", "  # the queue"])))
    for task_id in ids:
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", " " * indent + "# next task", "# column zero comment"])))
        lines.extend(draw(task_lines(task_id, indent)))
    ending = draw(st.sampled_from(["\n", "", "\n\n", "\n# footer\n"]))
    if not bare and draw(st.booleans()):
        ending = "\n" + "other_key: kept\n"
    return "\n".join(lines) + ending, ids


def outside(text: str, task_id: str, names: set[str]) -> list[str]:
    """The lines of ``text`` other than those of the task's named fields."""
    return untouched_lines(text, task_mapping(text, "b", task_id), names)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=backlogs(), edits=TOOL_EDITS, removal=st.sampled_from([(), ("blocked_reason",), ("attempts",)]),
       pick=st.integers(0, 100))
# A new field after a final `description: |` with no newline after it: the newline it needs
# would join the human's text, and the round-trip fallback respelled `|` as `|-`.
@example(document=("# backlog\ntasks:\n- id: t0\n\n- id: t1\n\n  scope: a\n\n  title: a\n  priority: high\n"
                   "  impact: 1\n  effort: 1\n  description: |\n    a\n    a", ["t0", "t1"]),
         edits={"completed_at": "2026-11-22T12:00:00Z"}, removal=(), pick=1)
def test_only_edited_fields_change(repo_paths: RepoPaths, document, edits, removal, pick) -> None:
    text, ids = document
    repo_paths.backlog.parent.mkdir(exist_ok=True)
    repo_paths.backlog.write_text(text)
    task_id = ids[pick % len(ids)]
    before = load_backlog(repo_paths)
    removal = tuple(name for name in removal if name not in edits)
    try:
        update_task(repo_paths, task_id, edits, removal)
    except EditRefused:
        # Refusing is allowed only where appending would change a final block scalar that has
        # no newline after it (the value itself would change), and then nothing is written.
        assert not text.endswith("\n") and repo_paths.backlog.read_text() == text
        return
    after_text = repo_paths.backlog.read_text()

    touched = set(edits) | set(removal)
    assert outside(text, task_id, touched) == outside(after_text, task_id, touched)

    backlog_store._last.clear()  # read the file afresh, not the tool's memory of it
    after = load_backlog(repo_paths)
    expected = {**before.task(task_id).data, **edits}
    first_key = next(iter(before.task(task_id).data))
    for name in removal:
        if name == first_key:
            expected[name] = None  # the key opening `- key:` is nulled rather than deleted
        else:
            expected.pop(name, None)
    assert after.task(task_id).data == expected
    for task in before.tasks:
        if task.id != task_id:
            assert after.task(task.id).data == task.data


def test_removing_the_unterminated_last_field_keeps_the_file_ending(repo_paths: RepoPaths) -> None:
    text = "# bare list\n- id: t0\n\n- id: t2\n\n  title: a\n  impact: 1\n  blocked_reason: a"
    repo_paths.backlog.parent.mkdir(exist_ok=True)
    repo_paths.backlog.write_text(text)
    update_task(repo_paths, "t2", {}, ("blocked_reason",))
    assert repo_paths.backlog.read_text() == "# bare list\n- id: t0\n\n- id: t2\n\n  title: a\n  impact: 1"
