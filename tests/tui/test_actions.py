"""Every action of the app, driven by a pilot against a real repository (mostly without the
watcher: those tests wait for the app's workers instead); and `leviathan` opening the app."""

from __future__ import annotations

import difflib

import pytest
from conftest import write
from textual.widgets import Markdown
from tui.conftest import drive, settle, table_ids

from leviathan_local.backlog.model import Status
from leviathan_local.backlog.store import load_backlog
from leviathan_local.events import read_events
from leviathan_local.git.repo import RepoPaths
from leviathan_local.tui.app import LeviathanApp
from leviathan_local.tui.screens.help import HelpScreen
from leviathan_local.tui.widgets.backlog_table import BacklogTable
from leviathan_local.tui.widgets.discover_view import DiscoverView


async def board_shown(app: LeviathanApp, pilot) -> None:
    await settle(app, pilot, lambda: len(table_ids(app)) == 4)


def select(app: LeviathanApp, task_id: str) -> None:
    table = app.query_one(BacklogTable)
    table.move_cursor(row=table_ids(app).index(task_id))


def test_block_asks_for_a_reason_and_remembers_the_status(app_repo: RepoPaths) -> None:
    app = LeviathanApp(app_repo, watch_files=False)

    async def script(pilot) -> None:
        await board_shown(app, pilot)
        select(app, "api-logging")
        await pilot.press("b")
        await settle(app, pilot, lambda: app.screen.__class__.__name__ == "ReasonScreen")
        await pilot.press(*"waits for the log format", "enter")
        await settle(app, pilot, lambda: load_backlog(app_repo).task("api-logging").status is Status.BLOCKED)
        await settle(app, pilot, lambda: "waits for the log format" in str(app.query_one("#detail-body").render()))

    drive(app, script)
    task = load_backlog(app_repo).task("api-logging")
    assert (task.get("blocked_reason"), task.get("blocked_from"), task.get("blocked_type")) == (
        "waits for the log format", "ready", "clarification")
    assert [e.kind for e in read_events(app_repo, "api-logging")] == ["task.blocked"]


def test_escape_cancels_a_block(app_repo: RepoPaths) -> None:
    app = LeviathanApp(app_repo, watch_files=False)
    before = app_repo.backlog.read_bytes()

    async def script(pilot) -> None:
        await board_shown(app, pilot)
        await pilot.press("b", *"no", "escape")
        await settle(app, pilot, lambda: app.screen is app.screen_stack[0])

    drive(app, script)
    assert app_repo.backlog.read_bytes() == before


def test_wsjf_inputs_are_written_without_touching_the_rest(app_repo: RepoPaths) -> None:
    app = LeviathanApp(app_repo, watch_files=False)

    async def script(pilot) -> None:
        await board_shown(app, pilot)
        select(app, "cache-warmup")
        await pilot.press("w")
        await settle(app, pilot, lambda: app.screen.__class__.__name__ == "WsjfScreen")
        await pilot.press("enter", "enter", "enter")  # impact stays 3; criticality, risk empty
        await pilot.press("backspace", "5", "enter")  # effort 8 -> 5
        await settle(app, pilot, lambda: load_backlog(app_repo).task("cache-warmup").get("effort") == 5)

    before = app_repo.backlog.read_text()
    drive(app, script)
    after = app_repo.backlog.read_text()
    assert after == before.replace("    effort: 8\n", "    effort: 5\n")


def test_clearing_a_wsjf_input_removes_its_line_and_the_score_estimates_it(app_repo: RepoPaths) -> None:
    app = LeviathanApp(app_repo, watch_files=False)

    async def script(pilot) -> None:
        await board_shown(app, pilot)
        select(app, "api-logging")
        assert "~" not in app.query_one(BacklogTable).render_line(2).text  # all four inputs given
        await pilot.press("w")
        await settle(app, pilot, lambda: app.screen.__class__.__name__ == "WsjfScreen")
        await pilot.press("backspace", "enter", "enter", "enter", "enter")  # impact 8 -> empty
        await settle(app, pilot, lambda: load_backlog(app_repo).task("api-logging").get("impact") is None)
        await settle(app, pilot, lambda: "impact 5 (estimated" in str(app.query_one("#detail-body").render()))
        row = app.board.row("api-logging")
        assert row.score.estimated == ("impact",)
        assert any("api-logging: impact estimated" in str(n.message) for n in app._notifications)
        line = app.query_one(BacklogTable).render_line(1 + table_ids(app).index("api-logging")).text
        assert line.rstrip().endswith("~")

    before = app_repo.backlog.read_text()
    drive(app, script)
    assert app_repo.backlog.read_text() == before.replace("    impact: 8\n", "", 1)
    rescored = [e for e in read_events(app_repo, "api-logging") if e.kind == "task.rescored"]
    assert len(rescored) == 1 and rescored[0].data.get("impact", "absent") is None


