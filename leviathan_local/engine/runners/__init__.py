"""Where attempts run besides local worktrees: what a runner hands to its scheduler."""
