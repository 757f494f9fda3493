"""Whole attempts by the real agent CLIs (marker ``agents``): a project whose policy names the
agent, the run's environment (an isolated home, no way out), and each CLI pointed at a model URL
the way ``tests/model_server/clients.py`` found works. ``run_attempt`` then starts the CLI in
every phase, as a run would."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from engine_fixtures import RECIPE_POLICY, make_project, task_yaml
from model_server.clients import (
    AIDER_MODEL, CLAUDE_MODEL, CLAUDE_QUIET_ENV, CODEX_MODEL, aider_metadata, base_env, codex_config,
)
from model_server.egress import EgressRecorder

from leviathan_local import events
from leviathan_local.git.repo import find_repo

# aider alone takes seconds to start, three times: the whole attempt gets minutes, not 30 s.
ATTEMPT_LIMITS = "attempt_timeout_seconds: 600"


def project(git_repo: Path, agent: str, tasks: str | None = None, limits: str = ATTEMPT_LIMITS) -> Path:
    """A project (``engine_fixtures.make_project``) driven by ``agent`` (policy's ``agent:`` value)."""
    policy = RECIPE_POLICY.replace("agent: {kind: recipe}", f"agent: {agent}")
    policy = policy.replace("attempt_timeout_seconds: 30", limits)
    return make_project(git_repo, tasks if tasks is not None else task_yaml("add"), policy)


def environment(monkeypatch: pytest.MonkeyPatch, home: Path, egress: EgressRecorder, **more: str) -> None:
    """What the run's process (and so each agent phase) sees: an isolated home, no way out.
    git keeps the test's identity (conftest's home), so the project can be made afterwards."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(Path(os.environ["HOME"]) / ".gitconfig"))
    for name, value in {**base_env(home, egress.proxy_env()), **more}.items():
        if name != "PATH":
            monkeypatch.setenv(name, value)


def phase_ledgers(root: Path, task_id: str = "add") -> dict[str, dict[str, object]]:
    return {e.data["phase"]: e.data.get("agent", {}) for e in events.read_events(find_repo(root), task_id)
            if e.kind == "phase.finished" and e.data["phase"] in ("red", "green", "refactor")}


def claude_agent(base_url: str, home: Path, egress: EgressRecorder, monkeypatch: pytest.MonkeyPatch,
                 **more: str) -> str:
    """Claude Code at ``base_url``: the policy's agent value; its environment set for the run."""
    environment(monkeypatch, home, egress, **CLAUDE_QUIET_ENV, CLAUDE_CONFIG_DIR=str(home / ".claude"),
                ANTHROPIC_BASE_URL=base_url, ANTHROPIC_API_KEY="sk-scripted", **more)
    return f"{{kind: claude, model: {CLAUDE_MODEL}}}"


CODEX_PRICES = "{input_usd_per_million: 2, output_usd_per_million: 8}"


def codex_agent(base_url: str, home: Path, egress: EgressRecorder, monkeypatch: pytest.MonkeyPatch) -> str:
    """codex at ``base_url`` (a Responses provider of its own, by ``-c`` overrides), priced by policy."""
    (home / "codex-home").mkdir(parents=True, exist_ok=True)
    environment(monkeypatch, home, egress, CODEX_HOME=str(home / "codex-home"), SCRIPTED_API_KEY="sk-scripted")
    args = json.dumps(codex_config(base_url))
    return f"{{kind: codex, model: {CODEX_MODEL}, args: {args}, prices: {CODEX_PRICES}}}"


def aider_agent(base_url: str, home: Path, egress: EgressRecorder, monkeypatch: pytest.MonkeyPatch) -> str:
    """aider at ``base_url`` (OpenAI chat completions), its model's metadata (and price) in a file."""
    environment(monkeypatch, home, egress, OPENAI_API_KEY="sk-scripted")
    metadata = aider_metadata(home.parent / "model-metadata.json")
    args = json.dumps(["--openai-api-base", f"{base_url}/v1", "--model-metadata-file", str(metadata),
                       "--edit-format", "diff", "--map-tokens", "0"])
    return f"{{kind: aider, model: {AIDER_MODEL}, args: {args}}}"


def codex_patch(files: dict[str, str]) -> str:
    """An ``apply_patch`` input (codex's freeform tool) adding each file with its text."""
    added = "".join(f"*** Add File: {path}\n" + "".join(f"+{line}\n" for line in text.splitlines())
                    for path, text in files.items())
    return f"*** Begin Patch\n{added}*** End Patch\n"


def aider_edit(path: str, text: str) -> str:
    """An aider SEARCH/REPLACE block (``--edit-format diff``) creating ``path`` with ``text``."""
    return f"{path}\n```\n<<<<<<< SEARCH\n=======\n{text}>>>>>>> REPLACE\n```\n"