def test_wsjf_input_out_of_range_keeps_what_was_typed_and_marks_the_field(app_repo: RepoPaths) -> None:
    """docs-install (effort 1, the rest estimated): the empty fields show the estimates the score
    uses; impact 40 is refused in the dialog, which keeps every field as typed; 8 then saves."""
    from textual.widgets import Input, Label

    app = LeviathanApp(app_repo, watch_files=False)
    before = app_repo.backlog.read_text()

    async def script(pilot) -> None:
        await board_shown(app, pilot)
        select(app, "docs-install")
        await pilot.press("w")
        await settle(app, pilot, lambda: app.screen.__class__.__name__ == "WsjfScreen")
        screen = app.screen
        assert [screen.query_one(f"#{name}", Input).placeholder for name in ("impact", "time_criticality")] == [
            "5 (estimated: no keyword matched)", "3 (estimated: no priority)"]
        await pilot.press("4", "0", "enter", "5", "enter", "enter", "backspace", "2", "enter")
        await settle(app, pilot)
        assert app.screen is screen  # still open: nothing typed is lost
        fields = {name: screen.query_one(f"#{name}", Input) for name in ("impact", "time_criticality",
                                                                          "risk_reduction", "effort")}
        assert {name: field.value for name, field in fields.items()} == {
            "impact": "40", "time_criticality": "5", "risk_reduction": "", "effort": "2"}
        assert [name for name, field in fields.items() if field.has_class("-invalid")] == ["impact"]
        problem = screen.query_one("#impact-problem", Label)
        assert "impact must be a whole number from 1 to 13" in str(problem.render()) and problem.display
        assert app.focused is fields["impact"]
        await pilot.press("backspace", "backspace", "8", "enter", "enter", "enter", "enter")
        await settle(app, pilot, lambda: load_backlog(app_repo).task("docs-install").get("impact") == 8)
        assert app.screen is app.screen_stack[0]

    drive(app, script)
    task = load_backlog(app_repo).task("docs-install")
    assert [task.get(name) for name in ("impact", "time_criticality", "risk_reduction", "effort")] == [8, 5, None, 2]
    changed = [line for line in difflib.ndiff(before.splitlines(), app_repo.backlog.read_text().splitlines())
               if line[:1] in "+-"]
    assert sorted(changed) == ["+     effort: 2", "+     impact: 8", "+     time_criticality: 5", "-     effort: 1"]


def test_sort_cycles_and_a_header_click_sorts_by_that_column(app_repo: RepoPaths) -> None:
    # A new task scores highest but is not actionable: by rank it comes last, by score first.
    with open(app_repo.backlog, "a") as backlog:
        backlog.write("  - id: big-idea\n    title: A big idea\n    status: new\n    impact: 13\n    effort: 1\n")
    app = LeviathanApp(app_repo, watch_files=False)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: len(table_ids(app)) == 5)
        assert table_ids(app) == ["docs-install", "api-logging", "flaky-test", "big-idea", "cache-warmup"]
        await pilot.press("o")  # rank -> score
        await settle(app, pilot, lambda: "sorted by score" in app.sub_title)
        assert table_ids(app) == ["big-idea", "docs-install", "api-logging", "flaky-test", "cache-warmup"]
        await pilot.click(BacklogTable, offset=(8, 0))  # the "id" header
        await settle(app, pilot, lambda: table_ids(app) == sorted(table_ids(app)))
        assert app.query_one(BacklogTable).sort_key == "id"

    drive(app, script)


