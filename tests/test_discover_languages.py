"""Discovery on real code: languages from identify (file name, else shebang) on real files of
the kinds a hand-kept table missed, a tag's qualifier, a discovered task's default scope."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import git, write
from identify import extensions, interpreters
from test_discover import discover

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog, update_task
from leviathan_local.clock import now
from leviathan_local.commands.discover import run_discover
from leviathan_local.config.policy import Policy, TddSettings
from leviathan_local.discovery.languages import SYNTAX_BY_TAG
from leviathan_local.discovery.reconcile import run_discovery
from leviathan_local.discovery.settings import DEFAULT_TAGS, DEFAULT_TEST_GLOBS
from leviathan_local.git.repo import RepoPaths
from leviathan_local.planning.selection import select

KINDS = {  # path: (content, executable, the (line, tag) of each tagged comment)
    "Documentation/build-docdep.perl": (
        '#!/usr/bin/perl\nmy $s = "TODO: in a string";\n# TODO: handle the perl case\n'
        "my $TODOS = 1; # FIXME: a trailing comment\n# MYTODO and TODO_LIST are not tags\n", True,
        [(3, "TODO"), (4, "FIXME")]),
    "contrib/lib.pl": ("use strict;\n# XXX: a .pl comment\nprint 'HACK: in a string';\n", False, [(2, "XXX")]),
    "git-gui/lib/choose.tcl": ('proc choose {} {\n\t# FIXME: a Tcl comment\n\tset msg "TODO: not a comment"\n}\n',
                               False, [(2, "FIXME")]),
    "po/de.po": ('# TODO: check the plural forms\n#. TODO: a note for translators\nmsgid "TODO: a message"\n'
                 'msgstr ""\n', False, [(1, "TODO"), (2, "TODO")]),
    "po/git.pot": ('# HACK: the template header\nmsgid "BUG: not a comment"\nmsgstr ""\n', False, [(1, "HACK")]),
    "meson.build": ("project('git', 'c')\n# TODO: a meson comment\nmessage('TODO: not a comment')\n", False,
                    [(2, "TODO")]),
    "gitk-git/gitk": ('#!/bin/sh\n# Tcl ignores the next line -*- tcl -*- \\\nexec wish "$0" -- "$@"\n\n'
                      '# TODO: a gitk comment\nset s "FIXME: in a string"\n', True, [(5, "TODO")]),
    "templates/hooks/pre-commit.sample": (  # committed without its executable bit, as in git's tree
        '#!/bin/sh\n#\n# BUG: a hook comment\necho "TODO: not a comment"\n', False, [(3, "BUG")]),
    "tools/wishful": ("#!/usr/bin/env wish\n# TODO: a Tk script\n", True, [(2, "TODO")]),
    "NOTES": ("# TODO: no name nor shebang says what this is\n", False, []),
    "README": ("TODO: prose\n", False, []),
}


def _write_kinds(root: Path) -> None:
    for path, (content, executable, _) in KINDS.items():
        write(root / path, content)
        if executable:
            os.chmod(root / path, 0o755)


def _expected() -> set[tuple[str, int, str]]:
    return {(path, line, tag) for path, (_, _, found) in KINDS.items() for line, tag in found}


@pytest.mark.parametrize("how", ["cold", "incremental"])
def test_each_kind_of_real_file_is_read_in_its_own_comment_syntax(repo_paths: RepoPaths, how: str) -> None:
    # cold: git grep names the lines; incremental: each new file is read whole, its findings kept per blob
    write(repo_paths.root / ".leviathan" / "backlog.yaml", "tasks:\n")
    if how == "incremental":
        discover(repo_paths, dry_run=True)
    _write_kinds(repo_paths.root)
    git(repo_paths.root, "add", "-A")
    git(repo_paths.root, "commit", "-qm", "kinds")
    found = discover(repo_paths, dry_run=True)["findings"]
    assert {(f["path"], f["line"], f["tag"]) for f in found} == _expected()


def test_no_two_tags_identify_gives_one_name_disagree_on_the_syntax() -> None:
    # What keeps the map keyed by identify's tags sound when identify grows: each name's tags
    # (`.h`: c, c++, header) may hold several listed languages only when they read alike.
    tables = (extensions.EXTENSIONS, extensions.EXTENSIONS_NEED_BINARY_CHECK, extensions.NAMES,
              interpreters.INTERPRETERS)
    for table in tables:
        for name, tags in table.items():
            assert len({SYNTAX_BY_TAG[tag] for tag in tags if tag in SYNTAX_BY_TAG}) <= 1, (name, sorted(tags))


_OPENS = """
import json, sys
root = sys.argv[1]
opened = []
sys.addaudithook(lambda event, args: opened.append(args[0]) if event == "open" and isinstance(args[0], str)
                 and args[0].startswith(root + "/") and "/.git/" not in args[0] else None)
