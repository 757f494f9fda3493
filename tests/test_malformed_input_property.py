"""Issue 14's principle: every malformed input exits 0 (it was valid) or 2 with `error:` and
`hint:`; never a traceback, never a write, never more than a few seconds or a few hundred MB.

Property-based: hypothesis mutates valid backlog, policy and contract files (hostile values,
lost or repeated lines, stray text, cut files, aliases of aliases) and runs the real CLI entry
in-process: `plan --json` always; `run` and `attempt` whenever the files do not check out
(then they must refuse them with nothing written). A few mutations also run as real processes.
The `fuzz` marker runs many more examples (`python -m pytest -m fuzz`, which CI runs too).
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from conftest import git, write
from engine_fixtures import RECIPE_POLICY, make_project, task_yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leviathan_local.cli.main import main
from leviathan_local.engine.preflight import check_inputs
from leviathan_local.errors import LeviathanError
from leviathan_local.git.repo import find_repo

FILES = {"backlog": ".leviathan/backlog.yaml", "policy": ".leviathan/policy.yaml",
         "contract": ".leviathan/contract.yaml"}
CONTRACT = "target_id: demo\nname: Demo\ndefault_branch: main\nowner: someone\n"
TASKS = (task_yaml("add") + "    dependencies: [base]\n    tags: [math]\n    priority: high\n"
         + task_yaml("base", extra="    type: chore\n    created_at: '2026-01-02T03:04:05Z'\n")
         + "  - task_id: docs-1\n    title: Docs\n    status: pending\n    ready: true\n    scope: docs\n")
SECONDS = 5.0  # per command, generous for a loaded machine: the inputs here take milliseconds
MEMORY_MB = 600  # the most this test process may ever have used

LAUGHS = "lol: &l0 [lol]\n" + "".join(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]\n" for n in range(1, 10))
HOSTILE = [
    "9" * 5000, "0x" + "f" * 4000, "-3", "14", "true", "null", "~", "''", "[]", "{}", "[a, [b]]", "{a: 1}",
    "*nope", "&a [*a]", "..", "a..b", ".hidden", "x.lock", "x" * 300, "-x", "1e999", ".nan", "2026-13-45T99:00:00Z",
    "!!python/object/apply:os.system ['true']", "!!binary AAAA", "!!set {a}", "<<: *x", "<<: [1]", "'", '"', "{", "[",
    "- ", ": ", "? ", "|", ">", "---", "...", "%YAML 1.1", "\t", "\x00", "\x7f", "\ufeff", "é", "#", "`", "@", "%",
    "status: doing", "id: add", "status: sideways", "effort: 0", "allowed_paths: ['../x']", "agent: {kind: manual}",
    "kind: recipe", "scopes: {docs: {allowed_paths: [/etc]}}", "default_branch: nope", LAUGHS,
]


# Typed values for a field (the mutation rewrites the file with one field's value replaced):
# these pass the YAML parser and reach the validators, the ranking and the reports.
TYPED = st.recursive(
    st.none() | st.booleans() | st.integers(-(10 ** 30), 10 ** 30) | st.floats() | st.sampled_from(HOSTILE[:24])
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=8,
)


@dataclass
class Mutation:
    name: str  # which file
    how: str
    text: str  # the file's whole new text

    def __repr__(self) -> str:  # hypothesis prints the failing example: keep it readable
        return f"Mutation({self.name!r}, {self.how!r}, {self.text[:2000]!r})"


@st.composite
def mutations(draw: st.DrawFn, originals: dict[str, str]) -> Mutation:
    name = draw(st.sampled_from(sorted(originals)))
    text = originals[name]
    lines = text.splitlines(keepends=True)
    how = draw(st.sampled_from(["typed", "typed", "value", "insert", "delete", "repeat", "indent", "cut", "several"]))
    if how == "typed":
        return Mutation(name, how, _typed(draw, yaml.safe_load(text)))
    rounds = draw(st.integers(2, 4)) if how == "several" else 1
    for _ in range(rounds):
        kind = how if how != "several" else draw(st.sampled_from(["value", "insert", "delete", "repeat", "indent"]))
        hostile = draw(st.sampled_from(HOSTILE) | st.text(max_size=8))
        line = draw(st.integers(0, max(len(lines) - 1, 0)))
        if not lines:
            lines = [hostile]
        elif kind == "value":
            key, colon, _ = lines[line].partition(": ")
            lines[line] = f"{key}: {hostile}\n" if colon else f"{lines[line].rstrip()} {hostile}\n"
        elif kind == "insert":
            at = draw(st.integers(0, len(lines[line])))
            lines[line] = lines[line][:at] + hostile + lines[line][at:]
        elif kind == "delete":
            del lines[line]
        elif kind == "repeat":
            lines.insert(line, lines[line])
        elif kind == "indent":
            lines[line] = ("  " + lines[line]) if draw(st.booleans()) else lines[line][2:]
        else:  # cut
            whole = "".join(lines)
            lines = [whole[:draw(st.integers(0, len(whole)))]]
    return Mutation(name, how, "".join(lines))


FIELD_NAMES = ["id", "task_id", "status", "ready", "effort", "scope", "steps", "dependencies", "allowed_paths",
               "created_at", "attempts", "blocked_type", "source", "kind", "command", "limits", "tdd",
               "default_branch", "tasks", "agent", "scopes", "red"]


def _typed(draw: st.DrawFn, data: object) -> str:
    """``data`` (a file as read) with one value somewhere in it (or a new key) replaced by a typed value."""
    holder = data
    while isinstance(holder, (dict, list)) and holder:
        key = draw(st.sampled_from(list(holder) if isinstance(holder, dict) else range(len(holder))))
        if draw(st.integers(0, 3)) == 0 or not isinstance(holder[key], (dict, list)) or not holder[key]:
            if isinstance(holder, dict) and draw(st.booleans()):
                key = draw(st.sampled_from(FIELD_NAMES))
            holder[key] = draw(TYPED)
            return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        holder = holder[key]
    return yaml.safe_dump(draw(TYPED), allow_unicode=True)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the repository, `.git` included; the content-keyed parse cache is scratch
    that even `plan` may store (DOCS/decisions.md)."""
    scratch = os.path.join(".git", "leviathan", "cache")
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file() and not str(path.relative_to(root)).startswith(scratch)}