def test_help_lists_every_tab_and_key_and_closes(app_repo: RepoPaths) -> None:
    app = LeviathanApp(app_repo, watch_files=False)

    async def script(pilot) -> None:
        await board_shown(app, pilot)
        await pilot.press("question_mark")
        await settle(app, pilot, lambda: isinstance(app.screen, HelpScreen))
        text = app.screen.query_one(Markdown).source
        for words in ("discover", "Promote to ready", "Approve", "Reject", "New report", "Start/stop run", "Sort",
                      "Reload", "Theme", "`status:ready,doing`", "`flag:escalated`", "`skip:scope`"):
            assert words in text
        assert "Scroll Up" not in text  # a view's inherited scrolling keys are not its own
        await pilot.press("escape")
        await settle(app, pilot, lambda: not isinstance(app.screen, HelpScreen))

    drive(app, script)


def test_theme_toggles_between_dark_and_light(app_repo: RepoPaths) -> None:
    app = LeviathanApp(app_repo, watch_files=False)

    async def script(pilot) -> None:
        await board_shown(app, pilot)
        await pilot.press("t")
        assert app.theme == "textual-light"
        await pilot.press("t")
        assert app.theme == "textual-dark"

    drive(app, script)


def dialog_fields(screen) -> tuple:
    from textual.widgets import TextArea

    return tuple(screen.query_one(f"#{name}", TextArea) for name in ("acceptance_criteria", "allowed_paths"))


async def promote_dialog(app: LeviathanApp, pilot):
    await board_shown(app, pilot)
    await pilot.press("5")
    await settle(app, pilot, lambda: app.query_one(DiscoverView).row_count == 1)
    await pilot.press("p")
    await settle(app, pilot, lambda: app.screen.__class__.__name__ == "PromoteScreen")
    return app.screen


def test_promote_asks_for_the_acceptance_criteria_and_allowed_paths_first(app_repo: RepoPaths) -> None:
    """The dialog shows the comment's words as a first criterion and the task's allowed_paths as
    discovery gives them; the human's edits are what the ready task gets."""
    from leviathan_local.tui.widgets.discover_view import promotion_start

    app = LeviathanApp(app_repo, watch_files=False)
    before = app_repo.backlog.read_text()

    async def script(pilot) -> None:
        screen = await promote_dialog(app, pilot)
        criteria, allowed = dialog_fields(screen)
        [finding] = app.query_one(DiscoverView).findings.values()
        start = promotion_start(app_repo, finding)
        assert criteria.text == "log the request id" and allowed.text == "\n".join(start.allowed_paths)
        assert app_repo.backlog.read_text() == before  # nothing written while asking
        await pilot.press("end", *" with its header", "enter", *"tested in tests/test_server.py")
        allowed.load_text("src/api/\ntests/test_server.py\n")
        await pilot.press("ctrl+s")
        await settle(app, pilot, lambda: len(table_ids(app)) == 5)

    drive(app, script)
    [promoted] = [task for task in load_backlog(app_repo).tasks if task.id.startswith("todo-")]
    assert promoted.status is Status.READY
    assert promoted.acceptance_criteria == ["log the request id with its header", "tested in tests/test_server.py"]
    assert promoted.allowed_paths == ["src/api/", "tests/test_server.py"]
    assert app_repo.backlog.read_text().startswith(before)  # appended; the human's tasks as they were


def test_promote_without_criteria_or_paths_keeps_the_dialog_and_writes_nothing(app_repo: RepoPaths) -> None:
    from textual.widgets import Label

    app = LeviathanApp(app_repo, watch_files=False)
    before = app_repo.backlog.read_bytes()

    async def script(pilot) -> None:
        screen = await promote_dialog(app, pilot)
        criteria, allowed = dialog_fields(screen)
        criteria.load_text("  \n")
        allowed.load_text("../outside/\n")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen and criteria.has_class("-invalid") and allowed.has_class("-invalid")
        assert "refuses a task without acceptance criteria" in str(screen.query_one("#acceptance_criteria-problem",
                                                                                    Label).render())
        assert "inside the repository" in str(screen.query_one("#allowed_paths-problem", Label).render())
        assert allowed.text == "../outside/\n" and app.focused is criteria  # kept as typed
        allowed.load_text("")
        criteria.load_text("It logs the id")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen and not criteria.has_class("-invalid") and allowed.has_class("-invalid")
        assert "could never run" in str(screen.query_one("#allowed_paths-problem", Label).render())
        await pilot.press("escape")
        await settle(app, pilot, lambda: app.screen is app.screen_stack[0])

    drive(app, script)
    assert app_repo.backlog.read_bytes() == before


