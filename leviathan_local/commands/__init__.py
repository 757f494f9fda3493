"""CLI commands: plain functions taking repository paths and options, returning an exit code."""
