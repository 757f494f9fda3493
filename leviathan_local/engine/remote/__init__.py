"""Attempts run elsewhere, exchanged through a git remote: the worker side (`leviathan attempt
ID --remote URL --base SHA`: a cached clone, the same verified cycle, two references pushed) and
the controller side (the task marked started, then the pushed result applied to the main
checkout's backlog as a local attempt's is). The protocol is in DOCS/decisions.md.
"""
