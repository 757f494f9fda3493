"""The cold scan's shortcut against the plain way on real repositories: lines from
`git grep -n -w` instead of searching whole files; and what a cold scan must get right."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import git, write
from test_discover import SOURCES, discover, discovered

from leviathan_local.discovery import scan as discovery_scan
from leviathan_local.discovery.findings import _hits_on_lines, _tag_pattern, findings_in
from leviathan_local.discovery.languages import language_from_name, syntax_of
from leviathan_local.discovery.scan import scan
from leviathan_local.discovery.settings import DEFAULT_TAGS
from leviathan_local.git.repo import RepoPaths
from leviathan_local.git.spawn import grep_result, start_grep

TAGS = DEFAULT_TAGS
TRICKY = {  # path: content whose tag lines are easy to place wrongly
    "same.py": "# TODO: twice\nx = 1\n# TODO: twice\n",  # identical lines: each found at its own number
    "suffix.py": "MYTODO: not a tag\nTODO: not a comment either\n# TODO: not a tag\nz = 1  # TODO: not a tag\n",
    "crlf.c": "int a;\r\n// FIXME: windows line ends\r\n/* HACK: a block\r\n * continued\r\n */\r\n",
    "latin1.py": "s = 'caf\xe9'\n# TODO: after a byte that is not UTF-8\n",
    "docstring.py": '"""Module.\n\n# TODO inside the docstring\n"""\n# XXX: after it\n',
    "continued.py": "# TODO: first\n#   second\n#   third\nx = 1\n",
    "prose.md": "TODO in prose\n<!-- BUG: in a comment -->\n",
}


def _repository(root: Path, files: dict[str, str]) -> None:
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("latin-1" if path == "latin1.py" else "utf-8"))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "sources")


def _whole_file_findings(root: Path, paths: list[str]) -> dict[str, tuple]:
    found = {path: findings_in((root / path).read_bytes(), path, TAGS) for path in paths}
    return {path: findings for path, findings in found.items() if findings}


def test_lines_from_git_grep_give_what_reading_whole_files_gives(repo_paths: RepoPaths) -> None:
    files = {path: content for path, (content, _) in SOURCES.items()} | TRICKY
    _repository(repo_paths.root, files)
    hits = grep_result(start_grep(str(repo_paths.root), TAGS))
    assert hits is not None and set(hits) <= set(files)
    assert hits["same.py"] == [(1, "# TODO: twice"), (3, "# TODO: twice")]
    for path in files:
        data = (repo_paths.root / path).read_bytes()
        assert findings_in(data, path, TAGS, hits.get(path, [])) == findings_in(data, path, TAGS), path
        text = data.decode("utf-8", errors="replace")
        assert _hits_on_lines(text, TAGS, _tag_pattern(TAGS), hits.get(path, [])) is not None, path  # no fallback
    assert [line for line, *_ in findings_in((repo_paths.root / "same.py").read_bytes(), "same.py", TAGS,
                                             hits["same.py"])] == [1, 3]


@pytest.mark.parametrize("stale", [[(2, "# TODO: gone")], [(9, "# TODO: twice")], [(3, "x = 1")], [(1, "# TODO")]])
def test_lines_that_no_longer_match_the_file_fall_back_to_reading_it_whole(stale: list[tuple[int, str]]) -> None:
    data = TRICKY["same.py"].encode()  # git read another version of the file than this one
    assert findings_in(data, "same.py", TAGS, stale) == findings_in(data, "same.py", TAGS) != ()


