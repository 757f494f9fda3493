"""TODO/FIXME discovery: git grep for tag lines, comment lexing, stable finding ids, the scan
cache, and the reconciliation of findings with the backlog's discovered tasks. It may import
``backlog``, ``config``, ``git`` (its spawn helpers), ``events`` and the primitives.

A warm `discover` (nothing changed) runs only `settings`, `scan` and `cache`; `scan` imports
`read` (and with it the lexer, re, typing and hashlib) only when a file changed.
"""
