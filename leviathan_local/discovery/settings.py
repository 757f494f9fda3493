"""policy.yaml's `discovery` settings, memoized by the file's bytes so that a warm `discover`
need not import the YAML parser and the policy's schema."""

from __future__ import annotations

import os

from leviathan_local.discovery.cache import load_scratch, save_scratch

MEMO_NAME = "discover-policy"
DEFAULT_TAGS = ("TODO", "FIXME", "HACK", "XXX", "BUG")  # policy.DiscoverySettings' defaults, checked by a test
DEFAULT_TEST_GLOBS = ("tests/**", "**/test_*.py", "**/*_test.py")  # policy.TddSettings' defaults, the same


class Settings:
    """A plain class: a dataclass or NamedTuple would import dataclasses or typing, which take
    longer than a warm `discover` (this runs at every one)."""

    __slots__ = ("tags", "exclude", "on_run", "test_globs", "policy_raw")

    def __init__(self, tags: tuple[str, ...], exclude: tuple[str, ...], on_run: bool, test_globs: tuple[str, ...],
                 policy_raw: bytes) -> None:
        self.tags, self.exclude, self.on_run = tags, exclude, on_run
        self.test_globs = test_globs  # policy's `tdd.test_globs`: a discovered task's default scope holds them
        self.policy_raw = policy_raw  # the policy file's bytes the settings were read from (b"": no file)


def discovery_settings(located: tuple[str, str, str]) -> Settings:
    """The settings for the repository ``located`` (work tree, git dir, common dir)."""
    root, _, common_dir = located
    try:
        with open(os.path.join(root, ".leviathan", "policy.yaml"), "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raw = b""
    memo_path = os.path.join(common_dir, "leviathan", MEMO_NAME)
    memo = load_scratch(memo_path)
    if isinstance(memo, tuple) and len(memo) == 5 and memo[0] == raw:
        return Settings(tuple(memo[1]), tuple(memo[2]), bool(memo[3]), tuple(memo[4]), raw)
    settings = _parsed(located, raw)
    save_scratch(memo_path, (raw, settings.tags, settings.exclude, settings.on_run, settings.test_globs))
    return settings


def _parsed(located: tuple[str, str, str], raw: bytes) -> Settings:
    if not raw:
        return Settings(DEFAULT_TAGS, (), False, DEFAULT_TEST_GLOBS, raw)
    # Imported here: the YAML parser and the policy's schema, needed only when policy.yaml changed.
    from pathlib import Path

    from leviathan_local.config.policy_load import load_policy
    from leviathan_local.repo_paths import RepoPaths

    policy = load_policy(RepoPaths(*map(Path, located)))
    discovery = policy.discovery
    return Settings(tuple(discovery.tags), tuple(discovery.exclude), discovery.on_run, tuple(policy.tdd.test_globs),
                    raw)