from leviathan_local.discovery.scan import scan
result = scan(root, root + "/.git", root + "/.git/leviathan", tuple(sys.argv[2:]))
print(json.dumps({"opened": opened, "found": sorted(result.files)}))
"""


def test_a_cold_scan_opens_only_files_with_a_tag_and_each_once(repo_paths: RepoPaths) -> None:
    _write_kinds(repo_paths.root)
    write(repo_paths.root / "bin" / "quiet", "#!/bin/sh\necho nothing tagged here\n")
    # Written an hour before the scan: a file changed while git grep ran is read whole (rightly),
    # and one written a moment ago may have been, so only the grep's word would not decide.
    an_hour_ago = time.time_ns() - 3600 * 10**9
    for path in repo_paths.root.rglob("*"):
        if ".git" not in path.relative_to(repo_paths.root).parts and path.is_file():
            os.utime(path, ns=(an_hour_ago, an_hour_ago))
    root = str(repo_paths.root)
    out = subprocess.run([sys.executable, "-c", _OPENS, root, *DEFAULT_TAGS], capture_output=True, text=True,
                         check=True).stdout
    report = json.loads(out)
    opened = [path.removeprefix(root + "/") for path in report["opened"]]
    assert sorted(opened) == sorted(set(opened))  # the shebang is read from the bytes read for the tags
    assert "bin/quiet" not in opened and "README" not in opened  # no tag: git grep said so
    assert {"gitk-git/gitk", "templates/hooks/pre-commit.sample", "tools/wishful"} <= set(report["found"])


def test_a_warm_discover_does_not_import_identify(repo_paths: RepoPaths) -> None:
    write(repo_paths.root / "a.py", "# TODO: one\n")
    code = ("import sys, io; from leviathan_local.commands.discover import run_discover; "
            f"run_discover({tuple(map(str, repo_paths))!r}, dry_run=True, out=io.StringIO()); "
            "print('identify' in sys.modules)")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
            for _ in range(2)]
    assert runs == ["True", "False"]  # the first scan reads a.py; the warm one reads nothing


def test_a_tags_qualifier_is_kept_and_security_there_files_a_security_task(repo_paths: RepoPaths) -> None:
    write(repo_paths.root / "src" / "compare.py",
          "# FIXME(security): compare the digests in constant time\nx = 1\n# TODO( ann ): inline it\n")
    write(repo_paths.root / ".leviathan" / "backlog.yaml", "tasks:\n")
    discover(repo_paths)
    security, owned = load_backlog(repo_paths).tasks
    assert security.title == "FIXME(security): compare the digests in constant time"
    assert security.type == "security" and "security" in security.tags and security.get("impact") == 8
    assert security.get("source")["qualifier"] == "security" and "FIXME(security)" in security.get("description")
    assert owned.title == "TODO(ann): inline it" and owned.type == "chore"
    assert owned.get("source")["qualifier"] == "ann"


def test_a_discovered_task_gets_a_default_scope_so_plan_can_select_it(repo_paths: RepoPaths) -> None:
    write(repo_paths.root / "src" / "pkg" / "app.py", "# TODO: handle a missing user\n")
    write(repo_paths.root / "setup.py", "# TODO: declare the extras\n")
    write(repo_paths.root / ".leviathan" / "backlog.yaml", "# our backlog\ntasks:\n")
    discover(repo_paths)
    nested, top = sorted(load_backlog(repo_paths).tasks, key=lambda task: task.get("source")["path"])[::-1]
    assert nested.allowed_paths == ["src/pkg/", *DEFAULT_TEST_GLOBS]
    assert top.allowed_paths == ["setup.py", *DEFAULT_TEST_GLOBS]
    _, findings = run_discovery(repo_paths, dry_run=True)  # what the app shows before it promotes a finding
    assert [finding.as_task("")["allowed_paths"] for finding in findings] == [top.allowed_paths, nested.allowed_paths]
    assert "# our backlog" in repo_paths.backlog.read_text() and "  - src/pkg/\n" in repo_paths.backlog.read_text()
    update_task(repo_paths, nested.id, {"acceptance_criteria": ["a missing user gets a 404"],
                                        "status": Status.READY.value})
    selection = select(load_backlog(repo_paths).tasks, Policy(), now())
    assert [ranked.task.id for ranked in selection.actionable] == [nested.id]


def test_the_default_scope_holds_policys_test_globs(repo_paths: RepoPaths) -> None:
    write(repo_paths.root / "lib" / "a.rb", "# TODO: one\n")
    write(repo_paths.root / ".leviathan" / "backlog.yaml", "tasks:\n")
    write(repo_paths.root / ".leviathan" / "policy.yaml", "tdd:\n  test_globs: ['spec/**']\n")
    discover(repo_paths)
    [task] = load_backlog(repo_paths).tasks
    assert task.allowed_paths == ["lib/", "spec/**"]
    assert DEFAULT_TEST_GLOBS == TddSettings().test_globs


def test_a_task_discovered_before_it_had_a_scope_gets_the_default_once(repo_paths: RepoPaths) -> None:
    write(repo_paths.root / "src" / "a.py", "# TODO: one\n# TODO: two\n# TODO: three\n")
    write(repo_paths.root / ".leviathan" / "backlog.yaml", "tasks:\n")
    found = discover(repo_paths, dry_run=True)["findings"]
    source = "{kind: todo, tag: TODO, path: src/a.py, line: %d, text: %s}"
    earlier = [f"  - id: {found[0]['id']}  # triaged\n    title: one\n    source: {source % (1, 'one')}\n",
               f"  - id: {found[1]['id']}\n    title: two\n    scope: docs\n    source: {source % (2, 'two')}\n",
               f"  - id: {found[2]['id']}\n    title: three\n    status: refined\n    source: {source % (3, 'three')}\n"]
    write(repo_paths.root / ".leviathan" / "backlog.yaml", "tasks:\n" + "".join(earlier))
    discover(repo_paths)
    one, two, three = load_backlog(repo_paths).tasks
    assert one.allowed_paths == ["src/", *DEFAULT_TEST_GLOBS] and "# triaged" in repo_paths.backlog.read_text()
    assert two.allowed_paths == [] and three.allowed_paths == []  # a scope, or refined by a human: left alone
    before = repo_paths.backlog.read_text()
    discover(repo_paths)
    assert repo_paths.backlog.read_text() == before


def test_the_first_scan_does_not_speak_of_a_last_scan(repo_paths: RepoPaths) -> None:
    write(repo_paths.root / "a.py", "# TODO: one\n")
    for name in ("a.py", "README.md"):  # written well before the scan: git grep's lines are trusted, README not read
        os.utime(repo_paths.root / name, ns=(10**18, 10**18))
    outputs = []
    for _ in range(2):
        out = io.StringIO()
        run_discover(tuple(map(str, repo_paths)), dry_run=True, out=out)
        outputs.append(out.getvalue().splitlines()[0])
    assert outputs[0] == "Scanned 2 files (first scan: searched all, read 1):"
    assert outputs[1] == "Scanned 2 files (read 0, the rest unchanged since the last scan):"
