"""The current attempt's micro-cycle, red → green → refactor → gates → commit (after setup, when
the attempt runs policy's `setup:`), each phase with its verdict mark and its time (Run tab, top
line). The mark says what the colour says, so the strip reads the same in a light theme, a
monochrome terminal or a screenshot."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from leviathan_local.planning.attempt_history import VERDICT_MARKS, phases_shown

MARKS = {"running": "…", **VERDICT_MARKS}
STYLES = {"running": "bold yellow", "passed": "bold green", "failed": "bold red", "skipped": "dim strike",
          "pending": "dim"}

Phases = dict[str, tuple[str, float | None]]  # phase -> (state, seconds once finished)


class ProgressStrip(Static):
    DEFAULT_CSS = """
    ProgressStrip { height: auto; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.show_phases({})

    def show_phases(self, phases: Phases) -> None:
        self.update(strip_text(phases))


def strip_text(phases: Phases) -> Text:
    """`red ✓ 0.4s → green ✗ 1.2s → refactor → gates → commit` (a phase not started: its name),
    led by `setup ✓ 3.1s → ` once the attempt's setup has started."""
    text = Text()
    for index, phase in enumerate(phases_shown(phases)):
        state, seconds = phases.get(phase, ("pending", None))
        label = " ".join(part for part in (phase, MARKS.get(state, ""),
                                           "" if seconds is None else f"{seconds:.1f}s") if part)
        text.append(" → " if index else "")
        text.append(label, STYLES.get(state, ""))
    return text
