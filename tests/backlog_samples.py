"""Backlogs written the way the seeds write them (both dialects), used across tests."""

LEVIATHAN_TASKS = """\
# Radix backlog (seed 004 shape)
tasks:
  - task_id: task-001
    title: "Update dependencies"
    scope: dependencies
    priority: high
    estimated_size: small
    allowed_paths:
      - requirements.txt
      - package.json
    acceptance_criteria:
      - "All dependencies updated to latest compatible versions"
      - "Tests pass"
    status: pending

  - task_id: task-002
    title: "Add logging to API endpoints"
    scope: observability
    priority: medium
    estimated_size: medium
    allowed_paths:
      - src/api/**/*.py
    acceptance_criteria:
      - "All endpoints log request/response"
      - "Structured logging format"
    status: pending
"""

LEVIATHAN_BARE_LIST = """\
- id: docs-leviathan-backlog-guide
  title: Write the backlog guide
  ready: true
  status: pending
  allowed_paths: [docs/LEVIATHAN_BACKLOG.md]
  acceptance_criteria: [The guide explains every field]
- id: docs-done-already
  status: completed        # finished in PR 707
  ready: false
  last_attempt_id: attempt-docs-done-already-abc123
  branch_name: agent/task-exec-attempt-abc123
  pr_number: 707
  completed_at: 2026-01-30T23:15:00.123456
"""

EXECUTOR_TASKS = """\
tasks:
  - id: custom_1
    title: Custom Task
    description: Manually created task
    task_type: FEATURE
    impact: 8
    effort: 3
    status: READY
    wsjf_score: 0.0
    created_at: '2026-11-20T12:00:00'
    updated_at: '2026-11-20T12:00:00'
    links: ["https://github.com/repo/issues/123"]
    acceptance_criteria: [Implement feature X, Add unit tests]
    security_notes: Standard security review
    test_notes: Requires integration tests
    allowed_paths: [src/]
  - id: custom_2
    title: Later
    status: Refined
  - id: custom_3
    title: Shipped
    status: merged
  - id: custom_4
    title: Waiting for review
    status: PR
"""
