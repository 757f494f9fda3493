"""leviathan-local: drive a git repository's backlog to completion, safely."""

__version__ = "0.1.0"
