"""The commented examples `leviathan init` writes into a target repository's `.leviathan/`."""

from __future__ import annotations

CONTRACT = """\
# Who and what this repository is (read by leviathan-local; owned by humans).
target_id: {target_id}
name: {target_id}
default_branch: {default_branch}     # attempts branch from here; approvals merge into it
owner: ""                            # a team or person, e.g. team-platform
description: ""
# Optional (remove the leading `# ` to set it):
# repo_url: git@example.com:owner/{target_id}.git
"""

BACKLOG = """\
# The backlog: humans write tasks here; leviathan-local never invents tasks.
# It writes only its own fields (status, ready, attempts, last_attempt_id, branch_name,
# blocked_reason, blocked_type, blocked_from, completed_at, escalation_approved_at, source,
# review_feedback)
# and keeps your comments, quoting, key order and blank lines.
#
# Statuses: new -> refined -> ready -> doing -> review -> done, and blocked from any but done.
# Only `ready` tasks with acceptance_criteria run; `leviathan ready ID` promotes a task.
# WSJF = (impact + time_criticality + risk_reduction) x aging / effort, inputs 1..13
# (Fibonacci 1, 2, 3, 5, 8, 13 advised). Missing inputs are estimated and shown as such.
#
# Write each task as a `- id: ...` item under `tasks:`. To start from the example below,
# remove the leading `# ` of each of its lines (from `- id:` down to `created_at:`).
tasks:
#   - id: api-request-logging          # unique: letters, digits, . _ -
#     title: Log every API request
#     description: Structured logs for each endpoint.
#     type: feature                    # feature bug refactor security docs test performance chore
#     status: ready
#     impact: 5
#     time_criticality: 3
#     risk_reduction: 2
#     effort: 3                        # above the slice threshold (5) a split is suggested
#     # priority: high                 # instead of time_criticality (high/medium/low)
#     # estimated_size: s              # instead of effort (xs s m l xl)
#     allowed_paths:                   # the task may change nothing else
#       - src/api/**/*.py
#       - tests/api/
#     acceptance_criteria:
#       - Every endpoint logs method, path, status and duration
#     dependencies: []                 # ids that must be done first
#     # scope: docs                    # a scope from policy.yaml
#     # steps: {red: ["..."], green: ["..."], refactor: []}   # for the recipe agent
#     created_at: 2026-01-01T00:00:00Z # drives aging
"""

POLICY = """\
# Rules every agent attempt must follow. Every key is optional: the commented values are
# the defaults (scopes, invariants, setup, agent and runner are examples).
# To set a key, remove the leading `# ` of its lines; a `# ` further in (an alternative)
# stays a comment.
#
# scopes:                              # a task's `scope` names one
#   docs:
#     allowed_paths: [docs/]
#     forbidden_patterns: []
#     tdd: false                       # docs need no failing test first
forbidden_patterns:                    # .leviathan/** is always forbidden to agents
  - ".github/**"
  - "**/*.pem"
# invariants:                          # run in the worktree before commit; all must pass
#   - {name: Tests pass, check: "python -m pytest -q"}
# setup:                               # run in the attempt's worktree before red, again only for a new base
#   - {name: install, run: "pip install -e ."}
#   - 'cp "$LEVIATHAN_MAIN_CHECKOUT/.env" .env'   # what it makes must be git-ignored (.gitignore)
# tdd:
#   test_command: "python -m pytest -q"
#   test_globs: ["tests/**", "**/test_*.py", "**/*_test.py"]
#   # red_command: "python -m pytest -q {changed_tests}"   # red runs only the changed test files
#   # junit_xml: junit.xml             # a JUnit report the test command writes: its counts in the commit
#   reuse_results: true                # an identical command on an identical tree runs once per attempt
# limits:
#   max_attempts_per_task: 2
#   circuit_breaker_failures: 2
#   attempt_timeout_seconds: 900
#   # phase_timeout_seconds: 300     # each phase's own bound; unset by default: only the attempt's
#   # max_cost_usd_per_task: 5       # all of a task's attempts; reached: the task is blocked (budget)
#   # max_cost_usd_per_run: 20       # what one run may spend; reached: the run halts (BudgetReached)
#   max_running_attempts: 1
#   max_open_reviews: 1
# escalation:                          # matching tasks wait for a human decision
#   effort_at_least: 8
#   keywords: [auth, crypto, secret, migration]
#   paths: []
#   types: [security]                  # discovered security TODOs are filed as type security
# wsjf: {aging_per_day: 0.1, aging_cap: 2.0, slice_threshold: 5}
# agent:                               # who does the work in each phase
#   kind: claude                       # Claude Code (`claude -p`): one session across the phases
#   # model: claude-sonnet-4-5         # passed to the CLI; unset: the CLI's own default
#   # kind: codex                      # codex (`codex exec --json`, `exec resume` in later phases)
#   # prices: {input_usd_per_million: 1.25, output_usd_per_million: 10}   # your provider's: codex reports no cost
#   # kind: aider                      # aider (--message-file; its history kept outside the worktree)
#   # args: ["--edit-format", "diff"]  # more arguments for the CLI, after the executor's own
#   # kind: command                    # any other CLI or script: one shell command for every phase
#   # command: 'my-agent --prompt-file "$LEVIATHAN_PROMPT_FILE"'
#   # kind: recipe                     # run each task's own `steps`
#   # kind: manual                     # a human does the phase
#   # sandbox: bwrap                   # every command of an attempt under bubblewrap (README)
#   # sandbox_writable: [~/.config/my-agent]   # more paths it may write
# discovery: {tags: [TODO, FIXME, HACK, XXX, BUG], exclude: [], on_run: false}
# reports:
#   commit: false                      # true: a run's report goes into its halt commit
#   # coverage_command: "python -m pytest -q --cov"   # the last NN% it prints is the coverage
#   keep: 20                           # `leviathan prune --apply` deletes older timestamped reports
# runner:                              # where attempts run; unset: `kind: local`, worktrees here
#   kind: kubernetes                   # one batch/v1 Job per attempt (README "Runners")
#   image: registry.example.com/leviathan-agent:1   # built from deploy/Dockerfile
#   remote: https://git.example.com/team/app.git    # the Job clones it and pushes its result there
#   namespace: leviathan
#   # context: prod-cluster            # the kubeconfig context `run` uses (default: the current one)
#   service_account: leviathan-attempt
#   resources: {requests: {cpu: "1", memory: 2Gi}, limits: {memory: 4Gi}}
#   secret_env:                        # credentials only from Kubernetes Secrets, never written here
#     - {name: ANTHROPIC_API_KEY, secret: leviathan-agent, key: anthropic-api-key}
#     - {name: LEVIATHAN_GIT_TOKEN, secret: leviathan-git, key: token}   # the https push's token
#   ttl_seconds: 3600                  # a finished Job (its pod's log) is deleted after this
"""
