"""Discovery on throw-away repositories: languages, ids, re-scans, removals, the cache, the CLI."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git, write

from leviathan_local import events
from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog, update_task
from leviathan_local.clock import now
from leviathan_local.commands.discover import run_discover
from leviathan_local.config.policy import DiscoverySettings, Policy
from leviathan_local.discovery.findings import findings_in
from leviathan_local.discovery.settings import DEFAULT_TAGS
from leviathan_local.git.repo import RepoPaths, find_repo
from leviathan_local.planning.wsjf import score_task

TAGS = DEFAULT_TAGS

SOURCES = {  # path: (content, the lines that hold a tagged comment)
    "src/app.py": ('x = "TODO: in a string"\n# TODO: handle a missing user\ny = 1  # FIXME off by one\n'
                   '"""\n# TODO inside a docstring\n"""\n', [2, 3]),
    "web/app.js": ("const s = '// TODO no';\n// HACK: works around a browser bug\n", [2]),
    "web/types.ts": ("const t = `\n// TODO in a template\n`; /* XXX: typed */\n", [3]),
    "native/lib.c": ('char *s = "/* TODO */";\n/*\n * BUG: overflow on\n * long input\n */\n', [3]),
    "native/lib.hpp": ("int f(); // TODO(ann): inline it\n", [1]),
    "cmd/main.go": ("s := \"// FIXME no\"\n// FIXME: close the file\n", [2]),
    "crates/lib.rs": ("fn f<'a>(x: &'a str) {} // TODO: lifetimes\n", [1]),
    "scripts/run.sh": ("echo $# # HACK: parse args properly\nurl=a#TODO\n", [1]),
    "config/app.yaml": ("key: value # TODO: tune the pool\nurl: 'x # TODO no'\n", [1]),
    "docs/guide.md": ("TODO in prose is not a comment\n<!-- TODO: write the install section -->\n", [2]),
}


def lines_found(path: str, content: str) -> list[int]:
    return [line for line, *_ in findings_in(content.encode(), path, TAGS)]


@pytest.mark.parametrize("path", sorted(SOURCES))
def test_tags_count_only_in_comments_of_each_language(path: str) -> None:
    content, expected = SOURCES[path]
    assert lines_found(path, content) == expected


def test_whole_words_only_and_continuation_lines_are_joined() -> None:
    assert lines_found("a.py", "# TODOS and MYTODO and TODO_LIST are not tags\n") == []
    [(line, tag, text, description, _)] = findings_in(
        b"# TODO: handle the case where\n#   the user is missing\n# An unrelated comment\n", "a.py", TAGS)
    assert (line, tag, text, description) == (1, "TODO", "handle the case where",
                                              "handle the case where the user is missing")
    [(_, _, _, block, _)] = findings_in(b"/* FIXME: first\n * second\n */\n", "a.c", TAGS)
    assert block == "first second"


def test_binary_and_unknown_files_are_skipped() -> None:
    assert findings_in(b"\0\0# TODO: binary", "blob.py", TAGS) == ()
    assert findings_in(b"TODO: a note", "notes.txt", TAGS) == ()


def test_the_default_tags_are_policys() -> None:
    assert DEFAULT_TAGS == DiscoverySettings().tags


# --- whole scans in repositories ------------------------------------------------------------

def project(root: Path) -> RepoPaths:
    for path, (content, _) in SOURCES.items():
        write(root / path, content)
    write(root / ".leviathan" / "backlog.yaml", "# our backlog\ntasks:\n  - id: mine\n    title: Mine\n")
    write(root / ".gitignore", "build/\nworktrees/\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "project")
    return find_repo(root)


def discover(paths: RepoPaths, dry_run: bool = False) -> dict:
    out = io.StringIO()
    assert run_discover(tuple(map(str, paths)), dry_run=dry_run, as_json=True, out=out) == 0
    return json.loads(out.getvalue())


def discovered(paths: RepoPaths) -> dict:
    return {task.id: task for task in load_backlog(paths).tasks if task.get("source")}


def test_findings_become_new_tasks_and_a_rescan_adds_nothing(repo_paths: RepoPaths) -> None:
    paths = project(repo_paths.root)
    first = discover(paths)
    expected = sum(len(lines) for _, lines in SOURCES.values())
    assert len(first["findings"]) == expected and len(first["new"]) == expected
    tasks = discovered(paths)
    assert set(tasks) == set(first["new"])
    task = next(t for t in tasks.values() if t.get("source")["path"] == "src/app.py" and t.get("source")["line"] == 2)
    assert task.status is Status.NEW and task.type == "chore" and task.title == "TODO: handle a missing user"
    assert task.get("source") == {"kind": "todo", "tag": "TODO", "path": "src/app.py", "line": 2,
                                  "text": "handle a missing user"}
    assert {t.type for t in tasks.values() if t.get("source")["tag"] in ("FIXME", "BUG")} == {"bug"}
    assert paths.backlog.read_text().startswith("# our backlog\ntasks:\n  - id: mine\n    title: Mine\n")
    before = paths.backlog.read_bytes()
    again = discover(paths)
    assert again["new"] == [] and again["moved"] == [] and paths.backlog.read_bytes() == before
    assert [e.kind for e in events.read_events(paths)].count("discovery.applied") == 1


def test_ids_are_stable_across_processes(repo_paths: RepoPaths) -> None:
    paths = project(repo_paths.root)
    command = [sys.executable, "-m", "leviathan_local", "--repo", str(paths.root), "discover", "--dry-run", "--json"]
    runs = [json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout) for _ in range(2)]
    (paths.state_dir / "discover-cache").unlink()
    runs.append(json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout))
    assert runs[0]["findings"] == runs[1]["findings"] == runs[2]["findings"]
    assert runs[1]["scan"]["files_read"] == 0 and runs[2]["scan"]["files_read"] > 0


