"""policy.yaml's `discovery` settings, memoized by the file's bytes so that a warm `discover`
need not import the YAML parser (or anything else heavy)."""

from __future__ import annotations

import marshal
import os

from leviathan_local.discovery.scan import save_scratch

MEMO_NAME = "discover-policy"


class Settings:
    __slots__ = ("tags", "exclude", "on_run", "policy_raw")

    def __init__(self, tags: tuple[str, ...], exclude: tuple[str, ...], on_run: bool, policy_raw: bytes) -> None:
        self.tags, self.exclude, self.on_run, self.policy_raw = tags, exclude, on_run, policy_raw


def discovery_settings(located: tuple[str, str, str]) -> Settings:
    """The settings for the repository ``located`` (work tree, git dir, common dir)."""
    root, _, common_dir = located
    state_dir = os.path.join(common_dir, "leviathan")
    try:
        with open(os.path.join(root, ".leviathan", "policy.yaml"), "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raw = b""
    memo_path = os.path.join(state_dir, MEMO_NAME)
    try:
        with open(memo_path, "rb") as handle:
            memo = marshal.loads(handle.read())
        if memo[0] == raw:
            return Settings(tuple(memo[1]), tuple(memo[2]), bool(memo[3]), raw)
    except (OSError, EOFError, ValueError, TypeError, IndexError):
        pass
    settings = _parsed(located, raw)
    save_scratch(memo_path, (raw, settings.tags, settings.exclude, settings.on_run))
    return settings


DEFAULT_TAGS = ("TODO", "FIXME", "HACK", "XXX", "BUG")  # policy.DiscoverySettings' defaults, checked by a test


def _parsed(located: tuple[str, str, str], raw: bytes) -> Settings:
    if not raw:
        return Settings(DEFAULT_TAGS, (), False, raw)
    # Imported here: needed only when policy.yaml changed since the last scan.
    from pathlib import Path

    from leviathan_local.config.policy_load import load_policy
    from leviathan_local.repo_paths import RepoPaths

    discovery = load_policy(RepoPaths(*map(Path, located))).discovery
    return Settings(tuple(discovery.tags), tuple(discovery.exclude), discovery.on_run, raw)
