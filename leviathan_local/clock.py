"""The one place that reads the wall clock, so tests and reports can fix time.

``LEVIATHAN_NOW`` (an ISO 8601 timestamp) freezes the clock for a whole process,
which keeps plan output, snapshots and reports reproducible.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone


def parse_timestamp(text: str) -> datetime:
    """Parse ISO 8601 (``Z`` suffix allowed); naive values are taken as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def now() -> datetime:
    frozen = os.environ.get("LEVIATHAN_NOW")
    if frozen:
        return parse_timestamp(frozen)
    return datetime.now(timezone.utc)


def format_timestamp(moment: datetime) -> str:
    """UTC, second precision, ``Z`` suffix: ``2026-11-22T14:05:00Z``."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
