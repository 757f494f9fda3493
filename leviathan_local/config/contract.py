"""contract.yaml: which repository this is and whose (seed 004's target registration)."""

from __future__ import annotations

from dataclasses import dataclass

from leviathan_local.config.loading import load_config
from leviathan_local.config.schema import text
from leviathan_local.git.repo import RepoPaths, current_branch

CONTRACT_SPEC = {name: text for name in (
    "target_id", "name", "repo_url", "default_branch", "description", "owner", "created_at",
)}


@dataclass(frozen=True)
class Contract:
    default_branch: str
    target_id: str | None = None
    name: str | None = None
    owner: str | None = None
    description: str | None = None
    repo_url: str | None = None
    created_at: str | None = None


def load_contract(paths: RepoPaths) -> Contract:
    """The contract; without one (or without default_branch) the checked-out branch is the default."""
    data = load_config(paths, paths.contract, CONTRACT_SPEC) or {}
    values = {key: str(value) for key, value in data.items() if value is not None}
    values.setdefault("default_branch", current_branch(paths) or "main")
    return Contract(**values)
