"""The rules a filed request must meet, each reporting at the path of the
field that breaks it.

Rules about the binding (names, ARNs, files, keys, env vars: what Kubernetes,
IAM or the CSI provider would refuse later) are the renderer's spec checks,
run on the spec this request would render; they are not repeated here. Here
are the rules about the request itself: the cluster, the guardrails of the
portal, the requester's acknowledgements, who owns the namespace, and
what other bindings and open requests hold (``ownership``).
"""

from __future__ import annotations

from django.utils import timezone

from secrets_app.accounts.roles import is_admin
from secrets_app.models import Cluster
from secrets_app.ownership import claims, teams
from secrets_app.rendering import BindingSpec, SpecInvalid, SpecProblem, name_rules
from secrets_app.rendering.names import default_role_name
from secrets_app.requests.filing import paths
from secrets_app.requests.filing.draft import Draft
from secrets_app.requests.filing.wording import said
from secrets_app.requests.specs import spec_data

#: Namespaces nobody gets application secrets in.
PROTECTED_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})
MAX_SECRETS = 20
JUSTIFICATION_REQUIRED = "Tell the approvers why this service needs these secrets."

Problems = list[tuple[str, str]]  # (request path, message)

# A spec's cluster when the request names none the portal knows: its empty
# region and account make the renderer skip the checks of secrets against
# the cluster (and its own problems are dropped: "cluster" says it all).
_NO_CLUSTER = {"name": "unknown", "account_id": "", "region": "", "identity": "pod_identity"}


def resolve_cluster(draft: Draft) -> Problems:
    """Find the active cluster the request names by id or by name."""
    given = draft.cluster_given
    if draft.cluster is None and given:
        found = Cluster.objects.filter(active=True)
        draft.cluster = (
            found.filter(pk=int(given)).first()
            if name_rules.is_number(given) and len(given) < 19  # a bigint, not a long number
            else found.filter(name=given).first()
        )
    if draft.cluster is not None and draft.cluster.active:
        return []
    if not given:
        return [("cluster", said("Choose a cluster.", "Give the cluster's name or id."))]
    missing = f"there is no active cluster {given}."
    return [("cluster", said(f"Select a valid choice: {missing}", missing.capitalize()))]


def namespace_warnings(draft: Draft) -> list[str]:
    """Allowed, but said: ``default`` is where everything lands that names no
    namespace, so a grant there is shared with whatever else runs in it."""
    if draft.fields["namespace"] != "default":
        return []
    return [
        "The namespace default holds everything deployed without a namespace: the "
        "ServiceAccount and the secrets' files of this grant would sit beside whatever else "
        "runs there. A namespace of the service's own is safer."
    ]


def request_rules(draft: Draft) -> Problems:
    fields = draft.fields
    problems: Problems = []
    if fields["namespace"] in PROTECTED_NAMESPACES:
        problems.append(
            (
                "namespace",
                f"Secrets cannot be granted in the system namespace {fields['namespace']}.",
            )
        )
    if not fields["justification"]:
        problems.append(("justification", JUSTIFICATION_REQUIRED))
    if fields["expires_on"] and fields["expires_on"] <= timezone.localdate():
        problems.append(("expires_on", "The expiry date must be in the future."))
    if not draft.secrets:
        problems.append(("secrets", "Add at least 1 secret."))
    elif len(draft.secrets) > MAX_SECRETS:
        problems.append(("secrets", f"Add at most {MAX_SECRETS} secrets to one request."))
    for i, secret in enumerate(draft.secrets):
        base = f"secrets[{i}]"
        if secret.sync_keys and not secret.sync_secret_name:
            problems.append(
                (f"{base}.sync_secret_name", "Name the Kubernetes Secret these keys go into.")
            )
        problems += _against_cluster(draft.cluster, secret, base)
    return problems


