"""leviathan-local: drive a git repository's backlog to completion, safely.

The package is a house of wings, each a subpackage named after what it owns; imports only run
downward (``DOCS/architecture.md`` draws the map, ``pyproject.toml``'s import-linter contracts
enforce it): ``cli`` → ``tui`` → ``commands`` → ``review`` | ``reports`` → ``engine`` →
``planning`` | ``discovery`` → ``backlog`` → ``config`` → ``git`` | ``events`` → the primitives
(``atomic``, ``clock``, ``errors``, ``repo_paths``, ``wording``), which import nothing of the package.
"""

__version__ = "0.1.0"
