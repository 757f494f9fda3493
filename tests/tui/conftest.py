"""A small fixed backlog for the app's tests (fixed clock from the top-level conftest)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.worker import WorkerCancelled

from conftest import git, write
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


def table_ids(app) -> list[str]:
    from leviathan_local.tui.widgets.backlog_table import BacklogTable

    return app.query_one(BacklogTable).task_ids


def drive(app, script: Callable[..., Awaitable[None]], size: tuple[int, int] = (120, 40)) -> None:
    """Run ``app`` headless and let ``script(pilot)`` drive it (no async test plugin needed)."""
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await script(pilot)

    asyncio.run(main())