def test_a_moved_line_updates_the_source_without_a_new_task(repo_paths: RepoPaths) -> None:
    paths = project(repo_paths.root)
    discover(paths)
    app = paths.root / "src" / "app.py"
    app.write_text("import os\n\n" + app.read_text())
    result = discover(paths)
    assert result["new"] == [] and sorted(m["to"] - m["from"] for m in result["moved"]) == [2, 2]
    lines = sorted(t.get("source")["line"] for t in discovered(paths).values() if t.get("source")["path"] == "src/app.py")
    assert lines == [4, 5]


def test_identical_texts_are_distinct_per_file_and_per_occurrence(repo_paths: RepoPaths) -> None:
    for name in ("a.py", "b.py"):
        write(repo_paths.root / name, "# TODO: tidy up\nx = 1\n# TODO: tidy up\n")
    write(repo_paths.root / ".leviathan" / "backlog.yaml", "tasks: []\n")
    ids = discover(repo_paths)["new"]
    assert len(ids) == len(set(ids)) == 4
    assert sum(task_id.endswith("-2") for task_id in ids) == 2


def test_a_removed_finding_blocks_its_new_task_and_spares_refined_ones(repo_paths: RepoPaths) -> None:
    paths = project(repo_paths.root)
    discover(paths)
    by_path = {t.get("source")["path"]: t.id for t in discovered(paths).values()}
    refined = by_path["web/app.js"]
    text = paths.backlog.read_text().replace(f"- id: {refined}\n", f"- id: {refined}\n    # refined by a human\n")
    paths.backlog.write_text(text)
    update_task(paths, refined, {"status": "refined"})
    (paths.root / "scripts" / "run.sh").write_text("echo done\n")
    (paths.root / "web" / "app.js").write_text("const s = 1;\n")
    result = discover(paths)
    removed = {item["id"]: item["blocked"] for item in result["removed"]}
    assert removed == {by_path["scripts/run.sh"]: True, refined: False}
    gone = load_backlog(paths).task(by_path["scripts/run.sh"])
    assert gone.status is Status.BLOCKED and gone.get("blocked_reason").startswith("source removed")
    assert load_backlog(paths).task(refined).status is Status.REFINED
    assert "# refined by a human" in paths.backlog.read_text()
    (paths.root / "scripts" / "run.sh").write_text(SOURCES["scripts/run.sh"][0])
    back = discover(paths)
    assert back["restored"] == [by_path["scripts/run.sh"]]
    assert load_backlog(paths).task(by_path["scripts/run.sh"]).status is Status.NEW


def test_ignored_excluded_untracked_and_tool_paths(repo_paths: RepoPaths) -> None:
    paths = project(repo_paths.root)
    write(paths.root / "build" / "gen.py", "# TODO: generated, ignored\n")
    write(paths.root / "worktrees" / "slot-0" / "x.py", "# TODO: an attempt's copy\n")
    write(paths.root / ".leviathan" / "notes.py", "# TODO: the tool's own\n")
    write(paths.root / "vendor" / "lib.py", "# TODO: vendored\n")
    write(paths.root / "new_module.py", "# TODO: untracked but not ignored\n")
    write(paths.root / ".leviathan" / "policy.yaml", "discovery:\n  exclude: [vendor/]\n")
    found = {f["path"] for f in discover(paths, dry_run=True)["findings"]}
    assert "new_module.py" in found
    assert not found & {"build/gen.py", "worktrees/slot-0/x.py", ".leviathan/notes.py", "vendor/lib.py"}


