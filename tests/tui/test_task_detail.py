"""The task detail pane reads as a person writes: lists and mappings as lines, not Python reprs."""

from __future__ import annotations

from conftest import write
from tui.conftest import rendered

from leviathan_local.clock import now
from leviathan_local.git.repo import RepoPaths
from leviathan_local.planning.board import load_board
from leviathan_local.tui.widgets.task_detail import describe

DISCOVERED = """\
tasks:
  - id: todo-1a2b3c4d5e
    title: "TODO: log the request id [soon]"
    status: new
    allowed_paths: [src/api/, tests/]
    tags: [discovered, todo]
    steps: {red: [python -m pytest -q], green: ["make build, then test", make lint]}
    source: {kind: todo, tag: TODO, path: src/api/server.py, line: 2, text: log the request id}
    escalation_approved: false
"""


def detail_text(app_repo: RepoPaths) -> list[str]:
    from textual.widgets import Static

    write(app_repo.backlog, DISCOVERED)
    board = load_board(app_repo, now())
    body = Static(describe(board.rows[0], board))
    return rendered(body).splitlines()


def test_lists_and_mappings_read_as_lines_and_the_heading_separates_id_and_title(app_repo: RepoPaths) -> None:
    lines = [line.rstrip() for line in detail_text(app_repo)]
    assert lines[0] == "todo-1a2b3c4d5e: TODO: log the request id [soon]"
    assert "allowed_paths: src/api/, tests/" in lines
    assert "tags: discovered, todo" in lines
    source = lines.index("source:")
    assert lines[source + 1:source + 6] == ["  kind: todo", "  tag: TODO", "  path: src/api/server.py", "  line: 2",
                                            "  text: log the request id"]
    steps = lines.index("steps:")  # an item holding a comma goes on its own line, so items stay apart
    assert lines[steps + 1:steps + 5] == ["  red: python -m pytest -q", "  green:", "    - make build, then test",
                                          "    - make lint"]
    assert "escalation_approved: false" in lines
    assert not any("{" in line or "['" in line for line in lines)
