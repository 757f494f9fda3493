"""The human's verdict on finished attempts: what waits for review, approve (merge into the
default branch, mark done, free the slot) and reject (count the attempt, keep the reason). It
may import the engine's worktree pool and processes and everything below them.
"""
