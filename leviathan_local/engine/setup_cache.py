"""A slot's setup marker: which base and which `setup:` commands made the setup outputs it holds.

Setup (engine/setup.py) runs in a pool slot before red. What it makes must be git-ignored, and
those ignored entries (`venv/`, `.env`, as git lists them) are named in a marker beside the
slot's lock, with the base commit and a digest of the commands. Resetting or cleaning the slot
keeps exactly those entries while the marker matches (same base; same commands, where the caller
knows them), so the next attempt on that base skips setup; otherwise every ignored file goes, as
without setup, and the marker goes with them. The marker is dropped before setup runs and written
only once it has succeeded: a death in between leaves no marker, and the next reset wipes all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from leviathan_local.atomic import write_atomic
from leviathan_local.config.policy import SetupCommand
from leviathan_local.git.repo import clean_worktree
from leviathan_local.repo_paths import RepoPaths

ANY_SETUP = "*"  # a caller that does not know the policy (recovery): the base alone decides


@dataclass(frozen=True)
class SetupMarker:
    base: str
    key: str  # setup_key of the commands that ran
    outputs: tuple[str, ...]  # the ignored entries setup made, kept by every clean while it matches


def setup_key(commands: Sequence[SetupCommand]) -> str | None:
    """A digest of the commands (None: no setup): changing any of them reruns setup."""
    if not commands:
        return None
    listed = json.dumps([[command.name, command.run] for command in commands])
    return hashlib.sha256(listed.encode("utf-8")).hexdigest()


def read_marker(paths: RepoPaths, slot: Path) -> SetupMarker | None:
    try:
        data = json.loads(_marker_path(paths, slot).read_text(encoding="utf-8"))
        return SetupMarker(str(data["base"]), str(data["key"]), tuple(str(entry) for entry in data["outputs"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # none, or torn by hand: setup runs again


def write_marker(paths: RepoPaths, slot: Path, marker: SetupMarker) -> None:
    data = {"base": marker.base, "key": marker.key, "outputs": list(marker.outputs)}
    write_atomic(_marker_path(paths, slot), json.dumps(data, indent=1).encode("utf-8"))


def drop_marker(paths: RepoPaths, slot: Path) -> None:
    _marker_path(paths, slot).unlink(missing_ok=True)


def kept_outputs(paths: RepoPaths, slot: Path, base: str, key: str | None) -> frozenset[str] | None:
    """What a reset or clean of ``slot`` at ``base`` keeps: the setup outputs while the marker
    matches (``key`` ANY_SETUP: any commands); None (every ignored file goes, and the marker)."""
    marker = read_marker(paths, slot)
    if marker is not None and marker.base == base and key is not None and key in (marker.key, ANY_SETUP):
        return frozenset(marker.outputs)
    drop_marker(paths, slot)
    return None


def clean_slot(paths: RepoPaths, slot: Path, commit: str, key: str | None = ANY_SETUP) -> None:
    """``slot`` made exactly ``commit``, detached, its setup outputs kept while they are ``commit``'s."""
    clean_worktree(slot, commit, kept_outputs(paths, slot, commit, key))


def _marker_path(paths: RepoPaths, slot: Path) -> Path:
    return paths.state_dir / "slots" / f"{slot.name}.setup.json"