def test_a_rescan_reads_only_changed_files_and_dry_run_writes_nothing(repo_paths: RepoPaths) -> None:
    paths = project(repo_paths.root)
    before = paths.backlog.read_bytes()
    first = discover(paths, dry_run=True)
    assert first["dry_run"] and len(first["new"]) == len(first["findings"]) > 0
    assert paths.backlog.read_bytes() == before and events.read_events(paths) == []
    assert discover(paths, dry_run=True)["scan"]["files_read"] == 0
    (paths.root / "src" / "app.py").write_text("# TODO: only this one now\n")
    rescan = discover(paths, dry_run=True)
    assert rescan["scan"]["files_read"] == 1
    assert [f["text"] for f in rescan["findings"] if f["path"] == "src/app.py"] == ["only this one now"]


def findings_at(result: dict, path: str) -> list[tuple[int, str]]:
    return [(f["line"], f["text"]) for f in result["findings"] if f["path"] == path]


def test_binary_files_are_skipped_on_a_cold_scan_and_after_they_change(repo_paths: RepoPaths) -> None:
    root = repo_paths.root
    logo, tool = root / "assets" / "logo.py", root / "tools" / "gen.py"
    logo.parent.mkdir()
    logo.write_bytes(b"\x89PNG\r\n\0\0# TODO: bytes that look like a comment\n")
    write(tool, "# TODO: generate the docs\n")
    paths = project(root)  # commits both
    cold = discover(paths)
    assert findings_at(cold, "assets/logo.py") == [] and findings_at(cold, "tools/gen.py") == [(1, "generate the docs")]
    logo.write_bytes(b"\0\0# FIXME: another binary comment\n# TODO: and one more\n")  # still binary
    tool.write_bytes(b"\0" + tool.read_bytes())  # text that became binary
    again = discover(paths)
    assert again["scan"]["files_read"] == 2
    assert findings_at(again, "assets/logo.py") == [] and findings_at(again, "tools/gen.py") == []
    assert [item["path"] for item in again["removed"]] == ["tools/gen.py"]


@pytest.mark.parametrize("cache", ["a fresh clone", "the cache deleted"])
def test_a_backlog_of_discovered_tasks_scanned_without_a_cache_updates_them(repo_paths: RepoPaths, tmp_path: Path,
                                                                            cache: str) -> None:
    paths = project(repo_paths.root)
    created = discover(paths)["new"]
    git(paths.root, "commit", "-qm", "discovered", "--", ".leviathan/backlog.yaml")
    if cache == "a fresh clone":
        git(tmp_path, "clone", "-q", str(paths.root), "clone")
        paths = find_repo(tmp_path / "clone")
    else:
        shutil.rmtree(paths.common_dir / "leviathan")
    assert not (paths.common_dir / "leviathan").exists()
    app = paths.root / "src" / "app.py"
    app.write_text("import os\n" + app.read_text())
    result = discover(paths)
    assert result["new"] == [] and result["removed"] == [] and sorted(m["to"] - m["from"] for m in result["moved"]) == [1, 1]
    ids = [task.id for task in load_backlog(paths).tasks]
    assert len(ids) == len(set(ids)) == len(created) + 1  # the human's task and each finding once
    lines = sorted(t.get("source")["line"] for t in discovered(paths).values() if t.get("source")["path"] == "src/app.py")
    assert lines == [3, 4]


def test_a_finding_whose_id_a_human_task_has_is_reported_and_left_alone(repo_paths: RepoPaths) -> None:
    paths = project(repo_paths.root)
    finding = next(f for f in discover(paths, dry_run=True)["findings"] if f["path"] == "cmd/main.go")
    mine = f"  - id: {finding['id']}  # I took this id first\n    title: Close files everywhere\n    status: ready\n"
    paths.backlog.write_text(paths.backlog.read_text() + mine)
    result = discover(paths)
    assert result["skipped"] == [finding["id"]] and finding["id"] not in result["new"]
    assert paths.backlog.read_text().count(f"id: {finding['id']}") == 1 and mine in paths.backlog.read_text()
    task = load_backlog(paths).task(finding["id"])
    assert task.title == "Close files everywhere" and task.get("source") is None and task.status is Status.READY
    out = io.StringIO()
    run_discover(tuple(map(str, paths)), dry_run=True, out=out)
    assert f"skipped  {finding['id']}  (a task not made by discovery has this id)" in out.getvalue()