def _against_cluster(cluster: Cluster | None, secret, base: str) -> Problems:
    ref = secret.ref
    if cluster is None or ref is None or not ref.is_arn or ref.account == cluster.aws_account_id:
        return []
    problems: Problems = []
    if not secret.cross_account:
        why = (
            f"The secret is in account {ref.account}, the cluster in "
            f"{cluster.aws_account_id}. Cross-account access needs a resource policy on "
            "the secret and a customer-managed KMS key: "
        )
        problems.append(
            (
                f"{base}.secret",
                said(
                    why + "tick 'another AWS account' to go on.",
                    why + "set cross_account: true to go on.",
                ),
            )
        )
    if not secret.kms_key_arn:
        problems.append(
            (
                f"{base}.kms_key_arn",
                "A secret in another account must use a customer-managed KMS key: give its ARN.",
            )
        )
    return problems


def build_spec(draft: Draft, *, requester: str) -> tuple[BindingSpec | None, Problems]:
    """The spec this request would render, or the renderer's problems at
    their request paths."""
    data = spec_data(
        draft.fields,
        [s.grant() for s in draft.secrets],
        cluster=draft.cluster or _NO_CLUSTER,
        requester=requester,
    )
    try:
        return BindingSpec.from_dict(data), []
    except SpecInvalid as invalid:
        return None, [
            _at_request_path(p) for p in invalid.problems if draft.cluster or not _of_cluster(p)
        ]


def _of_cluster(problem: SpecProblem) -> bool:
    return paths.is_under(problem.path, "cluster")


def _at_request_path(problem: SpecProblem) -> tuple[str, str]:
    path = paths.from_spec(problem.path)
    if path is None:
        # The cluster's record or the request's tags: nothing the requester
        # typed, so the whole request, with the spec's own words.
        return "", str(problem)
    return path, problem.message


def ownership(draft: Draft, requester) -> Problems:
    """Grants only in namespaces the requester's teams own (``teams`` says why)."""
    namespace = draft.fields["namespace"]
    if draft.cluster is None or not namespace or not name_rules.DNS1123_LABEL.match(namespace):
        return []
    problem = teams.owner_problem(requester, draft.cluster, namespace)
    return [("namespace", problem)] if problem else []


def derived_role(draft: Draft, requester, problems: Problems) -> Problems:
    """Role names follow the portal's scheme; only an admin names another
    (a typed name was how one team's request rewrote another's role). Said
    only of a name that is otherwise valid (``problems`` so far)."""
    fields = draft.fields
    typed = fields["role_name"]
    if not typed or draft.cluster is None or is_admin(requester):
        return []
    if any(paths.is_under(path, "role_name") for path, _ in problems):
        return []
    derived = default_role_name(draft.cluster.name, fields["namespace"], fields["service"])
    if typed == derived:
        return []
    why = f"Role names are derived from the cluster, namespace and service: this one is {derived}. "
    admin = "only an admin may name another role."
    return [
        (
            "role_name",
            said(
                why + "Leave the field blank; " + admin,
                why + "Leave role_name out (or empty); " + admin,
            ),
        )
    ]


def claimed(draft: Draft, spec: BindingSpec | None, *, binding_id: int | None = None) -> Problems:
    """The role, ServiceAccount and files this grant would write, where
    another binding or open request holds them (``binding_id``: a change of
    that binding, whose own claims are the asker's)."""
    if draft.cluster is None or spec is None:
        return []
    wanted = claims.wanted_for_grant(
        draft.cluster, spec, role_typed=bool(draft.fields["role_name"])
    )
    return claims.held_problems(wanted, binding_id=binding_id)


def without_echoes(problems: Problems, derived: dict[str, str]) -> Problems:
    """Each path's problems once, and none on a field the requester left
    blank whose default came from a field that already has a problem."""

    def broken(path: str) -> bool:
        return any(paths.is_under(p, path) for p, _ in problems)

    def echo(path: str) -> bool:
        for target, source in derived.items():
            if paths.is_under(path, target) and (broken(source) or echo(source)):
                return True
        return False

    seen: set[tuple[str, str]] = set()
    kept: Problems = []
    for problem in problems:
        if problem not in seen and not echo(problem[0]):
            seen.add(problem)
            kept.append(problem)
    return kept
