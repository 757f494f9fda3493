"""CLI commands: plain functions taking repository paths and options, returning an exit code.
They may import every wing below the terminal app; the app reuses some of them (the plan view).
"""
