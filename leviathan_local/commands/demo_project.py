"""The sample project `leviathan demo` makes and runs on: no network or API key needed.

The project is a tiny Python package tested with unittest; the backlog's tasks carry their own
`steps`, run by the `recipe` agent, so the whole loop (red, green, refactor, gates, commit,
failure accounting, halt commit) can be watched on any machine.
"""

from __future__ import annotations

from pathlib import Path

from leviathan_local.backlog import merge_driver
from leviathan_local.git.repo import RepoPaths, init_with_commit

FILES = {
    ".gitignore": "worktrees/\n__pycache__/\n",
    "calc/__init__.py": '"""A tiny calculator."""\n\n\ndef add(a, b):\n    return a + b\n',
    "tests/test_add.py": "import unittest\n\nfrom calc import add\n\n\nclass AddTest(unittest.TestCase):\n"
                         "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n",
    ".leviathan/contract.yaml": "target_id: leviathan-demo\nname: leviathan demo calculator\n"
                                "default_branch: main\nowner: you\n",
    ".leviathan/policy.yaml": """\
# The demo runs each task's own steps (recipe agent): no network, no API key.
agent: {kind: recipe}
tdd:
  test_command: "python -m unittest discover -s tests -q"
  test_globs: ["tests/**"]
invariants:
  - {name: Tests pass, check: "python -m unittest discover -s tests -q"}
limits: {max_attempts_per_task: 2, circuit_breaker_failures: 3, max_open_reviews: 10, attempt_timeout_seconds: 120}
reports: {commit: true}          # the halt commit carries the run's status report (DOCS/status/)
scopes:
  docs: {allowed_paths: [docs/], tdd: false}
""",
}

BACKLOG = """\
# The demo backlog: tasks written by a human, ranked by WSJF.
tasks:
  - id: subtract
    title: Add subtract()
    type: feature
    status: ready
    impact: 8
    effort: 2
    allowed_paths: [calc/, tests/]
    acceptance_criteria: ["subtract(5, 3) == 2"]
    created_at: 2026-01-01T00:00:00Z
    steps:
      red:
        - |
          cat > tests/test_subtract.py <<'PY'
          import unittest

          from calc import subtract


          class SubtractTest(unittest.TestCase):
              def test_subtract(self):
                  self.assertEqual(subtract(5, 3), 2)
          PY
      green:
        - printf '\\n\\ndef subtract(a, b):\\n    return a - b\\n' >> calc/__init__.py
      refactor: []

  - id: usage-docs
    title: Document how to use the calculator
    type: docs
    scope: docs
    status: ready
    impact: 3
    effort: 1
    acceptance_criteria: [docs/usage.md shows add()]
    created_at: 2026-01-01T00:00:00Z
    steps:
      green:
        - |
          mkdir -p docs
          cat > docs/usage.md <<'MD'
          # Usage

              from calc import add
              add(2, 3)  # 5
          MD

  - id: multiply
    title: Add multiply() (its recipe is wrong on purpose)
    type: feature
    status: ready
    impact: 2
    effort: 3
    allowed_paths: [calc/, tests/]
    acceptance_criteria: ["multiply(2, 3) == 6"]
    created_at: 2026-01-01T00:00:00Z
    steps:
      red:
        - |
          cat > tests/test_multiply.py <<'PY'
          import unittest

          from calc import multiply


          class MultiplyTest(unittest.TestCase):
              def test_multiply(self):
                  self.assertEqual(multiply(2, 3), 6)
          PY
      green:
        - printf '\\n\\ndef multiply(a, b):\\n    return a + b\\n' >> calc/__init__.py

  - id: divide
    title: Add divide()
    type: feature
    status: new
    acceptance_criteria: ["divide(6, 3) == 2"]
"""


def create_demo_repository(root: Path) -> RepoPaths:
    """Write the sample project into the empty directory ``root`` and commit it on main."""
    root.mkdir(parents=True, exist_ok=True)
    for relative, content in {**FILES, ".leviathan/backlog.yaml": BACKLOG}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    (root / ".gitattributes").write_text(merge_driver.ATTRIBUTE_LINE + "\n")
    paths = init_with_commit(root, "Demo calculator with a leviathan backlog")
    merge_driver.register_driver(paths)
    return paths