def test_a_cold_scan_finds_what_reading_every_file_finds(repo_paths: RepoPaths) -> None:
    files = {path: content for path, (content, _) in SOURCES.items()} | TRICKY
    files |= {f"bulk/m{n}.py": f"x = {n}\n# TODO: item {n}\n" * (n % 3) + "y = 2\n" for n in range(192)}
    _repository(repo_paths.root, files)
    cold = scan(str(repo_paths.root), str(repo_paths.git_dir), str(repo_paths.common_dir / "leviathan"), TAGS)
    listed = git(repo_paths.root, "ls-files").split()
    assert cold.relisted and cold.files_listed == len(listed) > len(files) - 1
    assert cold.files == _whole_file_findings(repo_paths.root, listed)
    assert not any(syntax_of(language_from_name(path) or "") is None and path in cold.files for path in files)


def test_a_file_git_grep_did_not_report_is_read_when_it_changed_about_the_scan(repo_paths: RepoPaths) -> None:
    # Stands in for a file changed between git grep's read and the scan's stat: git grep skips
    # files marked binary, so this one's tag reaches the scan only if it reads the file itself.
    root = repo_paths.root
    _repository(root, {".gitattributes": "hidden.py binary\n", "hidden.py": "x = 1\n# TODO: seen by the scan\n",
                       "seen.py": "# TODO: seen\n"})
    assert "hidden.py" not in grep_result(start_grep(str(root), TAGS))
    soon = time.time_ns() + 60 * 10**9  # stamped after the scan starts, as by a clock a tick behind
    os.utime(root / "hidden.py", ns=(soon, soon))
    cold = scan(str(root), str(repo_paths.git_dir), str(repo_paths.common_dir / "leviathan"), TAGS)
    assert [text for _, _, text, *_ in cold.files["hidden.py"]] == ["seen by the scan"]


def test_the_json_report_holds_odd_comment_text_as_it_is(repo_paths: RepoPaths) -> None:
    texts = ['a "quoted" \\ path', "café ünïcode and \x07 bell", "fix the crash on token expiry"]
    _repository(repo_paths.root, {"dir/odd.py": "".join(f"# TODO: {text}\n\n" for text in texts)})
    found = discover(repo_paths, dry_run=True)["findings"]
    assert [finding["text"] for finding in found] == texts and found[2]["security"] is True


def test_a_file_name_that_is_not_utf8_is_written_to_the_backlog_and_found_again(repo_paths: RepoPaths) -> None:
    root = repo_paths.root
    write(root / ".leviathan" / "backlog.yaml", "tasks:\n")
    (root / os.fsdecode(b"na\xffme.py")).write_bytes(b"# TODO: an odd name\n")
    first = discover(repo_paths)
    [finding] = first["findings"]
    assert finding["path"] == "na\\xffme.py" and first["new"] == [finding["id"]]
    assert discovered(repo_paths)[finding["id"]].get("source")["path"] == "na\\xffme.py"
    shutil.rmtree(repo_paths.common_dir / "leviathan")  # cold again: the same id, nothing new or moved
    again = discover(repo_paths)
    assert again["findings"] == first["findings"] and again["new"] == again["moved"] == []
    (root / "na\\xffme.py").write_text("# TODO: an odd name\n")  # looks the same once shown
    both = discover(repo_paths, dry_run=True)["findings"]
    assert [f["path"] for f in both] == ["na\\xffme.py"] * 2 and len({f["id"] for f in both}) == 2