def test_a_new_status_report_is_written_and_shown(app_repo: RepoPaths) -> None:
    app = LeviathanApp(app_repo, watch_files=False)

    async def script(pilot) -> None:
        await board_shown(app, pilot)
        await pilot.press("6", "g")
        await settle(app, pilot, lambda: "No report yet" not in app.query_one("#report", Markdown).source)

    drive(app, script)
    written = sorted(path.name for path in (app_repo.root / "DOCS" / "status").iterdir())
    assert written == ["20261122T120000Z.json", "20261122T120000Z.md", "20261122T120000Z.svg",
                       "latest.json", "latest.md", "latest.svg"]


def test_the_command_palette_runs_actions_including_a_tab_views(app_repo: RepoPaths) -> None:
    from textual.command import CommandList
    from textual.widgets import TabbedContent

    from leviathan_local.tui.palette import palette_commands

    app = LeviathanApp(app_repo, watch_files=False)
    titles = [command.title for command in palette_commands(app)]
    for expected in ("Mark ready", "Block", "Unblock", "Edit WSJF inputs", "Filter", "Sort", "Start run", "Stop run",
                     "Scan for TODOs", "Promote finding", "Approve review", "Reject review", "New status report"):
        assert expected in titles

    async def script(pilot) -> None:
        await board_shown(app, pilot)
        await pilot.press("ctrl+p")
        await settle(app, pilot, lambda: app.screen.__class__.__name__ == "CommandPalette")
        await pilot.press(*"New status report")
        # The palette searches in the background: wait for its first hit.
        await settle(app, pilot, lambda: app.screen.query_one(CommandList).option_count > 0)
        await pilot.press("down", "enter")
        await settle(app, pilot, lambda: app.query_one(TabbedContent).active == "status-tab"
                     and (app_repo.root / "DOCS" / "status" / "latest.json").exists())

    drive(app, script)


def test_a_click_on_a_row_selects_its_task(app_repo: RepoPaths) -> None:
    app = LeviathanApp(app_repo, watch_files=False)

    async def script(pilot) -> None:
        await board_shown(app, pilot)
        await pilot.click(BacklogTable, offset=(5, 3))  # line 0 is the header
        await settle(app, pilot, lambda: "Fix the flaky login test" in str(app.query_one("#detail-body").render()))
        assert app.query_one(BacklogTable).selected_task_id == "flaky-test"

    drive(app, script)


def test_d_scans_the_code_again(app_repo: RepoPaths) -> None:
    app = LeviathanApp(app_repo, watch_files=False)

    async def script(pilot) -> None:
        await board_shown(app, pilot)
        await pilot.press("5")
        view = app.query_one(DiscoverView)
        await settle(app, pilot, lambda: view.row_count == 1)
        write(app_repo.root / "src" / "api" / "auth.py", "def check():\n    pass  # FIXME: tokens never expire\n")
        await settle(app, pilot)
        assert view.row_count == 1  # nothing scans again on its own
        await pilot.press("d")
        await settle(app, pilot, lambda: view.row_count == 2)
        assert "tokens never expire" in str(view.get_row_at(1)) + str(view.get_row_at(0))

    drive(app, script)


def test_ctrl_r_reads_the_backlog_again(app_repo: RepoPaths) -> None:
    app = LeviathanApp(app_repo, watch_files=False)  # no watcher: only the key reloads

    async def script(pilot) -> None:
        await board_shown(app, pilot)
        table = app.query_one(BacklogTable)
        app_repo.backlog.write_text(app_repo.backlog.read_text().replace("Document the install", "Document the setup"))
        await settle(app, pilot)
        assert table.shows_title("Document the install")
        await pilot.press("ctrl+r")
        await settle(app, pilot, lambda: table.shows_title("Document the setup"))

    drive(app, script)


