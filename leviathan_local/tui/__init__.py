"""The Textual app: a live view of the backlog. The engine never imports this package."""
