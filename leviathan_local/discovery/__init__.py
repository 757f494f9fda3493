"""TODO/FIXME discovery: git grep for tag lines, comment lexing, stable finding ids, the scan
cache, and the reconciliation of findings with the backlog's discovered tasks. It may import
``backlog``, ``config``, ``git`` (its spawn helpers), ``events`` and the primitives.
"""
