"""The tabs after the first, built the first time they are shown.

Each view's module (and the engine it drives: the runner, review, discovery, reports) is
imported only then, so opening the app costs the backlog board and nothing else.
"""

from __future__ import annotations

from importlib import import_module

from textual.binding import Binding
from textual.widget import Widget

from leviathan_local.repo_paths import RepoPaths

TABS = ("backlog", "plan", "run", "review", "discover", "status")
VIEWS = {  # tab -> (module under tui.widgets, class, the widget that takes focus)
    "plan": ("plan_view", "PlanView", "#plan"),
    "run": ("run_view", "RunView", "#run #output"),
    "review": ("review_view", "ReviewView", "#reviews"),
    "discover": ("discover_view", "DiscoverView", "#discover"),
    "status": ("status_view", "StatusView", "#status"),
}


def view_class(tab: str) -> type[Widget]:
    module, name, _ = VIEWS[tab]
    return getattr(import_module(f"leviathan_local.tui.widgets.{module}"), name)


def make_view(tab: str, paths: RepoPaths) -> Widget:
    return view_class(tab)(paths, id=tab)


def focus_target(tab: str) -> str:
    return VIEWS[tab][2] if tab in VIEWS else "#backlog"


def view_bindings() -> dict[str, list[Binding]]:
    """Each tab's own keys (for the help screen): those its view defines, not the scrolling keys
    it inherits."""
    return {tab: [b for b in vars(view_class(tab)).get("BINDINGS", []) if isinstance(b, Binding)] for tab in VIEWS}
