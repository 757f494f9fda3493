"""Doing the work: one verified attempt (prepare → red → green → refactor → gates → commit)
in a worktree slot, the agents it drives, the gates, process groups, the run lock, recovery of
a dead run's leftovers, signals, and the run loop with its halt commit. It may import
``planning``, ``discovery``, ``backlog``, ``config``, ``git``, ``events`` and the primitives;
never ``review``, ``reports``, the terminal app or Textual.
"""
