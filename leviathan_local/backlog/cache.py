"""Parsed backlog chunks, kept between loads and between processes.

Keyed on each chunk's content (a 128-bit BLAKE2 digest), so a cached parse can never be
stale: changed text simply misses. The on-disk copy lives in the git common dir's
`leviathan/cache/`, never in the work tree; set ``LEVIATHAN_NO_CACHE=1`` to bypass it.
Stored with ``marshal`` (builtins only), which loads a 10,000-task memo several times faster
than pickle.
"""

from __future__ import annotations

import marshal
import os
from pathlib import Path

from leviathan_local.atomic import write_atomic
from leviathan_local.backlog.items import ParsedItem
from leviathan_local.backlog.parse import ItemMemo
from leviathan_local.repo_paths import RepoPaths

_FORMAT = 2  # 2: merge keys resolved (a chunk parsed before kept `<<` as a field)
_FEW = 20  # new chunks that are not worth a rewrite of the disk copy, at the least
_memos: dict[Path, ItemMemo] = {}
_unsaved: dict[Path, int] = {}  # chunks parsed since the disk copy was written


def _file(paths: RepoPaths) -> Path:
    return paths.state_dir / "cache" / "backlog-items.marshal"


def _disabled() -> bool:
    return os.environ.get("LEVIATHAN_NO_CACHE", "") not in ("", "0")


def item_memo(paths: RepoPaths) -> ItemMemo:
    """The chunks parsed last time for this repository (from memory, else from disk)."""
    if paths.common_dir not in _memos:
        _memos[paths.common_dir] = {} if _disabled() else _read(_file(paths))
    return _memos[paths.common_dir]


def replace(paths: RepoPaths, memo: ItemMemo) -> None:
    """Keep ``memo`` (the chunks of the text just parsed) as the repository's current one."""
    current = _memos.get(paths.common_dir) or {}
    new = sum(1 for key in memo if key not in current)
    if new:
        _unsaved[paths.common_dir] = _unsaved.get(paths.common_dir, 0) + new
    _memos[paths.common_dir] = memo


def persist(paths: RepoPaths) -> None:
    """Save the memo to disk when enough of it is new; a failure only costs speed.

    A few edited tasks are not worth rewriting the whole file (a tenth of a second at 10,000
    tasks, on every save in an editor the app watches): the next process parses them again.
    """
    memo = _memos.get(paths.common_dir)
    if _disabled() or memo is None or _unsaved.get(paths.common_dir, 0) <= max(_FEW, len(memo) // 100):
        return
    payload = {key: (item.value, item.line_in_chunk, item.positions, item.duplicate_keys)
               for key, item in memo.items()}
    try:
        _file(paths).parent.mkdir(parents=True, exist_ok=True)
        write_atomic(_file(paths), marshal.dumps((_FORMAT, payload)), durable=False)
    except OSError:
        return
    _unsaved[paths.common_dir] = 0


def _read(path: Path) -> ItemMemo:
    try:
        version, payload = marshal.loads(path.read_bytes())
        if version != _FORMAT:
            return {}
        return {key: ParsedItem(value, line, positions, list(duplicates))
                for key, (value, line, positions, duplicates) in payload.items()}
    except (OSError, ValueError, EOFError, TypeError):
        return {}