@dataclass
class Tally:
    inputs: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # the first line of each kind of error

    def note(self, err: str) -> None:
        first = err.splitlines()[0] if err else ""
        kind = first.split(": ", 2)[-1][:60] if first else "(valid)"
        self.refused[kind] = self.refused.get(kind, 0) + 1


def cli(root: Path, *command: str) -> tuple[int, str, float]:
    """The real CLI entry, in-process: (exit code, stderr, seconds). Any exception escapes."""
    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exited:
        main(["--repo", str(root), *command])
    return exited.value.code, err.getvalue(), time.monotonic() - start


def assert_clean_outcome(code: int, err: str, seconds: float, command: str) -> None:
    assert code in (0, 2), f"{command}: exit {code}\n{err}"
    assert "Traceback" not in err, err
    if code == 2:
        assert err.startswith("error: ") and "\nhint: " in err, f"{command}: {err}"
    assert seconds < SECONDS, f"{command} took {seconds:.1f}s"


def make_target(root: Path) -> dict[str, str]:
    make_project(root, TASKS, RECIPE_POLICY)
    write(root / FILES["contract"], CONTRACT)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "contract")
    return {name: (root / path).read_text() for name, path in FILES.items()}


def check_one(root: Path, originals: dict[str, str], mutation: Mutation, tally: Tally) -> None:
    for name, path in FILES.items():
        (root / path).write_text(mutation.text if name == mutation.name else originals[name])
    before = snapshot(root)
    for command in (("plan", "--json"), ("plan", "--explain"), ("status", "--format", "json")):
        code, err, seconds = cli(root, *command)
        assert_clean_outcome(code, err, seconds, " ".join(command))
        assert snapshot(root) == before, f"{' '.join(command)} wrote something"
    try:
        check_inputs(find_repo(root))
    except LeviathanError as error:  # the files do not check out: a run or attempt must refuse them
        tally.note(f"error: {error.message}")
        for command in (("run",), ("attempt", "add")):
            code, err, seconds = cli(root, *command)
            assert_clean_outcome(code, err, seconds, " ".join(command))
            assert code == 2, f"{' '.join(command)} accepted what the preflight refused: {error.message}"
            assert snapshot(root) == before, f"{' '.join(command)} wrote something"
    else:
        tally.note("")
    tally.inputs += 1


def run_property(tmp_path: Path, examples: int) -> Tally:
    root = tmp_path / "target"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    originals = make_target(root)
    tally = Tally()

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(mutation=mutations(originals))
    def each(mutation: Mutation) -> None:
        check_one(root, originals, mutation, tally)

    each()
    used_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert used_mb < MEMORY_MB, f"the test process reached {used_mb:.0f} MB"
    print(f"\n{tally.inputs} malformed inputs; outcomes: {sorted(tally.refused.items(), key=lambda kv: -kv[1])[:15]}")
    return tally


def test_malformed_input_exits_0_or_2_with_nothing_written(tmp_path: Path) -> None:
    tally = run_property(tmp_path, examples=120)
    assert tally.inputs >= 100 and len(tally.refused) > 5  # the mutations reach many kinds of error


@pytest.mark.fuzz
def test_malformed_input_exits_0_or_2_with_nothing_written_at_length(tmp_path: Path) -> None:
    assert run_property(tmp_path, examples=3000).inputs >= 2500


@pytest.mark.parametrize("name, text", [
    ("backlog", "tasks:\n  - id: a\n    status: ready\n    notes:\n" + "".join(f"      {line}\n" for line in
                                                                         LAUGHS.splitlines())),
    ("backlog", f"tasks:\n  - id: 'a..b'\n    status: ready\n    effort: {'9' * 5000}\n    dependencies: -3\n"),
    ("policy", "agent: {kind: recipe}\nlimits:\n  max_attempts_per_task: " + "1" + ":00" * 5000 + "\n"),
    ("contract", "default_branch: main\ndescription: [" + "x, " * 50 + "]\n"),
], ids=["laughs", "ids and numbers", "sexagesimal", "contract"])
def test_a_real_run_process_refuses_malformed_input(git_repo: Path, name: str, text: str) -> None:
    originals = make_target(git_repo)
    write(git_repo / FILES[name], text)
    before = snapshot(git_repo)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_MB << 20, MEMORY_MB << 20))
    result = subprocess.run([sys.executable, "-m", "leviathan_local", "--repo", str(git_repo), "run"],
                            capture_output=True, text=True, timeout=30, preexec_fn=limit)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.stderr.startswith("error: ") and "\nhint: " in result.stderr, result.stderr
    assert snapshot(git_repo) == before and originals[name] != text
