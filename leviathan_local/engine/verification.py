"""An attempt's verification runs: each identical command on an identical tree runs once.

A run is keyed by its command, the tree it ran on (as `stage_worktree` made it, or the worktree
found unchanged since) and the environment the attempt gives its commands. A check whose key
matches an earlier completed run reuses that run's result instead of running again (refactor
that changed nothing reuses green's; the "Tests pass" invariant on the committed tree reuses
refactor's), says so in the attempt log, and its evidence names the run it reused. What is not
in the key is not seen: ignored files (the tree leaves them out), and the clock. A timed-out or
stopped run is never reused. `tdd.reuse_results: false` runs every check.

Each run's evidence (exit status, counts, duration, output digest) is kept for the commit's
trailers (engine/evidence.py); a JUnit XML report the policy names is read after each run,
before what the run left in the worktree is removed.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from leviathan_local.config import globs
from leviathan_local.engine.evidence import Counts, Evidence, evidence_of, junit_counts, output_counts, reused
from leviathan_local.engine.process import CommandResult
from leviathan_local.engine.verification_artifacts import remove_verification_artifacts
from leviathan_local.git.attempt_tree import Worktree

CHANGED_TESTS = "{changed_tests}"


@dataclass(frozen=True)
class _Run:
    check: str  # the check that ran it: red, green, refactor or invariant <name>
    result: CommandResult
    evidence: Evidence


@dataclass
class Verifier:
    git: Worktree
    log: IO[str]
    junit_xml: str | None = None  # tdd.junit_xml: the report file the test command writes, in the worktree
    reuse: bool = True
    evidence: list[Evidence] = field(default_factory=list)  # every check's, in the order they ran
    _runs: dict[tuple[str, str, str], _Run] = field(default_factory=dict)

    def run(self, check: str, command: str, tree: str | None, env: dict[str, str],
            execute: Callable[[], CommandResult], name: str | None = None, via: str | None = None,
            tests: bool = True) -> CommandResult:
        """``command``'s result for ``check`` on ``tree`` (None: the tree is not known to be the
        one staged, never reused): an earlier identical run's, or ``execute()``'s. ``tests``: it
        runs the tests (the JUnit report is looked for), not some other invariant."""
        key = (command, tree, _digest(env)) if tree is not None and self.reuse else None
        earlier = self._runs.get(key) if key is not None else None
        label = f"{check} {name}" if name else check
        if earlier is not None:
            self.log.write(f"note: reused {earlier.check}'s result for {label}: same command, same tree "
                           f"(exit {earlier.result.exit_code})\n")
            self.log.flush()
            self.evidence.append(reused(earlier.evidence, check, earlier.check, name))
            return earlier.result
        report = _JunitReport(self.git.location, self.junit_xml if tests else None)
        result = execute()
        counts = report.counts(self.log) or output_counts(result.output)
        remove_verification_artifacts(self.git, command, self.log)
        if result.stopped:
            return result
        evidence = evidence_of(check, result.exit_code, result.duration, result.output, counts, name, via)
        self.evidence.append(evidence)
        if key is not None and not result.timed_out:
            self._runs[key] = _Run(label, result, evidence)
        return result


def red_command(template: str, changed: list[str], test_globs: tuple[str, ...]) -> str:
    """``tdd.red_command`` with ``{changed_tests}`` replaced by the changed test files, shell-quoted."""
    tests = [path for path in changed if any(globs.matches(path, pattern) for pattern in test_globs)]
    return template.replace(CHANGED_TESTS, " ".join(shlex.quote(path) for path in tests))


def _digest(env: dict[str, str]) -> str:
    return hashlib.sha256(repr(sorted(env.items())).encode()).hexdigest()


class _JunitReport:
    """The policy's JUnit XML file, read only when the run just made or rewrote it: a report
    left from an earlier run says nothing about this one."""

    def __init__(self, worktree: Path, relative: str | None) -> None:
        self.file = worktree / relative if relative else None
        self.before = self._stamp()

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            stat = self.file.stat() if self.file is not None else None
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino) if stat else None

    def counts(self, log: IO[str]) -> Counts | None:
        if self.file is None:
            return None
        stamp = self._stamp()
        if stamp is None or stamp == self.before:
            log.write(f"note: the test command wrote no JUnit report at {self.file.name} (tdd.junit_xml)\n")
            return None
        try:
            found = junit_counts(self.file.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            found = None
        if found is None:
            log.write(f"note: the JUnit report {self.file.name} (tdd.junit_xml) could not be read\n")
        return found
