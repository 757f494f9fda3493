"""The human-owned settings: `policy.yaml` and `contract.yaml` as typed values, the shared
YAML reading every file uses (``yamlio`` is the one owner of YAML), the config schema checker,
the commented templates `init` writes, and path globs. It may import ``git`` and the primitives;
the backlog builds on it, never the other way.
"""
