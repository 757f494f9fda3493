"""What the CLI says, read as a person reads it: counts agree with their nouns, "an AWS key",
a "did you mean" for every mistyped task id, one clear line where there is one thing to say."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest
from conftest import write
from engine_fixtures import RECIPE_POLICY, make_project, task_yaml
from test_cli import run_cli

from leviathan_local.backlog.store import load_backlog
from leviathan_local.backlog.transitions import block, set_wsjf_inputs
from leviathan_local.commands.run import run_headless
from leviathan_local.engine.gates import SECRET_PATTERNS, secret_findings
from leviathan_local.errors import UnknownTaskError
from leviathan_local.events import read_events
from leviathan_local.git.repo import find_repo
from leviathan_local.wording import article, did_you_mean, plural

BACKLOG = ".leviathan/backlog.yaml"


def backlog(root: Path, tasks: str) -> Path:
    return write(root / BACKLOG, "tasks:\n" + tasks)


# --- ready --approve-escalation -------------------------------------------------------------

RISKY = "  - id: auth\n    title: Rotate the auth tokens\n    status: {status}\n    acceptance_criteria: [x]\n"


def test_approving_an_escalation_says_so_not_ready_to_ready(git_repo: Path, capsys) -> None:
    backlog(git_repo, RISKY.format(status="ready"))
    code, out, _ = run_cli(capsys, "--repo", str(git_repo), "ready", "auth", "--approve-escalation")
    assert (code, out) == (0, "auth: escalation approved; status stays ready\n")
    assert load_backlog(find_repo(git_repo)).task("auth").get("escalation_approved_at")
    code, out, _ = run_cli(capsys, "--repo", str(git_repo), "ready", "auth", "--approve-escalation")
    assert out.startswith("auth: already ready; its escalation was approved at 2026-")


def test_readying_and_approving_at_once_names_both(git_repo: Path, capsys) -> None:
    backlog(git_repo, RISKY.format(status="new"))
    code, out, _ = run_cli(capsys, "--repo", str(git_repo), "ready", "auth", "--approve-escalation")
    assert (code, out) == (0, "auth: new -> ready; escalation approved\n")


# --- a / an ---------------------------------------------------------------------------------

ARTICLES = {
    "AWS access key id": "an", "AWS secret access key": "an", "GitHub token": "a", "private key": "a",
    "Slack token": "a", "Google API key": "a", "Stripe secret key": "a", "hard-coded credential": "a",
}
SAMPLES = {
    "AWS access key id": 'key = "AKIAIOSFODNN7EXAMPLE"',
    "AWS secret access key": "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYab",
    "GitHub token": "token = ghp_" + "a" * 36,
    "private key": "-----BEGIN RSA PRIVATE KEY-----",
    "Slack token": "xoxb-1234567890-abcdef",
    "Google API key": "AIza" + "B" * 35,
    "Stripe secret key": "sk_live_" + "c" * 24,
    "hard-coded credential": 'password = "hunter2hunter2hunter2x"',
}


def test_every_secret_kind_has_its_article_and_a_sample() -> None:
    assert set(ARTICLES) == set(SECRET_PATTERNS) == set(SAMPLES)  # a new kind needs its row here


@pytest.mark.parametrize("kind", sorted(SECRET_PATTERNS))
def test_a_secret_finding_reads_with_the_right_article(kind: str) -> None:
    [finding] = secret_findings({"src/config.py": [SAMPLES[kind]]})
    assert finding.reason == f"adds what looks like {ARTICLES[kind]} {kind}"


@pytest.mark.parametrize(("phrase", "expected"), [
    ("AWS key", "an AWS key"), ("SQL query", "an SQL query"), ("FBI file", "an FBI file"),
    ("API key", "an API key"), ("GPU", "a GPU"), ("URL", "a URL"), ("hour", "an hour"),
    ("unit test", "a unit test"), ("user", "a user"), ("error", "an error"), ("token", "a token"),
    ("one-off", "a one-off"), ("HTTP token", "an HTTP token"), ("USB key", "a USB key"),
])
def test_article_follows_the_first_sound(phrase: str, expected: str) -> None:
    assert article(phrase) == expected


# --- counts -----------------------------------------------------------------------------------

def test_plural_agrees_with_the_count() -> None:
    assert [plural(n, "task") for n in (0, 1, 2)] == ["0 tasks", "1 task", "2 tasks"]
    assert plural(1, "process", "processes") == "1 process" and plural(3, "process", "processes") == "3 processes"


@pytest.mark.parametrize(("problems", "count", "pronoun"), [(1, "1 problem:", "fix it in"),
                                                            (2, "2 problems:", "fix them in")])
def test_a_backlog_with_problems_counts_them_in_words(git_repo: Path, capsys, problems: int, count: str,
                                                      pronoun: str) -> None:
    bad = "".join(f"  - id: t{n}\n    status: sideways\n" for n in range(problems))
    backlog(git_repo, bad)
    code, _, err = run_cli(capsys, "--repo", str(git_repo), "plan")
    assert code == 2
    assert f"{BACKLOG} has {count}" in err and f"hint: {pronoun} {BACKLOG}" in err


def test_a_policy_with_one_problem_says_fix_it(git_repo: Path, capsys) -> None:
    backlog(git_repo, "")
    write(git_repo / ".leviathan" / "policy.yaml", "limitz: {}\n")
    code, _, err = run_cli(capsys, "--repo", str(git_repo), "plan")
    assert code == 2 and ".leviathan/policy.yaml has 1 problem:" in err
    assert "hint: fix it in .leviathan/policy.yaml" in err


def test_plan_counts_one_task_as_one_task(git_repo: Path, capsys) -> None:
    backlog(git_repo, "  - id: a\n    status: ready\n    acceptance_criteria: [x]\n    allowed_paths: [src/]\n")
    out = run_cli(capsys, "--repo", str(git_repo), "plan")[1]
    assert out.startswith("Actionable: 1 task\n") and "(s)" not in out


# --- unknown statuses -------------------------------------------------------------------------

def test_an_unknown_status_lists_the_canonical_ones_and_the_read_aliases_apart(git_repo: Path, capsys) -> None:
    backlog(git_repo, "  - id: a\n    status: redy\n")
    err = run_cli(capsys, "--repo", str(git_repo), "plan")[2]
    assert ("unknown status 'redy' (did you mean 'ready'?); a status is one of new, refined, ready, doing, "
            "review, done, blocked (read too, from other tools' backlogs: pending, completed, merged, pr)") in err


# --- did you mean -----------------------------------------------------------------------------

WORDS = ("  - id: word-count\n    status: new\n    acceptance_criteria: [x]\n"
         "  - id: line-count\n    status: blocked\n    blocked_reason: later\n    acceptance_criteria: [x]\n")


@pytest.mark.parametrize("command", [
    ["ready", "word-cnt"], ["unblock", "word-cnt"], ["attempt", "word-cnt"], ["merge", "word-cnt"],
    ["reject", "word-cnt", "--reason", "no"],
], ids=lambda command: command[0])
def test_every_command_taking_an_id_suggests_the_close_one(git_repo: Path, capsys, command: list[str]) -> None:
    root = make_project(git_repo, WORDS, RECIPE_POLICY)
    code, _, err = run_cli(capsys, "--repo", str(root), *command)
    assert code == 2, err
    assert err.startswith(f"error: no task 'word-cnt' in {BACKLOG} (did you mean 'word-count'?)\n"), err


def test_block_and_rescore_suggest_the_close_id(git_repo: Path) -> None:
    backlog(git_repo, WORDS)
    paths = find_repo(git_repo)
    with pytest.raises(UnknownTaskError, match=r"did you mean 'line-count'\?"):
        block(paths, "line-cout", "why")
    with pytest.raises(UnknownTaskError, match=r"did you mean 'line-count'\?"):
        set_wsjf_inputs(paths, "line-cout", {"effort": 3})


def test_events_of_a_mistyped_task_suggest_the_logged_one(git_repo: Path, capsys) -> None:
    backlog(git_repo, WORDS)
    paths = find_repo(git_repo)
    block(paths, "word-count", "waits for a decision")  # the log now knows word-count
    code, out, _ = run_cli(capsys, "--repo", str(git_repo), "events", "--task", "word-cnt")
    assert (code, out) == (0, "no events for task word-cnt (did you mean 'word-count'?)\n")


def test_run_target_suggests_the_close_id(git_repo: Path, capsys) -> None:
    root = make_project(git_repo, WORDS, RECIPE_POLICY)
    code, _, err = run_cli(capsys, "--repo", str(root), "run", "--target", "word-cnt")
    assert code == 2 and "--target names an unknown task: 'word-cnt' (did you mean 'word-count'?)" in err


def test_no_suggestion_when_nothing_is_close(git_repo: Path, capsys) -> None:
    backlog(git_repo, WORDS)
    err = run_cli(capsys, "--repo", str(git_repo), "ready", "zebra")[2]
    assert err.startswith(f"error: no task 'zebra' in {BACKLOG}\nhint: ")
    assert did_you_mean("zebra", ["word-count"]) is None


# --- plan on an empty backlog -----------------------------------------------------------------

def test_an_empty_backlog_plans_to_one_line(git_repo: Path, capsys) -> None:
    backlog(git_repo, "")
    code, out, _ = run_cli(capsys, "--repo", str(git_repo), "plan")
    assert (code, out) == (0, f"No tasks yet: write one in {BACKLOG} (its comments show an example).\n")


# --- run --watch --------------------------------------------------------------------------------

def test_watch_says_once_what_it_waits_for(git_repo: Path) -> None:
    root = make_project(git_repo, "", RECIPE_POLICY)
    paths = find_repo(root)
    out, stop = io.StringIO(), threading.Event()
    outcome: dict[str, int] = {}
    runner = threading.Thread(target=lambda: outcome.update(code=run_headless(paths, watch=True, out=out, stop=stop)),
                              daemon=True)
    runner.start()

    def waits(count: int) -> None:
        deadline = time.monotonic() + 60
        while sum(event.kind == "run.waiting" for event in read_events(paths)) < count:
            if not runner.is_alive() or time.monotonic() >= deadline:
                stop.set()
                raise AssertionError(f"the run never waited {count} times")
            time.sleep(0.02)

    try:
        waits(1)
        policy = root / ".leviathan" / "policy.yaml"
        for number in (2, 3):  # saves that bring no work: more waits, nothing more said
            policy.write_text(policy.read_text() + f"# edit {number}\n")
            waits(number)
        backlog(root, "  - id: x\n    status: sideways\n")  # a human mid-edit: said once, with the problem
        waits(4)
        write(root / BACKLOG, "tasks: []\n")
        waits(5)
    finally:
        stop.set()
        runner.join(timeout=60)
    waiting = ("Waiting for new work (nothing is actionable): watching .leviathan/backlog.yaml and "
               ".leviathan/policy.yaml for changes; Ctrl-C stops the run\n")
    text = out.getvalue()
    assert text.startswith(waiting) and text.count(waiting) == 2, text  # before the bad edit, and after its fix
    assert text.count("Waiting for a fix: watching .leviathan/backlog.yaml") == 1
    assert "unknown status 'sideways'" in text
    assert outcome["code"] == 130 and text.endswith("Halted: ShutdownRequested\n")


def test_a_run_without_watch_never_says_it_waits(git_repo: Path) -> None:
    root = make_project(git_repo, task_yaml("a").replace("status: ready", "status: new"), RECIPE_POLICY)
    out = io.StringIO()
    run_headless(find_repo(root), out=out)
    assert "Waiting" not in out.getvalue()
