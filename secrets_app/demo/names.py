"""Names that look like a company's: teams, their namespaces and services.

The demo and the benchmarks' bulk seeds take their names from here instead
of ``team-000`` / ``svc-00042``, so that a page someone is shown reads like
a platform team's own portal. Every name is a pure function of its index:
the same seed gives the same names, and no randomness or lookup slows a
seed of ten thousand bindings.
"""

from __future__ import annotations

from functools import cache

#: team (and its namespace) -> the domains its services are named after.
TEAMS: dict[str, tuple[str, ...]] = {
    "payments": ("payments", "refunds", "payouts", "invoicing"),
    "ledger": ("ledger", "reconciliation", "settlement", "fx-rates"),
    "checkout": ("checkout", "cart", "pricing", "promotions"),
    "search": ("search", "catalog", "recommendations", "reviews"),
    "identity": ("accounts", "auth", "sessions", "profiles"),
    "fulfilment": ("orders", "shipping", "inventory", "returns"),
    "risk": ("fraud", "risk-scoring", "kyc", "disputes"),
    "data": ("reporting", "warehouse", "events", "metrics"),
    "growth": ("notifications", "email", "campaigns", "referrals"),
    "platform": ("gateway", "feature-flags", "audit", "scheduler"),
    "support": ("helpdesk", "chat", "knowledge-base", "status-page"),
    "partners": ("partner-api", "webhooks", "integrations", "marketplace"),
}
TEAM_NAMES: tuple[str, ...] = tuple(TEAMS)
#: What a service of a domain does: ``payments-api``, ``ledger-worker``, ...
COMPONENTS = (
    "api",
    "worker",
    "web",
    "indexer",
    "consumer",
    "sync",
    "exporter",
    "cron",
    "admin",
    "stream",
    "gateway",
    "loader",
)
#: Once a team's domain x component names are used up, variants of them.
VARIANTS = (
    "eu",
    "us",
    "apac",
    "batch",
    "internal",
    "public",
    "v2",
    "canary",
    "replay",
    "backfill",
    "shadow",
    "legacy",
    "readonly",
    "priority",
    "bulk",
    "edge",
    "mobile",
    "partner",
    "sandbox",
    "archive",
    "realtime",
    "nightly",
    "audit",
    "migration",
)


def namespace_name(k: int) -> str:
    """The ``k``-th team's namespace (the team's own name; a second round of
    teams gets a numbered copy, so that any count stays distinct)."""
    team = TEAM_NAMES[k % len(TEAM_NAMES)]
    round_ = k // len(TEAM_NAMES)
    return team if round_ == 0 else f"{team}-{round_ + 1}"


def team_group(namespace: str) -> str:
    """The group that owns a team's namespace (``payments`` -> ``team-payments``)."""
    return f"team-{namespace}"


def service_name(team: str, j: int) -> str:
    """The ``j``-th service of ``team`` (a name from ``TEAMS`` or
    ``namespace_name``): its domains with each component, then the same
    with a variant, then numbered. Distinct for distinct ``j``."""
    base = _base_names(team if team in TEAMS else team.rsplit("-", 1)[0])
    name = base[j % len(base)]
    round_ = j // len(base)
    if round_ == 0:
        return name
    variant = VARIANTS[(round_ - 1) % len(VARIANTS)]
    lap = (round_ - 1) // len(VARIANTS)
    return f"{name}-{variant}" if lap == 0 else f"{name}-{variant}-{lap + 1}"


@cache
def _base_names(team: str) -> tuple[str, ...]:
    return tuple(f"{d}-{c}" for c in COMPONENTS for d in TEAMS[team])


def cluster_name(i: int, environments: tuple[str, ...] = ("dev", "staging", "prod")) -> str:
    """The ``i``-th cluster of a fleet: environment, region, a number
    (``eks-prod-us-west-2-03``)."""
    regions = ("us-west-2", "us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2")
    env = environments[i % len(environments)]
    region = regions[(i // len(environments)) % len(regions)]
    return f"eks-{env}-{region}-{i // (len(environments) * len(regions)) + 1:02d}"
