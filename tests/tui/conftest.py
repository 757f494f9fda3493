"""A small fixed backlog for the app's tests (fixed clock from the top-level conftest), and the
same repository after a run, recorded with fixed ids and times."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from conftest import git, write
from ledger_fixtures import log_attempt
from rich.console import Console
from textual.worker import WorkerCancelled

from leviathan_local.git.repo import RepoPaths, find_repo

BACKLOG = """\
# The app's test backlog.
tasks:
  - id: api-logging
    title: Log every API request
    status: ready
    impact: 8
    time_criticality: 5
    risk_reduction: 3
    effort: 3
    allowed_paths: [src/api/]
    acceptance_criteria: [Every endpoint logs method and path]
    created_at: 2026-11-01T00:00:00Z
  - id: docs-install
    title: Document the install
    status: ready
    effort: 1
    allowed_paths: [README.md]
    acceptance_criteria: [README has an install section]
    created_at: 2026-11-20T00:00:00Z
  - id: cache-warmup
    title: Warm the cache at start
    status: new
    impact: 3
    effort: 8
    acceptance_criteria: [First request is fast]
  - id: flaky-test
    title: Fix the flaky login test
    status: blocked
    blocked_type: clarification
    blocked_reason: which login test?
    blocked_from: ready
    effort: 2
    acceptance_criteria: [The test passes 100 times in a row]
"""


@pytest.fixture
def app_repo(git_repo: Path) -> RepoPaths:
    write(git_repo / ".leviathan" / "backlog.yaml", BACKLOG)
    write(git_repo / "src" / "api" / "server.py", "def serve():\n    pass  # TODO: log the request id\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "backlog")
    return find_repo(git_repo)


# What a run of two attempts leaves behind: docs-install failed in green, api-logging passed and
# waits for review on its branch. The run's random attempt ids and measured times are replaced by
# fixed ones; everything is written by the engine's own writers (events, backlog, reports, git).
RUN_ATTEMPTS = {
    "docs-install": ("attempt-docs-install-5e6f7a", (("red", "passed", 0.41), ("green", "failed", 1.27))),
    "api-logging": ("attempt-api-logging-0a1b2c", (("red", "passed", 0.52), ("green", "passed", 1.93),
                                                  ("refactor", "passed", 0.88), ("gates", "passed", 0.06),
                                                  ("commit", "passed", 0.11))),
}
# What each agent phase used, as the agent adapters log it (`agent` in `phase.finished`): docs-install's
# green reported tokens but no cost; gates and commit run no agent.
AGENT_USE = {
    ("docs-install", "red"): {"session": "sess-docs", "tokens_in": 1200, "tokens_out": 80, "cost_usd": 0.0042,
                              "cost_source": "agent"},
    ("docs-install", "green"): {"session": "sess-docs", "tokens_in": 2100, "tokens_out": 150},
    ("api-logging", "red"): {"session": "sess-api", "tokens_in": 3500, "tokens_out": 100, "cost_usd": 0.012,
                             "cost_source": "agent"},
    ("api-logging", "green"): {"session": "sess-api", "tokens_in": 5200, "tokens_out": 640, "cost_usd": 0.0315,
                               "cost_source": "agent"},
    ("api-logging", "refactor"): {"session": "sess-api", "tokens_in": 4100, "tokens_out": 90, "cost_usd": 0.0098,
                                  "cost_source": "agent"},
}
TEST_COMMAND = "python -m pytest -q"  # the default policy's
ATTEMPT_LOGS = {
    "docs-install": f"""$ {TEST_COMMAND}
F                                                                        [100%]
FAILED tests/test_readme.py::test_install_section - AssertionError: no install section
1 failed in 0.04s
[exit 1 after 0.41s]
$ claude -p "$(cat $LEVIATHAN_PROMPT_FILE)"
Added an install section to README.md.
[exit 0 after 0.80s]
$ {TEST_COMMAND}
F                                                                        [100%]
FAILED tests/test_readme.py::test_install_section - AssertionError: 'pip install' not in README
1 failed in 0.04s
[exit 1 after 0.47s]
""",
    "api-logging": f"""$ {TEST_COMMAND}
F                                                                        [100%]
FAILED tests/test_server.py::test_logs_method_and_path - AssertionError: [] == ['GET /items']
1 failed in 0.05s
[exit 1 after 0.52s]
$ claude -p "$(cat $LEVIATHAN_PROMPT_FILE)"
serve() now logs every request's method and path.
[exit 0 after 1.42s]
$ {TEST_COMMAND}
..                                                                       [100%]
2 passed in 0.05s
[exit 0 after 0.51s]
""",
}
SERVER_LOGGING = """import logging

