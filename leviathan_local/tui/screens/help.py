"""What each tab is for and every key, built from the bindings themselves so it never drifts."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from leviathan_local.tui.backlog_filter import SYNTAX

TAB_PURPOSES = {
    "backlog": "every task, ranked by WSJF; the selected one in full on the right",
    "plan": "the dry run: what a run would take, in order, and why the rest is skipped",
    "run": "start or stop a run; the micro-cycle of the current task and its output, live",
    "review": "branches waiting for a human: the diff, approve (merge) or reject with a reason",
    "discover": "TODO/FIXME comments in the code; promote one to a ready task",
    "status": "the latest status report and the completions trend",
}


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%; border: thick $primary;
                                  background: $surface; padding: 0 1; }
    """
    AUTO_FOCUS = "VerticalScroll"
    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close")]

    def __init__(self, sections: dict[str, list[Binding]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(help_text(self.sections))

    def action_dismiss(self) -> None:
        self.dismiss(None)


def help_text(sections: dict[str, list[Binding]]) -> str:
    """Markdown: the tabs, then a table of keys for the whole app and for each tab."""
    lines = ["# leviathan-local", "", "Tabs (keys 1 to 6):", ""]
    lines += [f"{number}. **{tab}**: {purpose}" for number, (tab, purpose) in enumerate(TAB_PURPOSES.items(), 1)]
    lines += ["", "Mouse: click a tab, a row, or a column header (sorts by it). Ctrl+P: every action by name.", ""]
    lines += ["## Filter (`/`)", "", "Terms separated by spaces; a task must match all of them. "
              "Values are case-insensitive; a comma lists alternatives.", "", "| type | keeps |", "|---|---|"]
    lines += [f"| `{term}` | {meaning} |" for term, meaning in SYNTAX]
    lines.append("")
    for title, bindings in sections.items():
        lines += [f"## {title}", "", "| key | action |", "|---|---|"]
        lines += [f"| `{_key(binding.key)}` | {binding.description or binding.action} |" for binding in bindings]
        lines.append("")
    return "\n".join(lines)


def _key(key: str) -> str:
    names = {"slash": "/", "question_mark": "?"}
    return ", ".join(names.get(part, part) for part in key.split(","))
