"""What git accepts as a reference name (`git check-ref-format`), decided in Python.

Task ids become branch names (`agent/<id>-<short>`), and a 10,000-task backlog is validated on
every load, so no git process is asked per id. The rules are git's own (git-check-ref-format(1));
`tests/test_task_ids.py` checks this module against the real command.
"""

from __future__ import annotations

import re

# Anywhere in a name: ASCII controls, DEL, space, `~ ^ : ? * [ \`, two dots, `@{`.
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{")
_SHOWN = {" ": "a space", "..": "`..`", "@{": "`@{`"}


def ref_problem(name: str) -> str | None:
    """Why git refuses ``name`` as a full reference name (as `git check-ref-format` does);
    None when git accepts it."""
    if name == "@":
        return "`@` alone is no name"
    forbidden = _FORBIDDEN.search(name)
    if forbidden:
        text = forbidden.group()
        shown = _SHOWN.get(text) or (f"`{text}`" if text.isprintable() else f"the control character {text!r}")
        return f"{shown} is not allowed"
    if "/" not in name:
        return "a reference needs at least two `/`-separated parts"
    if name.endswith("."):
        return "it may not end with `.`"
    for component in name.split("/"):
        problem = component_problem(component)
        if problem:
            return problem
    return None


def component_problem(component: str, called: str = "a part") -> str | None:
    """Why git refuses ``component`` as one `/`-separated part of a name (the characters aside),
    naming it ``called``."""
    if not component:
        return "an empty part (`//`, or `/` at an end)"
    if component.startswith("."):
        return f"{called} may not start with `.`"
    if component.endswith(".lock"):
        return f"{called} may not end with `.lock`"
    return None