def test_a_policy_change_on_disk_shows_in_the_plan(app_repo: RepoPaths) -> None:
    app_repo.backlog.write_text(app_repo.backlog.read_text().replace("    allowed_paths: [src/api/]\n", "    scope: api\n"))
    app_repo.policy.write_text("scopes:\n  api: {allowed_paths: [src/api/]}\n")
    app = LeviathanApp(app_repo, watch_files=True)

    def plan() -> str:
        return str(app.query_one("#plan-body").render())

    async def script(pilot) -> None:
        await board_shown(app, pilot)
        await pilot.press("2")
        await settle(app, pilot, lambda: app.query("#plan-body") and "2. api-logging" in plan())
        app_repo.policy.write_text("scopes:\n  web: {allowed_paths: [web/]}\n")  # the api scope is gone
        await settle(app, pilot, lambda: "api-logging  scope: scope 'api' is not defined" in plan())
        assert "2. api-logging" not in plan()
        await settle(app, pilot, lambda: app.board.row("api-logging").skip_reason == "scope")

    drive(app, script)


def test_leviathan_without_a_command_opens_the_app(app_repo: RepoPaths, monkeypatch) -> None:
    """The executable's own entry point, as `leviathan` runs it: the app comes up on the
    repository of the working directory (a backlog this small needs no forked child)."""
    from leviathan_local.cli import entry

    seen: dict[str, object] = {}
    real_run = LeviathanApp.run

    async def auto_pilot(pilot) -> None:
        app = pilot.app
        await settle(app, pilot, lambda: app.board is not None)
        seen.update(rows=table_ids(app), prefetched=app.prefetch is not None, watching=app.watch_files,
                    root=app.paths.root)
        await pilot.press("q")

    def headless(app: LeviathanApp, **_options) -> None:
        app.animation_level = "none"
        return real_run(app, headless=True, size=(80, 24), auto_pilot=auto_pilot)

    monkeypatch.setattr(LeviathanApp, "run", headless)
    monkeypatch.chdir(app_repo.root / "src")
    with pytest.raises(SystemExit) as exit_:
        entry.main([])
    assert exit_.value.code == 0
    assert seen == {"rows": ["docs-install", "api-logging", "flaky-test", "cache-warmup"], "prefetched": False,
                    "watching": True, "root": app_repo.root}


def test_promoting_one_finding_leaves_the_other_discovered_tasks_as_they_were(app_repo: RepoPaths) -> None:
    """Promoting a finding not yet in the backlog adds that one task: the tasks discovered before
    are neither blocked as "source removed" nor touched."""
    from conftest import git

    from leviathan_local.discovery.reconcile import run_discovery

    run_discovery(app_repo)  # server.py's TODO, filed as `new` by an earlier `leviathan discover`
    [earlier] = [task.id for task in load_backlog(app_repo).tasks if task.id.startswith("todo-")]
    write(app_repo.root / "src" / "api" / "client.py", "def call():\n    pass  # TODO: retry on 503\n")
    git(app_repo.root, "add", "-A")
    git(app_repo.root, "commit", "-qm", "client")
    app = LeviathanApp(app_repo, watch_files=False)

    async def script(pilot) -> None:
        await settle(app, pilot, lambda: len(table_ids(app)) == 5)  # the four, and the one discovered
        await pilot.press("5")
        view = app.query_one(DiscoverView)
        await settle(app, pilot, lambda: view.row_count == 2)
        [fresh] = [key for key, finding in view.findings.items() if finding.path.endswith("client.py")]
        view.move_cursor(row=view.get_row_index(fresh))
        await pilot.press("p")
        await settle(app, pilot, lambda: app.screen.__class__.__name__ == "PromoteScreen")
        await pilot.press("ctrl+s")
        await settle(app, pilot, lambda: app.screen.__class__.__name__ != "PromoteScreen")

    drive(app, script)
    tasks = load_backlog(app_repo).by_id
    assert tasks[earlier].status is Status.NEW and tasks[earlier].get("blocked_reason") is None
    assert [task for task in tasks.values() if task.status is Status.READY and task.id != earlier]
