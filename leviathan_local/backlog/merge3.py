"""Line-based three-way merge of texts, with git's conflict markers.

The semantic backlog merge uses it for the text around the tasks and, as a last resort,
for files it cannot read as a backlog; either way both sides' lines survive a conflict.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TypeVar

Item = TypeVar("Item", bound=Hashable)


@dataclass(frozen=True)
class Labels:
    ours: str = "ours"
    theirs: str = "theirs"
    marker_size: int = 7


@dataclass(frozen=True)
class TextMerge:
    text: str
    conflicts: int


def merge_texts(base: str, ours: str, theirs: str, labels: Labels = Labels()) -> TextMerge:
    """``ours`` with ``theirs``' changes since ``base``; overlapping different changes conflict."""
    if ours == theirs or theirs == base:
        return TextMerge(ours, 0)
    if ours == base:
        return TextMerge(theirs, 0)
    base_lines, our_lines, their_lines = (t.splitlines(keepends=True) for t in (base, ours, theirs))
    out: list[str] = []
    conflicts = 0
    for region in _regions(base_lines, our_lines, their_lines):
        if region[0] == "conflict":
            _, mine, yours = region
            out += conflict_block(mine, yours, labels)
            conflicts += 1
        else:
            out += region[1]
    return TextMerge("".join(out), conflicts)


def merge_sequences(base: Sequence[Item], ours: Sequence[Item], theirs: Sequence[Item]) -> list[Item] | None:
    """The three-way merge of two edited lists of items (the same rules as lines); None on a conflict."""
    original, mine, yours = list(base), list(ours), list(theirs)
    if mine == yours or yours == original:
        return mine
    if mine == original:
        return yours
    merged: list[Item] = []
    for region in _regions(original, mine, yours):
        if region[0] == "conflict":
            return None
        merged += region[1]
    return merged


def conflict_block(ours: list[str], theirs: list[str], labels: Labels) -> list[str]:
    """Both sides between standard markers (each side ends with a newline)."""
    size = labels.marker_size
    return [f"{'<' * size} {labels.ours}\n", *_terminated(ours), f"{'=' * size}\n", *_terminated(theirs),
            f"{'>' * size} {labels.theirs}\n"]


def _terminated(lines: list[str]) -> list[str]:
    if lines and not lines[-1].endswith("\n"):
        return [*lines[:-1], lines[-1] + "\n"]
    return lines


def _regions(base: Sequence[Hashable], ours: Sequence[Hashable], theirs: Sequence[Hashable]) -> Iterator[tuple]:
    """("lines", [...]) for settled stretches, ("conflict", ours, theirs) where both changed."""
    at_base = at_ours = at_theirs = 0
    for base_from, base_to, ours_from, ours_to, theirs_from, theirs_to in _sync_regions(base, ours, theirs):
        mine, yours, original = ours[at_ours:ours_from], theirs[at_theirs:theirs_from], base[at_base:base_from]
        if mine or yours:
            if mine == yours or yours == original:
                yield "lines", mine
            elif mine == original:
                yield "lines", yours
            else:
                yield "conflict", mine, yours
        yield "lines", base[base_from:base_to]
        at_base, at_ours, at_theirs = base_to, ours_to, theirs_to


def _sync_regions(base: Sequence[Hashable], ours: Sequence[Hashable], theirs: Sequence[Hashable]) -> list[tuple[int, ...]]:
    """Stretches of ``base`` that both sides kept unchanged, with where they sit in each side."""
    our_blocks = SequenceMatcher(None, base, ours, autojunk=False).get_matching_blocks()
    their_blocks = SequenceMatcher(None, base, theirs, autojunk=False).get_matching_blocks()
    regions = []
    i = j = 0
    while i < len(our_blocks) and j < len(their_blocks):
        a_base, a_side, a_len = our_blocks[i]
        b_base, b_side, b_len = their_blocks[j]
        start, end = max(a_base, b_base), min(a_base + a_len, b_base + b_len)
        if start < end:
            regions.append((start, end, a_side + start - a_base, a_side + end - a_base,
                            b_side + start - b_base, b_side + end - b_base))
        if a_base + a_len < b_base + b_len:
            i += 1
        else:
            j += 1
    regions.append((len(base), len(base), len(ours), len(ours), len(theirs), len(theirs)))
    return regions
