"""Reading what agent CLIs print: JSON objects one a line, among whatever else they print."""

from __future__ import annotations

import json
from typing import Any


def json_lines(output: str) -> list[dict[str, Any]]:
    """Every line of ``output`` that is a JSON object (stderr's text is merged in: skipped)."""
    found = []
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                found.append(value)
    return found
