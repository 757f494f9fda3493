"""How each real agent CLI is pointed at the scripted model and run non-interactively, as root.

One function per CLI gives the environment (isolated home, the model server's URL, every call
home turned off, proxies at the egress recorder) and the command line for one phase. These are
the findings ``DOCS/agents.md`` explains; the adapters of issue 15 build the same lines.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

# Claude Code's name for a model it has a price for, so its result line reports a cost.
CLAUDE_MODEL = "claude-sonnet-4-5"
# A model codex has metadata for: it then offers apply_patch (a freeform tool) beside exec_command.
CODEX_MODEL = "gpt-5.5"
AIDER_MODEL = "openai/scripted"
AIDER_PRICE_PER_TOKEN = {"input": 0.000001, "output": 0.000002}


@dataclass(frozen=True)
class Invocation:
    argv: list[str]
    env: dict[str, str]
    stdin: str | None = None  # the prompt, when the CLI reads it from standard input


def installed(executable: str) -> str | None:
    return shutil.which(executable)


def base_env(home: Path, proxy_env: dict[str, str]) -> dict[str, str]:
    """PATH and locale from the test's process, an isolated HOME, and nothing else inherited."""
    home.mkdir(parents=True, exist_ok=True)
    keep = {name: os.environ[name] for name in ("PATH", "LANG", "LC_ALL", "TERM") if name in os.environ}
    return {**keep, "HOME": str(home), **proxy_env}


# --- Claude Code -------------------------------------------------------------------------------

CLAUDE_QUIET_ENV = {
    # One switch for the event logging, error reports, auto-update and the session-title request:
    # without it Claude Code sends six CONNECTs to api.anthropic.com and one extra model request.
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
}


def claude(base_url: str, home: Path, proxy_env: dict[str, str], prompt: str, *, session_id: str,
           resume: bool, allowed_bash: str) -> Invocation:
    """``claude -p``: the prompt on stdin, edits accepted, one Bash command prefix allowed.

    As root ``--dangerously-skip-permissions`` (and ``bypassPermissions``) exit 1, so edits are
    allowed by ``acceptEdits`` and the test command by ``--allowedTools "Bash(<prefix>:*)"``,
    written with ``=`` so the variadic option cannot swallow anything after it.
    """
    env = {**base_env(home, proxy_env), **CLAUDE_QUIET_ENV, "CLAUDE_CONFIG_DIR": str(home / ".claude"),
           "ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": "sk-scripted"}
    session = ["--resume", session_id] if resume else ["--session-id", session_id]
    argv = ["claude", "-p", "--output-format", "stream-json", "--verbose", "--model", CLAUDE_MODEL,
            "--permission-mode", "acceptEdits", f"--allowedTools=Bash({allowed_bash}:*)", *session]
    return Invocation(argv, env, stdin=prompt)


# --- codex -------------------------------------------------------------------------------------

def codex_config(base_url: str) -> list[str]:
    """``-c`` overrides: a custom Responses provider at the server, and no calls home."""
    settings = {
        "model_provider": '"scripted"',
        "model_providers.scripted.name": '"scripted"',
        "model_providers.scripted.base_url": f'"{base_url}/v1"',
        "model_providers.scripted.wire_api": '"responses"',
        "model_providers.scripted.env_key": '"SCRIPTED_API_KEY"',
        "sandbox_mode": '"workspace-write"',  # `exec resume` has no -s: the config key works for both
        "analytics.enabled": "false",  # else a CONNECT to ab.chatgpt.com
        "features.plugins": "false",  # else github.com, api.github.com and chatgpt.com
        "check_for_update_on_startup": "false",
    }
    return [part for key, value in settings.items() for part in ("-c", f"{key}={value}")]


def codex(base_url: str, home: Path, proxy_env: dict[str, str], prompt: str, *, thread_id: str | None,
          last_message: Path) -> Invocation:
    """``codex exec --json`` (or ``exec resume <thread>``), the prompt on stdin (``-``).

    CODEX_HOME must not lie under the temporary directory: codex then refuses to create its
    sandbox helper (``codex-linux-sandbox``) and every write and command fails inside bwrap.
    So TMPDIR is pointed at a directory of its own beside it.
    """
    codex_home, tmpdir = home / "codex-home", home / "tmp"
    codex_home.mkdir(parents=True, exist_ok=True)
    tmpdir.mkdir(parents=True, exist_ok=True)
    env = {**base_env(home, proxy_env), "CODEX_HOME": str(codex_home), "TMPDIR": str(tmpdir),
           "SCRIPTED_API_KEY": "sk-scripted"}
    head = ["codex", "exec", "resume"] if thread_id else ["codex", "exec"]
    argv = [*head, "--json", "--skip-git-repo-check", "-m", CODEX_MODEL, *codex_config(base_url),
            "-o", str(last_message), *([thread_id] if thread_id else []), "-"]
    return Invocation(argv, env, stdin=prompt)


# --- aider -------------------------------------------------------------------------------------

def aider_metadata(path: Path) -> Path:
    """A model metadata file: aider then fetches no price list and reports a cost."""
    path.write_text(json.dumps({AIDER_MODEL: {
        "max_input_tokens": 128000, "max_output_tokens": 4096, "litellm_provider": "openai", "mode": "chat",
        "input_cost_per_token": AIDER_PRICE_PER_TOKEN["input"],
        "output_cost_per_token": AIDER_PRICE_PER_TOKEN["output"]}}))
    return path


def aider(base_url: str, home: Path, proxy_env: dict[str, str], message_file: Path, *, state_dir: Path,
          restore: bool, test_cmd: str) -> Invocation:
    """``aider --message-file``: every confirmation yes, its history files in ``state_dir``.

    ``--yes-always`` answers no to the model's shell commands (aider asks with "explicit yes
    required"), so the test command runs as aider's own ``--test-cmd`` with ``--auto-test``.
    ``--no-stream`` makes aider take the server's token counts instead of its own estimate.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    env = {**base_env(home, proxy_env), "OPENAI_API_KEY": "sk-scripted",
           # litellm fetches its price list from GitHub at import unless told to use its own copy.
           "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    argv = ["aider", "--model", AIDER_MODEL, "--openai-api-base", f"{base_url}/v1",
            "--model-metadata-file", str(aider_metadata(state_dir / "model-metadata.json")),
            "--edit-format", "diff", "--yes-always", "--no-git", "--no-gitignore", "--no-auto-commits",
            "--no-check-update", "--no-analytics", "--no-show-release-notes", "--no-show-model-warnings",
            "--no-stream", "--no-pretty", "--no-fancy-input", "--map-tokens", "0",
            "--chat-history-file", str(state_dir / "chat.history.md"),
            "--input-history-file", str(state_dir / "input.history"),
            "--llm-history-file", str(state_dir / "llm.history"),
            "--restore-chat-history" if restore else "--no-restore-chat-history",
            "--test-cmd", test_cmd, "--auto-test", "--message-file", str(message_file)]
    return Invocation(argv, env)
