"""policy.yaml: the repository's rules, as typed values with the documented defaults.

Loading and validation live in ``policy_load``; this module is the shape every other module
relies on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALWAYS_FORBIDDEN = (".leviathan/**",)


@dataclass(frozen=True)
class Scope:
    name: str
    allowed_paths: tuple[str, ...] = ()
    forbidden_patterns: tuple[str, ...] = ()
    tdd: bool = True


@dataclass(frozen=True)
class Invariant:
    name: str
    check: str


@dataclass(frozen=True)
class SetupCommand:
    """A command run in the attempt's worktree before red (engine/setup.py): `pip install -e .`."""

    name: str
    run: str


@dataclass(frozen=True)
class TddSettings:
    test_command: str = "python -m pytest -q"
    test_globs: tuple[str, ...] = ("tests/**", "**/test_*.py", "**/*_test.py")
    # What red runs instead of test_command, `{changed_tests}` replaced by the changed test files
    # (shell-quoted): e.g. `python -m pytest -q {changed_tests}`. None: red runs test_command.
    red_command: str | None = None
    junit_xml: str | None = None  # a JUnit XML report the test command writes (worktree-relative): its counts
    reuse_results: bool = True  # an identical command on an identical tree runs once per attempt


@dataclass(frozen=True)
class Limits:
    max_attempts_per_task: int = 2
    circuit_breaker_failures: int = 2
    attempt_timeout_seconds: int = 900
    # Each phase's own bound (the agent, then the test command; gates and commit too), within the
    # attempt's. None: only the attempt's. A hung agent (a model that never answers) fails its phase.
    phase_timeout_seconds: int | None = None
    # Cost budgets in US dollars (engine/budget.py): None, no limit.
    max_cost_usd_per_task: float | None = None
    max_cost_usd_per_run: float | None = None
    max_running_attempts: int = 1
    max_open_reviews: int = 1


@dataclass(frozen=True)
class EscalationRules:
    effort_at_least: int = 8
    keywords: tuple[str, ...] = ("auth", "crypto", "secret", "migration")
    paths: tuple[str, ...] = ()
    types: tuple[str, ...] = ("security",)  # discovery files security findings under this type


@dataclass(frozen=True)
class WsjfSettings:
    aging_per_day: float = 0.1
    aging_cap: float = 2.0
    slice_threshold: int = 5


@dataclass(frozen=True)
class AgentPrices:
    """US dollars per million tokens, for an agent that reports tokens but no cost (codex)."""

    input_usd_per_million: float = 0.0
    output_usd_per_million: float = 0.0
    cached_input_usd_per_million: float = 0.0


@dataclass(frozen=True)
class AgentSettings:
    kind: str | None = None  # claude | codex | aider | command | recipe | manual; None until configured
    command: str | None = None  # the `command` kind's shell command template
    model: str | None = None  # passed to the agent CLI (claude, codex, aider)
    executable: str | None = None  # the agent CLI's path, when it is not on PATH by its usual name
    args: tuple[str, ...] = ()  # more arguments for the agent CLI, after the executor's own
    prices: AgentPrices | None = None
    sandbox: str | None = None  # bwrap: every command of an attempt under bubblewrap (engine.sandbox)
    sandbox_writable: tuple[str, ...] = ()  # more paths the sandbox leaves writable (`~` expanded)


@dataclass(frozen=True)
class DiscoverySettings:
    tags: tuple[str, ...] = ("TODO", "FIXME", "HACK", "XXX", "BUG")
    exclude: tuple[str, ...] = ()
    on_run: bool = False


@dataclass(frozen=True)
class ReportSettings:
    commit: bool = False  # include the run's report in its halt commit
    coverage_command: str | None = None  # prints a coverage percentage; its change is reported
    keep: int = 20  # timestamped reports in DOCS/status that `leviathan prune` keeps (the newest)


@dataclass(frozen=True)
class SecretEnv:
    """An environment variable of a Kubernetes attempt read from a Secret's key, never a literal."""

    name: str
    secret: str
    key: str


@dataclass(frozen=True)
class RunnerResources:
    """A Kubernetes container's resources: resource name (cpu, memory) -> quantity ("500m", "1Gi")."""

    requests: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunnerSettings:
    """Where attempts run: `local` (worktrees here, the default) or `kubernetes` (one Job per
    attempt, engine/runners/kubernetes_job.py, exchanging its result through ``remote``)."""

    kind: str = "local"
    image: str | None = None  # kubernetes: required
    remote: str | None = None  # kubernetes: required; the git URL the Job clones and pushes to
    namespace: str = "default"
    context: str | None = None  # the kubeconfig context the controller uses; None: its current context
    service_account: str | None = None
    resources: RunnerResources = RunnerResources()
    secret_env: tuple[SecretEnv, ...] = ()
    ttl_seconds: int = 3600  # a finished Job (and its pod's log) is kept this long, then deleted


@dataclass(frozen=True)
class Policy:
    scopes: dict[str, Scope] = field(default_factory=dict)
    forbidden_patterns: tuple[str, ...] = ()
    invariants: tuple[Invariant, ...] = ()
    setup: tuple[SetupCommand, ...] = ()
    tdd: TddSettings = TddSettings()
    limits: Limits = Limits()
    escalation: EscalationRules = EscalationRules()
    wsjf: WsjfSettings = WsjfSettings()
    agent: AgentSettings = AgentSettings()
    discovery: DiscoverySettings = DiscoverySettings()
    reports: ReportSettings = ReportSettings()
    runner: RunnerSettings = RunnerSettings()

    def scope_named(self, name: object) -> Scope | None:
        """The scope a task's `scope` field names (None when absent or not defined)."""
        return self.scopes.get(str(name)) if name is not None else None

    def paths_for(self, allowed_paths: list[str], scope: Scope | None) -> list[str]:
        """A task's own allowed paths, or its scope's when it lists none."""
        return allowed_paths or list(scope.allowed_paths if scope else ())

    def forbidden_for(self, scope: Scope | None) -> tuple[str, ...]:
        """Every pattern an agent may not touch: policy-wide, the scope's, and `.leviathan/**`."""
        extra = scope.forbidden_patterns if scope else ()
        return (*self.forbidden_patterns, *extra, *ALWAYS_FORBIDDEN)