log = logging.getLogger("api")


def serve(method="GET", path="/"):
    log.info("%s %s", method, path)  # TODO: log the request id
"""
SERVER_TEST = """import logging

from src.api.server import serve


def test_logs_method_and_path(caplog):
    with caplog.at_level(logging.INFO):
        serve("GET", "/items")
    assert [record.getMessage() for record in caplog.records] == ["GET /items"]
"""


@pytest.fixture
def after_run_repo(app_repo: RepoPaths, monkeypatch: pytest.MonkeyPatch) -> RepoPaths:
    from leviathan_local import events
    from leviathan_local.backlog.store import edit_task_text, update_task
    from leviathan_local.reports.files import make_report, write_report

    root = app_repo.root
    for name in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.setenv(name, "2026-11-22T12:00:00Z")
    base = git(root, "rev-parse", "HEAD").strip()
    attempt_id, _ = RUN_ATTEMPTS["api-logging"]
    branch = "agent/api-logging-0a1b2c"
    git(root, "switch", "-qc", branch)
    write(root / "src" / "api" / "server.py", SERVER_LOGGING)
    write(root / "tests" / "test_server.py", SERVER_TEST)
    # The attempt's commit carries the task's status writeback too, as the engine's does.
    write(app_repo.backlog, edit_task_text(app_repo.backlog.read_text(), str(app_repo.backlog), "api-logging", {
        "status": "done", "completed_at": "2026-11-22T12:00:00Z", "last_attempt_id": attempt_id,
        "branch_name": branch}))
    git(root, "add", "-A")
    git(root, "commit", "-qm", f"Log every API request\n\nLeviathan-Task: api-logging\nLeviathan-Attempt: {attempt_id}")
    head = git(root, "rev-parse", "HEAD").strip()
    git(root, "switch", "-q", "main")

    events.append_event(app_repo, "run.started", None, max_tasks=2, targets=[])
    for task_id, (attempt_id, phases) in RUN_ATTEMPTS.items():
        task_branch = f"agent/{task_id}-{attempt_id.rsplit('-', 1)[1]}"
        write(app_repo.state_dir / "attempts" / f"{attempt_id}.log", ATTEMPT_LOGS[task_id])
        logged = [(phase, verdict, seconds, AGENT_USE.get((task_id, phase))) for phase, verdict, seconds in phases]
        if task_id == "docs-install":
            log_attempt(app_repo, task_id, attempt_id, logged, task_branch, base)
            update_task(app_repo, task_id, {"attempts": 1})
        else:
            update_task(app_repo, task_id, {"status": "review", "last_attempt_id": attempt_id,
                                            "branch_name": task_branch})
            log_attempt(app_repo, task_id, attempt_id, logged, task_branch, base, commit=head)
    write_report(app_repo, make_report(app_repo, "CapReached", run_window=True))
    events.append_event(app_repo, "run.halted", None, reason="CapReached", commit=None)
    return app_repo


def still_app(paths: RepoPaths, watch_files: bool = False):
    """The app without animations (a tab underline caught mid-slide would make snapshots flaky)."""
    from leviathan_local.tui.app import LeviathanApp

    app = LeviathanApp(paths, watch_files=watch_files)
    app.animation_level = "none"
    return app


async def settle(app, pilot, condition: Callable[[], bool] = lambda: True, timeout: float = 20.0) -> None:
    """Let the workers finish, then wait (up to ``timeout``) until ``condition`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if not app.watch_files:
            try:
                await app.workers.wait_for_complete()
            except WorkerCancelled:  # an exclusive worker replaced by a newer one: wait for that
                continue
        await pilot.pause()
        if condition():
            return
        assert loop.time() < deadline, "the app never reached the expected state"
        await asyncio.sleep(0.02)


def rendered(widget) -> str:
    """A Static's content as plain text (rich renderables included, such as the diff)."""
    console = Console(width=120, file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text()


def notifications(app) -> list[str]:
    """The texts of the toasts the app has shown, oldest first."""
    return [str(notification.message) for notification in app._notifications]


def table_ids(app) -> list[str]:
    from leviathan_local.tui.widgets.backlog_table import BacklogTable

    return app.query_one(BacklogTable).task_ids


def drive(app, script: Callable[..., Awaitable[None]], size: tuple[int, int] = (120, 40)) -> None:
    """Run ``app`` headless and let ``script(pilot)`` drive it (no async test plugin needed)."""
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await script(pilot)

    asyncio.run(main())
