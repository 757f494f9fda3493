"""policy.yaml's `discovery` settings, memoized by the file's bytes so a warm `discover` need
not import the YAML parser."""

from __future__ import annotations

import hashlib
import marshal
import os
from typing import NamedTuple

from leviathan_local.repo_paths import RepoPaths


class Settings(NamedTuple):
    tags: tuple[str, ...]
    exclude: tuple[str, ...]
    on_run: bool
    policy_digest: str


def discovery_settings(paths: RepoPaths) -> Settings:
    try:
        raw = paths.policy.read_bytes()
    except FileNotFoundError:
        raw = b""
    digest = hashlib.sha1(raw).hexdigest()
    memo_path = paths.state_dir / "discover-policy"
    try:
        memo = marshal.loads(memo_path.read_bytes())
        if memo[0] == digest:
            return Settings(tuple(memo[1]), tuple(memo[2]), bool(memo[3]), digest)
    except (OSError, EOFError, ValueError, TypeError, IndexError):
        pass
    from leviathan_local.policy_load import load_policy  # here: needed only when policy.yaml changed

    discovery = load_policy(paths).discovery
    settings = Settings(tuple(discovery.tags), tuple(discovery.exclude), discovery.on_run, digest)
    memo_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = memo_path.with_name(f"discover-policy.{os.getpid()}.tmp")
    temporary.write_bytes(marshal.dumps((digest, settings.tags, settings.exclude, settings.on_run)))
    os.replace(temporary, memo_path)
    return settings
