"""The Textual app: a live view of the backlog, its widgets grouped by screen region and its
modal screens. It may import ``commands`` and everything below; nothing below it imports
Textual (an import-linter contract and a subprocess `sys.modules` test check it).
"""
