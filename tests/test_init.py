from __future__ import annotations

import io
from pathlib import Path

from conftest import git, tree_snapshot

from leviathan_local.backlog.store import load_backlog
from leviathan_local.clock import now
from leviathan_local.commands.init import run_init
from leviathan_local.config.contract import load_contract
from leviathan_local.config.policy import (
    AgentSettings, Invariant, Policy, RunnerResources, RunnerSettings, Scope, SecretEnv, SetupCommand,
)
from leviathan_local.config.policy_load import load_policy
from leviathan_local.git.repo import RepoPaths
from leviathan_local.planning.selection import select


def test_init_creates_valid_commented_files(repo_paths: RepoPaths) -> None:
    out = io.StringIO()
    assert run_init(repo_paths, out=out) == 0
    for path in (repo_paths.contract, repo_paths.backlog, repo_paths.policy):
        assert path.read_text().startswith("#")
    assert load_backlog(repo_paths).tasks == []
    assert load_policy(repo_paths).forbidden_patterns == (".github/**", "**/*.pem")
    assert load_contract(repo_paths).default_branch == "main"
    assert (repo_paths.root / ".gitignore").read_text() == "worktrees/\n"
    assert "created .leviathan/backlog.yaml" in out.getvalue()
    # worktrees/ is really ignored by git
    (repo_paths.root / "worktrees" / "x").mkdir(parents=True)
    (repo_paths.root / "worktrees" / "x" / "f").write_text("x")
    assert "worktrees" not in git(repo_paths.root, "status", "--porcelain")


def test_init_is_idempotent_byte_for_byte(repo_paths: RepoPaths) -> None:
    run_init(repo_paths, out=io.StringIO())
    before = tree_snapshot(repo_paths.root)
    out = io.StringIO()
    run_init(repo_paths, out=out)
    assert tree_snapshot(repo_paths.root) == before
    assert "kept    .leviathan/policy.yaml" in out.getvalue()


def test_init_never_overwrites_and_keeps_gitignore(repo_paths: RepoPaths) -> None:
    repo_paths.leviathan_dir.mkdir()
    repo_paths.backlog.write_text("tasks:\n  - id: mine\n")
    (repo_paths.root / ".gitignore").write_bytes(b"*.log\r\nbuild")
    run_init(repo_paths, out=io.StringIO())
    assert repo_paths.backlog.read_text() == "tasks:\n  - id: mine\n"
    assert (repo_paths.root / ".gitignore").read_bytes() == b"*.log\r\nbuild\nworktrees/\n"


def test_existing_worktrees_ignore_is_not_duplicated(repo_paths: RepoPaths) -> None:
    for line in ("/worktrees/\n", "worktrees\n", "worktrees/**\n"):
        (repo_paths.root / ".gitignore").write_text(line)
        run_init(repo_paths, out=io.StringIO())
        assert (repo_paths.root / ".gitignore").read_text() == line


def uncomment_from(path: Path, first_example_line: str) -> None:
    """Do what the template tells a human: remove the leading `# ` of every commented line
    from ``first_example_line`` to the end of the file (the examples; live lines stay)."""
    lines = path.read_text().splitlines(keepends=True)
    start = next(number for number, line in enumerate(lines) if first_example_line in line)
    examples = [line[2:] if line.startswith("# ") else line for line in lines[start:]]
    path.write_text("".join(lines[:start]) + "".join(examples))


def test_uncommented_backlog_example_is_a_valid_actionable_task(repo_paths: RepoPaths) -> None:
    run_init(repo_paths, out=io.StringIO())
    assert "remove the leading `# `" in repo_paths.backlog.read_text()
    uncomment_from(repo_paths.backlog, "- id: api-request-logging")
    [task] = load_backlog(repo_paths).tasks
    assert (task.id, task.status, task.allowed_paths) == ("api-request-logging", "ready",
                                                          ["src/api/**/*.py", "tests/api/"])
    assert task.acceptance_criteria == ["Every endpoint logs method, path, status and duration"]
    selection = select([task], load_policy(repo_paths), now())
    assert [ranked.task.id for ranked in selection.actionable] == ["api-request-logging"]


def test_uncommented_policy_holds_the_examples_and_the_documented_defaults(repo_paths: RepoPaths) -> None:
    run_init(repo_paths, out=io.StringIO())
    assert "remove the leading `# `" in repo_paths.policy.read_text()
    uncomment_from(repo_paths.policy, "# scopes:")
    # Everything but the five examples must equal the defaults the header promises.
    assert load_policy(repo_paths) == Policy(
        scopes={"docs": Scope("docs", ("docs/",), (), tdd=False)},
        forbidden_patterns=(".github/**", "**/*.pem"),
        invariants=(Invariant("Tests pass", "python -m pytest -q"),),
        setup=(SetupCommand("install", "pip install -e ."),
               SetupCommand('cp "$LEVIATHAN_MAIN_CHECKOUT/.env" .env', 'cp "$LEVIATHAN_MAIN_CHECKOUT/.env" .env')),
        agent=AgentSettings("claude"),
        runner=RunnerSettings(
            kind="kubernetes", image="registry.example.com/leviathan-agent:1",
            remote="https://git.example.com/team/app.git", namespace="leviathan", service_account="leviathan-attempt",
            resources=RunnerResources(requests={"cpu": "1", "memory": "2Gi"}, limits={"memory": "4Gi"}),
            secret_env=(SecretEnv("ANTHROPIC_API_KEY", "leviathan-agent", "anthropic-api-key"),
                        SecretEnv("LEVIATHAN_GIT_TOKEN", "leviathan-git", "token"))),
    )


def test_uncommented_contract_example_sets_the_repo_url(repo_paths: RepoPaths) -> None:
    run_init(repo_paths, out=io.StringIO())
    uncomment_from(repo_paths.contract, "# repo_url:")
    assert load_contract(repo_paths).repo_url == "git@example.com:owner/repo.git"
