"""What to do next: WSJF scores and their explanation, the actionable selection with each
skipped task's reason, and the board (the ranked backlog with attempt history the app and
reports show, and its forked prefetch). It may import ``backlog``, ``config``, ``events`` and
the primitives; the engine builds on it.
"""
