"""Test evidence: what each verification run showed, kept in the attempt's commit as git trailers.

One trailer per check that ran (or reused) a command, red, green, refactor, then each invariant
at the gates, after `Leviathan-Task` and `Leviathan-Attempt`:

    Leviathan-Evidence-Green: exit=0 passed=3 failed=0 errors=0 skipped=0 runner=pytest seconds=0.42 output=sha256:ab12cd34ef56
    Leviathan-Evidence-Invariant: name='Tests pass' exit=0 ... reused=refactor

The value is `key=value` fields split as a POSIX shell splits words (a value with a space is
quoted with `shlex.quote`), so `shlex.split` reads it back; fields a reader does not know are
skipped. Counts appear only where the runner reported them: JUnit XML when the policy names a
report file, else pytest's summary line, else unittest's `Ran N tests` and its verdict line.
Writer (`trailers`) and reader (`parse_trailers`) live together so `review` reads exactly
what the engine wrote.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, fields, replace

TRAILER_PREFIX = "Leviathan-Evidence-"
CHECKS = ("red", "green", "refactor", "invariant")
COUNT_NAMES = ("passed", "failed", "errors", "skipped")
DIGEST_HEX = 12  # enough to tell two outputs apart by eye; the full log keeps the output itself

_TRAILER = re.compile(rf"^{TRAILER_PREFIX}(Red|Green|Refactor|Invariant): (.+)$", re.MULTILINE)
_PYTEST_SUMMARY = re.compile(r"^=*\s*(?P<counts>(?:\d+ \w+(?:, )?)+|no tests ran) in \d+(?:\.\d+)?s\b",
                             re.MULTILINE)
_PYTEST_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped)\b")
_UNITTEST_RAN = re.compile(r"^Ran (\d+) tests? in \d+(?:\.\d+)?s$", re.MULTILINE)
_UNITTEST_VERDICT = re.compile(r"^(OK|FAILED)(?: \((.*)\))?$", re.MULTILINE)


@dataclass(frozen=True)
class Counts:
    passed: int | None = None
    failed: int | None = None
    errors: int | None = None
    skipped: int | None = None
    runner: str | None = None  # pytest | unittest | junit: where the counts were read


@dataclass(frozen=True)
class Evidence:
    check: str  # red | green | refactor | invariant
    exit: str  # the exit status, or `timeout`
    seconds: float
    output: str  # sha256:<first 12 hex digits> of the command's output
    name: str | None = None  # the invariant's name
    passed: int | None = None
    failed: int | None = None
    errors: int | None = None
    skipped: int | None = None
    runner: str | None = None
    command: str | None = None  # `red_command` when red ran tdd.red_command, not the test command
    reused: str | None = None  # the earlier check whose run this one reused (same command, same tree)

    def fields_text(self, with_name: bool = True) -> str:
        """The trailer's value: `exit=0 passed=3 ... output=sha256:…` (the invariant's name first)."""
        order = ("name",) * with_name + ("exit", *COUNT_NAMES, "runner", "command", "seconds", "output", "reused")
        values = ((key, getattr(self, key)) for key in order)
        return " ".join(f"{key}={shlex.quote(_shown(value))}" for key, value in values if value is not None)

    def trailer(self) -> str:
        return f"{TRAILER_PREFIX}{self.check.capitalize()}: {self.fields_text()}"

    def label(self) -> str:
        """`green`, or `invariant Tests pass`: what review shows before the fields."""
        return f"{self.check} {self.name}" if self.name else self.check


def evidence_of(check: str, exit_code: int | None, seconds: float, output: str, counts: Counts,
                name: str | None = None, command: str | None = None) -> Evidence:
    digest = hashlib.sha256(output.encode("utf-8", "replace")).hexdigest()[:DIGEST_HEX]
    return Evidence(check, "timeout" if exit_code is None else str(exit_code), round(seconds, 2),
                    f"sha256:{digest}", name, counts.passed, counts.failed, counts.errors, counts.skipped,
                    counts.runner, command)


def reused(evidence: Evidence, check: str, earlier: str, name: str | None = None) -> Evidence:
    """``evidence`` (the run of ``earlier``) standing for ``check``, which did not run again."""
    return replace(evidence, check=check, name=name, reused=earlier, command=None)


def trailers(found: list[Evidence]) -> str:
    return "".join(f"{evidence.trailer()}\n" for evidence in found)


def parse_trailers(message: str) -> list[Evidence]:
    """Every evidence trailer in a commit message, in order; a field it cannot read is skipped."""
    found = []
    for check, value in _TRAILER.findall(message):
        try:
            words = shlex.split(value)
        except ValueError:  # an unbalanced quote: edited by hand; show what can be read
            words = value.split()
        parsed = dict(word.partition("=")[::2] for word in words if "=" in word)
        found.append(_evidence(check.lower(), parsed))
    return found


def _evidence(check: str, parsed: dict[str, str]) -> Evidence:
    known: dict[str, object] = {"check": check, "exit": parsed.get("exit", "?"), "output": parsed.get("output", "?"),
                                "seconds": _number(parsed.get("seconds"), float) or 0.0}
    for spec in fields(Evidence):
        if spec.name in COUNT_NAMES:
            known[spec.name] = _number(parsed.get(spec.name), int)
        elif spec.name not in known:
            known[spec.name] = parsed.get(spec.name)
    return Evidence(**known)  # type: ignore[arg-type]


def _number(text: str | None, kind: type) -> object:
    try:
        return kind(text) if text is not None else None
    except ValueError:
        return None


def _shown(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def output_counts(output: str) -> Counts:
    """The counts a test runner printed: pytest's summary line, else unittest's; none found, none."""
    summary = _PYTEST_SUMMARY.findall(output)
    if summary:
        counts = {"error" if word.startswith("error") else word: int(number)
                  for number, word in _PYTEST_COUNT.findall(summary[-1])}
        return Counts(counts.get("passed", 0), counts.get("failed", 0), counts.get("error", 0),
                      counts.get("skipped", 0), "pytest")
    ran = _UNITTEST_RAN.findall(output)
    verdict = _UNITTEST_VERDICT.findall(output)
    if ran and verdict:
        details = dict(item.strip().partition("=")[::2] for item in verdict[-1][1].split(",") if "=" in item)
        numbers = {key: int(value) for key, value in details.items() if value.strip().isdigit()}
        failed, errors, skipped = numbers.get("failures", 0), numbers.get("errors", 0), numbers.get("skipped", 0)
        others = numbers.get("expected failures", 0) + numbers.get("unexpected successes", 0)
        return Counts(int(ran[-1]) - failed - errors - skipped - others, failed, errors, skipped, "unittest")
    return Counts()


def junit_counts(text: str) -> Counts | None:
    """The counts of a JUnit XML report (a `testsuites` of `testsuite`s, or one `testsuite`);
    None when it cannot be read."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return None
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite") or [root]
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in suites:
        for key in totals:
            value = _number(suite.get(key), int)
            totals[key] += value if isinstance(value, int) else 0
    passed = totals["tests"] - totals["failures"] - totals["errors"] - totals["skipped"]
    return Counts(passed, totals["failures"], totals["errors"], totals["skipped"], "junit")
