"""All git access: pygit2 first, the git CLI only where pygit2 cannot do the job (each use says why).

No module outside this package imports pygit2, starts a git process or reads inside `.git`
(checked by `tests/test_architecture.py`). Importing the package itself costs nothing: the
modules load what they need. It may import only the primitives.
"""
