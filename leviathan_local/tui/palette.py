"""Every action of the app as a command palette entry (ctrl+p)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from textual.app import SystemCommand

from leviathan_local.tui.views import TABS


class PaletteHost(Protocol):
    """What the palette calls on the app (the app imports this module, so not the other way)."""

    async def action_show_tab(self, tab: str) -> None: ...
    def action_ready(self) -> None: ...
    def action_block(self) -> None: ...
    def action_unblock(self) -> None: ...
    def action_edit_wsjf(self) -> None: ...
    async def action_filter(self) -> None: ...
    def action_cycle_sort(self) -> None: ...
    def action_reload(self) -> None: ...
    def action_help(self) -> None: ...
    def action_toggle_dark(self) -> None: ...
    async def in_view(self, tab: str, method: str) -> None: ...


def palette_commands(app: PaletteHost) -> Iterator[SystemCommand]:
    for tab in TABS:
        yield SystemCommand(f"Show {tab}", f"Switch to the {tab} tab", lambda tab=tab: app.action_show_tab(tab))
    for title, help_text, action in (
        ("Mark ready", "The selected task becomes ready (it needs acceptance criteria)", app.action_ready),
        ("Block", "Block the selected task with a reason", app.action_block),
        ("Unblock", "Return the selected task to its previous status", app.action_unblock),
        ("Edit WSJF inputs", "Impact, time criticality, risk reduction, effort", app.action_edit_wsjf),
        ("Filter", "Filter the backlog: words and terms like status:ready, flag:escalated", app.action_filter),
        ("Sort", "Sort the backlog by the next key (rank, score, age, status, id, tries, cost)", app.action_cycle_sort),
        ("Reload", "Read backlog.yaml and policy.yaml again", app.action_reload),
        ("Help", "Every tab and key", app.action_help),
        ("Toggle theme", "Light or dark", app.action_toggle_dark),
    ):
        yield SystemCommand(title, help_text, action)
    for title, help_text, tab, method in (
        ("Start run", "Run the top-ranked tasks until a halt reason", "run", "start"),
        ("Stop run", "Stop the run cleanly (ShutdownRequested)", "run", "request_stop"),
        ("Scan for TODOs", "Discover tagged comments (dry run)", "discover", "scan"),
        ("Promote finding", "The selected finding becomes a ready task", "discover", "action_promote"),
        ("Approve review", "Merge the selected review branch", "review", "action_approve"),
        ("Reject review", "Reject the selected review branch with a reason", "review", "action_reject"),
        ("New status report", "Write DOCS/status/<timestamp>.*", "status", "generate"),
    ):
        yield SystemCommand(title, help_text, lambda tab=tab, method=method: app.in_view(tab, method))