def test_a_file_changed_after_git_grep_read_it_is_searched_whole(repo_paths: RepoPaths,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo_paths.root
    _repository(root, {"a.py": "# TODO: one\n", "b.py": "x = 1\n"})
    real = discovery_scan.grep_result

    def then_edited(grep):  # git has read both files: they change before the scan reads them
        hits = real(grep)
        for name, line in (("a.py", "# TODO: two\n"), ("b.py", "# FIXME: three\n")):
            with open(root / name, "a") as handle:
                handle.write(line)
            stamp = time.time_ns() - 5_000_000  # a clock a tick behind: before the scan began
            os.utime(root / name, ns=(stamp, stamp))
        return hits

    monkeypatch.setattr(discovery_scan, "grep_result", then_edited)
    written = time.time_ns()  # as if just written: on a loaded machine the commit above may take longer than a tick
    for name in ("a.py", "b.py"):
        os.utime(root / name, ns=(written, written))
    cold = scan(str(root), str(repo_paths.git_dir), str(repo_paths.common_dir / "leviathan"), TAGS)
    assert [text for _, _, text, *_ in cold.files["a.py"]] == ["one", "two"]
    assert [text for _, _, text, *_ in cold.files["b.py"]] == ["three"]


def test_a_users_grep_settings_do_not_change_what_git_grep_prints(repo_paths: RepoPaths) -> None:
    _repository(repo_paths.root, {"a.py": "x = 1\n# TODO: one\n"})
    git(repo_paths.root, "config", "grep.column", "true")
    git(repo_paths.root, "config", "grep.lineNumber", "false")
    assert grep_result(start_grep(str(repo_paths.root), TAGS)) == {"a.py": [(2, "# TODO: one")]}


def test_an_interrupt_while_git_greps_leaves_no_child_and_no_open_pipe(repo_paths: RepoPaths,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo_paths.root
    _repository(root, {f"h{n}.py": f"# TODO: item {n}\n" * 200 for n in range(20)})  # more than a pipe holds
    real_start, started = discovery_scan.start_grep, []

    def recorded(*args: object) -> object:
        started.append(real_start(*args))
        return started[-1]

    def interrupted(*_: object) -> object:
        raise KeyboardInterrupt  # as a Ctrl-C while the files are stat'ed, git grep still running

    monkeypatch.setattr(discovery_scan, "start_grep", recorded)
    monkeypatch.setattr(discovery_scan, "_stat_listed", interrupted)
    descriptors = len(os.listdir("/proc/self/fd"))
    with pytest.raises(KeyboardInterrupt):
        scan(str(root), str(repo_paths.git_dir), str(repo_paths.common_dir / "leviathan"), TAGS)
    assert len(started) == 1 and len(os.listdir("/proc/self/fd")) == descriptors
    with pytest.raises(ChildProcessError):
        os.waitpid(started[0].pid, os.WNOHANG)  # reaped: no zombie left


def test_comment_text_yaml_cannot_hold_as_it_is_is_written_escaped(repo_paths: RepoPaths) -> None:
    root = repo_paths.root
    write(root / ".leviathan" / "backlog.yaml", "tasks:\n")
    (root / "a.py").write_text("# TODO: a stray DEL \x7f here\n# FIXME: a line separator \u2028 and \ufffe\n")
    first = discover(repo_paths)
    assert len(first["new"]) == 2 and "\\u007f" in (root / ".leviathan" / "backlog.yaml").read_text()
    texts = {task.get("source")["text"] for task in discovered(repo_paths).values()}
    assert texts == {"a stray DEL \x7f here", "a line separator and \ufffe"}  # U+2028 is white space
    assert discover(repo_paths)["new"] == []


def test_excluded_directories_are_not_even_searched(repo_paths: RepoPaths) -> None:
    root = repo_paths.root
    files = {"src/a.py": "# TODO: kept\n", "vendor/lib/b.py": "# TODO: vendored\n",
             "gen/c.gen.py": "# TODO: generated\n", "worktrees/slot-1/d.py": "# TODO: an agent's copy\n", ".leviathan/e.py": "# TODO: the tool's own\n"}
    _repository(root, files)
    exclude = ("vendor/", "**/*.gen.py")
    skipped = discovery_scan._grep_skips(exclude)
    assert skipped == ("worktrees/", ".leviathan/", "vendor/")  # globs are left to the listing's filter
    assert set(grep_result(start_grep(str(root), TAGS, skipped))) == {"src/a.py", "gen/c.gen.py"}
    cold = scan(str(root), str(repo_paths.git_dir), str(repo_paths.common_dir / "leviathan"), TAGS, exclude)
    assert list(cold.files) == ["src/a.py"]