def test_the_findings_of_a_content_seen_before_serve_another_path_and_restored_content(repo_paths: RepoPaths) -> None:
    paths = project(repo_paths.root)
    first = discover(paths)
    app = paths.root / "src" / "app.py"
    original = app.read_text()
    write(paths.root / "lib" / "copy.py", original)  # the same blob at another path
    copied = discover(paths)
    assert copied["scan"]["files_read"] == 1
    assert findings_at(copied, "lib/copy.py") == findings_at(first, "src/app.py") != []
    ids = {f["path"]: f["id"] for f in copied["findings"] if f["line"] == 2}
    assert ids["lib/copy.py"] != ids["src/app.py"] and ids["lib/copy.py"] in copied["new"]
    assert discovered(paths)[ids["lib/copy.py"]].get("source")["path"] == "lib/copy.py"
    app.write_text("x = 1\n")
    assert {item["id"] for item in discover(paths)["removed"]} == {f["id"] for f in first["findings"]
                                                                   if f["path"] == "src/app.py"}
    app.write_text(original)  # back to a content another path still has
    restored = discover(paths)
    assert [f for f in restored["findings"] if f["path"] == "src/app.py"] == \
        [f for f in first["findings"] if f["path"] == "src/app.py"]
    assert sorted(restored["restored"]) == sorted(f["id"] for f in first["findings"] if f["path"] == "src/app.py")


def test_the_same_content_under_another_comment_syntax_is_read_again(repo_paths: RepoPaths) -> None:
    write(repo_paths.root / "notes.py", "# TODO: a comment in Python\n")
    write(repo_paths.root / ".leviathan" / "backlog.yaml", "tasks:\n")
    git(repo_paths.root, "add", "notes.py")
    git(repo_paths.root, "commit", "-qm", "notes")
    write(repo_paths.root / "notes.js", "# TODO: a comment in Python\n")  # in JavaScript, not a comment
    assert [f["path"] for f in discover(repo_paths, dry_run=True)["findings"]] == ["notes.py"]


def test_security_findings_are_security_tasks_that_escalate(repo_paths: RepoPaths) -> None:
    write(repo_paths.root / "auth.py", "# FIXME: the password is compared in variable time\n")
    write(repo_paths.root / ".leviathan" / "backlog.yaml", "tasks:\n")
    discover(repo_paths)
    [task] = load_backlog(repo_paths).tasks
    assert task.type == "security" and task.get("impact") == 8 and "security" in task.tags
    assert score_task(task, Policy(), now()).escalations


def test_human_edits_to_discovered_tasks_survive_rescans(repo_paths: RepoPaths) -> None:
    paths = project(repo_paths.root)
    discover(paths)
    task_id = next(iter(discovered(paths)))
    edited = paths.backlog.read_text().replace(f"- id: {task_id}\n", f"- id: {task_id}\n    # keep: triaged\n")
    paths.backlog.write_text(edited)
    app = paths.root / "src" / "app.py"
    app.write_text("\n" + app.read_text())
    discover(paths)
    assert "# keep: triaged" in paths.backlog.read_text()


def test_the_cli_fast_path_and_its_errors(repo_paths: RepoPaths, tmp_path: Path) -> None:
    paths = project(repo_paths.root)
    command = [sys.executable, "-m", "leviathan_local", "discover", "--dry-run"]
    done = subprocess.run(command, cwd=paths.root, capture_output=True, text=True)
    assert done.returncode == 0 and "Nothing was written (--dry-run)." in done.stdout
    outside = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert outside.returncode == 2 and "not inside a git repository" in outside.stderr
    paths.backlog.write_text("tasks:\n  - id: [broken\n")
    broken = subprocess.run(command[:-1], cwd=paths.root, capture_output=True, text=True)
    assert broken.returncode == 2 and "backlog.yaml" in broken.stderr and "Traceback" not in broken.stderr


def test_a_run_discovers_first_when_policy_says_so(git_repo: Path) -> None:
    from engine_fixtures import RECIPE_POLICY, make_project

    from leviathan_local.commands.run import run_headless

    root = make_project(git_repo, "  - id: idle\n    title: Idle\n    status: new\n",
                        RECIPE_POLICY + "discovery: {on_run: true}\n")
    write(root / "calc.py", "# TODO: support negative numbers\n")
    git(root, "add", "calc.py")
    git(root, "commit", "-qm", "calc")
    out = io.StringIO()
    assert run_headless(find_repo(root), out=out) == 0
    paths = find_repo(root)
    [task] = [t for t in load_backlog(paths).tasks if t.get("source")]
    assert task.status is Status.NEW and task.title == "TODO: support negative numbers"
    assert "discovered 1 new task" in out.getvalue()
    assert "support negative numbers" in git(root, "show", "HEAD:.leviathan/backlog.yaml")  # in the halt commit
