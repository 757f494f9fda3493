"""The adapters' command lines and their reading of each CLI's output: real outputs the CLIs
printed against the scripted model (tests/model_server/samples), plus the failure shapes
DOCS/agents.md records. The real CLIs themselves run in tests/test_agent_runs.py."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from leviathan_local.backlog.model import Status, Task
from leviathan_local.config.policy import AgentPrices, AgentSettings
from leviathan_local.engine.agents import aider, claude, codex
from leviathan_local.engine.agents.context import PhaseContext
from leviathan_local.engine.agents.report import AgentReport, priced
from leviathan_local.engine.agents.session import start_session
from leviathan_local.engine.prompt import Verification
from leviathan_local.engine.sandbox import Confinement

SAMPLES = Path(__file__).parent / "model_server" / "samples"
TASK = Task("t", {"id": "t", "title": "T", "acceptance_criteria": ["works"]}, Status.READY)


def context(tmp_path: Path, phase: str = "red", test_command: str = "sh test.sh") -> PhaseContext:
    return PhaseContext(TASK, phase, "attempt-t-1", tmp_path / "work", tmp_path / "prompt.md", "",
                        ("src/", "tests/"), (".leviathan/**",),
                        Verification(test_command, ("tests/**",), (("Lint", "ruff check ."),)))


def argv(command: str) -> list[str]:
    return shlex.split(command)


def test_claude_runs_as_root_with_the_prompt_on_stdin_and_one_session(tmp_path: Path) -> None:
    session = start_session("claude", tmp_path / "state")
    first = argv(claude.command(context(tmp_path), AgentSettings("claude", model="claude-sonnet-4-5"), session))
    assert first[:4] == ["claude", "-p", "--output-format", "stream-json"]
    assert "--dangerously-skip-permissions" not in first and first[first.index("--permission-mode") + 1] == "acceptEdits"
    # `=`: the variadic option cannot swallow what follows; both executor commands allowed.
    assert "--allowedTools=Bash(sh test.sh:*),Bash(ruff check .:*)" in first
    assert first[first.index("--session-id") + 1] == session.session_id and first[-2:] == ["<", str(tmp_path / "prompt.md")]
    session.phases_run = 1
    later = argv(claude.command(context(tmp_path, "green"), AgentSettings("claude"), session))
    assert later[later.index("--resume") + 1] == session.session_id and "--session-id" not in later


def test_claude_reads_session_tokens_cost_and_message_from_its_result_line(tmp_path: Path) -> None:
    output = (SAMPLES / "claude-stream-json.jsonl").read_text()
    report = claude.report(output, context(tmp_path), start_session("claude", tmp_path / "state"))
    session_id = json.loads(output.splitlines()[0])["session_id"]  # the sample's own
    assert report == AgentReport(session_id, 3500, 100, 0, 0.012, "agent", "red: wrote greeting.txt and ran the tests",
                                 None)


def test_claude_api_error_is_a_failure_though_its_subtype_says_success(tmp_path: Path) -> None:
    line = {"type": "result", "subtype": "success", "is_error": True, "session_id": "s",
            "result": "API Error: Unable to connect to API (ConnectionRefused)", "usage": {}}
    report = claude.report("some stderr\n" + json.dumps(line) + "\n", context(tmp_path),
                           start_session("claude", tmp_path / "state"))
    assert report.failure == "API Error: Unable to connect to API (ConnectionRefused)"
    assert claude.report("", context(tmp_path), start_session("claude", tmp_path / "s2")).failure is not None


def test_codex_continues_its_thread_and_counts_each_phase_on_its_own(tmp_path: Path) -> None:
    session = start_session("codex", tmp_path / "state")
    settings = AgentSettings("codex", model="gpt-5.5", args=("-c", 'model_provider="scripted"'))
    first = argv(codex.command(context(tmp_path), settings, session))
    assert first[:3] == ["codex", "exec", "--json"] and "--full-auto" not in first
    assert 'sandbox_mode="workspace-write"' in first and first[-3:] == ["-", "<", str(tmp_path / "prompt.md")]
    output = (SAMPLES / "codex-exec.jsonl").read_text()
    report = codex.report(output, context(tmp_path), session)
    thread = json.loads(output.splitlines()[0])["thread_id"]
    assert (report.session_id, report.tokens_in, report.tokens_out, report.failure) == (thread, 3500, 100, None)
    assert report.message == "red: wrote greeting.txt and ran the tests" and report.cost_usd is None
    session.session_id, session.phases_run = report.session_id, 1
    later = argv(codex.command(context(tmp_path, "green"), settings, session))
    assert later[:3] == ["codex", "exec", "resume"] and later[-4:-2] == [report.session_id, "-"]
    # After a resume codex reports the thread's running total: green's own is the difference.
    resumed = output.replace('"input_tokens":3500', '"input_tokens":5000').replace('"output_tokens":100', '"output_tokens":160')
    green = codex.report(resumed, context(tmp_path, "green"), session)
    assert (green.tokens_in, green.tokens_out) == (1500, 60)


def test_codex_turn_failed_is_the_phase_failure(tmp_path: Path) -> None:
    lines = [{"type": "thread.started", "thread_id": "x"}, {"type": "error", "message": "Reconnecting... 1/5"},
             {"type": "turn.failed", "error": {"message": "stream disconnected before completion"}}]
    report = codex.report("\n".join(map(json.dumps, lines)), context(tmp_path), start_session("codex", tmp_path / "s"))
    assert report.failure == "stream disconnected before completion"


def test_aider_keeps_its_files_in_the_state_dir_and_restores_the_chat(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "src").mkdir(parents=True)
    (work / "src" / "calc.py").write_text("")
    (work / "README.md").write_text("")  # outside the allowed paths: not given to aider
    session = start_session("aider", tmp_path / "state")
    red = argv(aider.command(context(tmp_path), AgentSettings("aider"), session))
    assert {"--yes-always", "--no-git", "--no-gitignore", "--no-auto-commits"} <= set(red)
    assert red[red.index("--chat-history-file") + 1] == str(tmp_path / "state" / "chat.history.md")
    assert "--no-restore-chat-history" in red and "--auto-test" not in red  # red's tests must fail
    assert red[-2:] == ["--read", "src/calc.py"]  # shown, not named for editing: aider's root stays the worktree
    session.phases_run = 1
    green = argv(aider.command(context(tmp_path, "green"), AgentSettings("aider"), session))
    assert "--restore-chat-history" in green and green[green.index("--test-cmd") + 1] == "sh test.sh"


def test_aider_loads_its_own_bytecode_and_its_test_runs_keep_the_attempts_cache(tmp_path: Path) -> None:
    """Run as aider would (its environment over the attempt's): aider itself sees no bytecode
    prefix, its --test-cmd the attempt's, so the project's bytecode stays out of the worktree."""
    confinement = Confinement(tmp_path / "attempt-tmp")
    attempt_env = {**os.environ, **confinement.env}
    session = start_session("aider", tmp_path / "state")
    aider_env = {**attempt_env, **aider.environment(session)}
    show_prefix = "python -c 'import sys; print(sys.pycache_prefix)'"
    phase = replace(context(tmp_path, "green", test_command=show_prefix), confinement=confinement)
    green = argv(aider.command(phase, AgentSettings("aider"), session))

    def prefix_seen(command: str) -> str:
        return subprocess.run(command, shell=True, env=aider_env, capture_output=True, text=True, check=True).stdout
    assert prefix_seen(show_prefix) == "None\n"  # aider's own interpreter: its installed bytecode
    assert prefix_seen(green[green.index("--test-cmd") + 1]) == f"{confinement.temp_dir / 'pycache'}\n"


def test_aider_reads_tokens_and_cost_and_an_applied_edit(tmp_path: Path) -> None:
    report = aider.report((SAMPLES / "aider-stdout.txt").read_text(), context(tmp_path),
                          start_session("aider", tmp_path / "state"))
    assert (report.tokens_in, report.tokens_out, report.cost_usd, report.failure) == (1000, 50, 0.0011, None)


@pytest.mark.parametrize(("output", "phase", "reason"), [
    ("SearchReplaceNoExactMatch: no match\nOnly 3 reflections allowed, stopping.\n", "green",
     "aider stopped: its edits could not be applied after 3 tries"),
    ("litellm.InternalServerError: OpenAIException - Connection error.\nRetrying in 32.0 seconds...\n", "red",
     "aider applied no edit: litellm.InternalServerError: OpenAIException - Connection error."),
    ("I think the code is fine as it is.\n", "green", "aider applied no edit: I think the code is fine as it is."),
    ("Nothing to improve.\n", "refactor", None),  # refactor's edits are optional
])
def test_aider_exit_zero_is_read_for_its_own_failure(tmp_path: Path, output: str, phase: str, reason: str | None) -> None:
    assert aider.report(output, context(tmp_path, phase), start_session("aider", tmp_path / "s")).failure == reason


def test_a_price_table_costs_what_the_agent_did_not(tmp_path: Path) -> None:
    prices = AgentPrices(input_usd_per_million=2.0, output_usd_per_million=8.0, cached_input_usd_per_million=0.5)
    report = priced(AgentReport("s", tokens_in=3_000, tokens_out=500, tokens_cached=1_000), prices)
    assert (report.cost_usd, report.cost_source) == (pytest.approx(0.0085), "prices")
    reported = AgentReport("s", 10, 10, cost_usd=0.5, cost_source="agent")
    assert priced(reported, prices) == reported
    assert report.ledger() == {"session": "s", "tokens_in": 3000, "tokens_out": 500, "cost_usd": 0.0085,
                               "cost_source": "prices"}
