"""The agents that do a phase's work in the worktree; the executor verifies it afterwards.

Each known agent CLI is an adapter module (``claude``, ``codex``, ``aider``) that builds the
command line for a phase, carries one agent session across the phases of an attempt, keeps its
own files out of the worktree, and reads tokens, cost, its final message and its failure from
the CLI's output; ``shell`` runs a ``command`` template or a task's ``recipe`` steps; ``phase``
dispatches by ``agent.kind`` and holds what every kind shares. Part of the engine: it may
import ``config``, ``backlog`` and the primitives, and the engine's ``process`` and ``prompt``.
"""
