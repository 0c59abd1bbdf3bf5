"""Claims: every IAM role name (per account), every repository file and
every (cluster, namespace, ServiceAccount) the portal writes belongs to at
most one binding or open request, whoever made it, imported bindings
included.

A grant takes its claims when it is submitted and hands them to its binding
when its pull requests merge; a change or a revocation takes its binding's
``binding`` claim, so that one binding has one change in flight. Claims are
rows with a unique key: the checks before filing name the holder on the
field that caused the clash, and the insert settles a race between two
filings (one wins, the other gets the same field error). The pull-request
task confirms them again, under row locks, before it writes a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q

from secrets_app.integrations.backends import REPOSITORIES, repository_name
from secrets_app.models import AccessRequest, Binding, Claim, ClaimKind, Cluster
from secrets_app.rendering import BindingNames, BindingSpec, name_rules, render_binding
from secrets_app.rendering.name_rules import IAM_ROLE_ARN
from secrets_app.rendering.names import default_role_name


@dataclass(frozen=True)
class Wanted:
    """One claim something needs, and the request field that asks for it."""

    kind: str
    key: str
    field: str  # a request path (``service_account``), "" for the request as a whole
    what: str  # in words: "the IAM role app-secrets in account 111122223333"


class ClaimHeld(Exception):
    """Claims another binding or request holds: ``problems`` are
    (request path, message) pairs naming the holder."""

    def __init__(self, problems: Sequence[tuple[str, str]]):
        super().__init__("; ".join(message for _, message in problems))
        self.problems = list(problems)


def role_key(account: str, role_name: str) -> str:
    # IAM role names are unique per account whatever their case: "App" and
    # "app" are one role.
    return f"{account}/{role_name.lower()}"


def service_account_key(cluster_id: int, namespace: str, service_account: str) -> str:
    return f"{cluster_id}/{namespace}/{service_account}"


def path_key(repository: str, path: str) -> str:
    return f"{repository}:{path}"


def repository_key(cluster: Cluster, repository: str) -> str:
    """The repository part of a file's key: GitHub names ``owner/name``
    whatever their case; a local repository is a path, case and all."""
    name = repository_name(cluster, repository)
    return name.lower() if cluster.repo_backend == "github" else name


def _names(
    cluster: Cluster, namespace: str, service_account: str, role: str, role_field: str
) -> list[Wanted]:
    return [
        Wanted(
            ClaimKind.SERVICE_ACCOUNT,
            service_account_key(cluster.pk, namespace, service_account),
            "service_account",
            f"the ServiceAccount {service_account} in {cluster.name}/{namespace}",
        ),
        Wanted(
            ClaimKind.ROLE,
            role_key(cluster.aws_account_id, role),
            role_field,
            f"the IAM role {role} in account {cluster.aws_account_id}",
        ),
    ]


def wanted_for_grant(cluster: Cluster, spec: BindingSpec, *, role_typed: bool) -> list[Wanted]:
    """What a grant of ``spec`` writes: its role, its ServiceAccount and
    every file of its two pull requests."""
    names = BindingNames.from_spec(spec)
    role_field = "role_name" if role_typed else "service"
    wanted = _names(cluster, names.namespace, names.service_account, names.role_name, role_field)
    files = render_binding(spec).files
    for repository in REPOSITORIES:
        name = repository_key(cluster, repository)
        for path in sorted(files[repository]):
            wanted.append(
                Wanted(
                    ClaimKind.PATH,
                    path_key(name, path),
                    role_field if repository == "infra" else "service",
                    f"the file {path} in the {repository} repository",
                )
            )
    return wanted


def wanted_for_names(request: AccessRequest) -> list[Wanted]:
    """A grant's ServiceAccount and role from its fields alone."""
    cluster = request.cluster
    role = request.role_name or default_role_name(cluster.name, request.namespace, request.service)
    role_field = "role_name" if request.role_name else "service"
    service_account = name_rules.built_name(
        request.name_prefix, request.service_account, request.name_suffix
    )
    return _names(cluster, request.namespace, service_account, role, role_field)


def wanted_for_binding_change(binding: Binding) -> list[Wanted]:
    """A change or a revocation: the one change in flight of ``binding``."""
    return [
        Wanted(
            ClaimKind.BINDING,
            str(binding.pk),
            "",
            f"binding #{binding.pk} ({binding})",
        )
    ]


def wanted_for_binding(binding: Binding) -> list[Wanted]:
    """What a live binding holds: its ServiceAccount, its role (by its ARN)
    and the files its grant recorded (an imported binding: none yet)."""
    cluster = binding.cluster
    wanted = [
        Wanted(
            ClaimKind.SERVICE_ACCOUNT,
            service_account_key(cluster.pk, binding.namespace, binding.service_account),
            "service_account",
            f"the ServiceAccount {binding.service_account} in {cluster.name}/{binding.namespace}",
        )
    ]
    if IAM_ROLE_ARN.match(binding.role_arn or ""):
        # arn:<partition>:iam::<account>:role/<path/><name>
        account = binding.role_arn.split(":")[4]
        name = binding.role_arn.rsplit("/", 1)[-1]
        wanted.append(
            Wanted(
                ClaimKind.ROLE,
                role_key(account, name),
                "role_name",
                f"the IAM role {name} in account {account}",
            )
        )
    return wanted + wanted_paths(cluster, binding.files or {})


def wanted_paths(cluster: Cluster, paths: dict[str, list[str]]) -> list[Wanted]:
    """Files per repository (``{"infra": [...], "deploy": [...]}``)."""
    return [
        Wanted(
            ClaimKind.PATH,
            path_key(repository_key(cluster, repository), path),
            "service",
            f"the file {path} in the {repository} repository",
        )
        for repository, listed in sorted(paths.items())
        for path in listed
    ]


def _matching(wanted: Iterable[Wanted]) -> Q:
    query = Q(pk__in=[])
    for w in wanted:
        query |= Q(kind=w.kind, key=w.key)
    return query


def _holder_words(claim: Claim) -> str:
    if claim.binding_id is not None:
        binding = claim.binding
        owner = f", owned by {binding.owner.get_username()}" if binding.owner_id else ""
        return f"binding #{binding.pk} ({binding}{owner})"
    request = claim.request
    return (
        f"request #{request.pk} ({request.get_kind_display().lower()} by "
        f"{request.requester.get_username()}, {request.get_state_display().lower()})"
    )


def _problems(
    wanted: Sequence[Wanted], claims: Iterable[Claim], *, request_id=None, binding_id=None
) -> list[tuple[str, str]]:
    """One problem per field and holder: "The ServiceAccount x and the IAM
    role y belong to binding #3 (...)"."""
    by_key = {(c.kind, c.key): c for c in claims}
    # A binding that holds the ServiceAccount holds that service's role and
    # files too: said once, on the ServiceAccount, with the way out (a change
    # of that binding). Were the role and files said on the service too, a
    # ServiceAccount left blank (derived from the service) would lose that
    # message as an echo of the service's.
    accounts = {
        by_key[(w.kind, w.key)].binding_id
        for w in wanted
        if w.kind == ClaimKind.SERVICE_ACCOUNT and (w.kind, w.key) in by_key
    } - {None, binding_id}
    held: dict[tuple[str, Claim], list[Wanted]] = {}
    for w in wanted:
        claim = by_key.get((w.kind, w.key))
        if claim is None:
            continue
        if (request_id is not None and claim.request_id == request_id) or (
            binding_id is not None and claim.binding_id == binding_id
        ):
            continue
        if claim.binding_id in accounts and w.kind != ClaimKind.SERVICE_ACCOUNT:
            continue
        held.setdefault((w.field, claim.binding_id or -claim.request_id), []).append(w)
    problems = []
    for (field, _), items in held.items():
        claim = by_key[(items[0].kind, items[0].key)]
        message = f"{_joined(items)} {'belongs' if len(items) == 1 else 'belong'} to "
        message += f"{_holder_words(claim)}."
        if claim.binding_id is not None and any(w.kind == ClaimKind.SERVICE_ACCOUNT for w in items):
            message += (
                f" To add, remove or change its secrets, ask for a change of binding "
                f"#{claim.binding_id} instead."
            )
        problems.append((field, message))
    return problems


def _joined(items: list[Wanted]) -> str:
    files = [w for w in items if w.kind == ClaimKind.PATH]
    words = [w.what for w in items if w.kind != ClaimKind.PATH]
    if len(files) > 2:
        words.append(f"{len(files)} files it writes ({files[0].what[len('the file ') :]}, ...)")
    else:
        words += [w.what for w in files]
    text = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return text[0].upper() + text[1:]


def held_problems(
    wanted: Sequence[Wanted], *, request_id: int | None = None, binding_id: int | None = None
) -> list[tuple[str, str]]:
    """Who holds what ``wanted`` asks for (nobody: ``[]``); claims of
    ``request_id`` or ``binding_id`` are the asker's own. Reads only."""
    if not wanted:
        return []
    claims = Claim.objects.filter(_matching(wanted)).select_related(
        "binding__cluster", "binding__owner", "request__requester"
    )
    return _problems(wanted, claims, request_id=request_id, binding_id=binding_id)


def take(
    wanted: Sequence[Wanted],
    *,
    request: AccessRequest | None = None,
    binding: Binding | None = None,
    for_binding: Binding | None = None,
) -> None:
    """Give ``wanted`` to ``request`` or ``binding`` (inside the caller's
    transaction). Raises ``ClaimHeld`` naming the holders when any is held
    by another; then nothing was taken. ``for_binding``: a change request of
    that binding, for which what the binding holds is its own (left where it
    is) and only what is new is taken by the request."""
    holder = {"request": request} if request is not None else {"binding": binding}
    own = {
        "request_id": getattr(request, "pk", None),
        "binding_id": getattr(binding or for_binding, "pk", None),
    }
    # Lock what is there (in key order: two takers never wait on each other
    # in a cycle), then insert the rest; a concurrent insert of the same key
    # waits on the unique index and fails once the first commits.
    existing = list(
        Claim.objects.select_for_update(of=("self",))
        .filter(_matching(wanted))
        .order_by("kind", "key")
    )
    problems = _problems(wanted, _with_holders(existing), **own)
    if problems:
        raise ClaimHeld(problems)
    mine = {(c.kind, c.key) for c in existing}
    new = [
        Claim(kind=w.kind, key=w.key, **holder)
        for w in dict.fromkeys(wanted)
        if (w.kind, w.key) not in mine
    ]
    try:
        with transaction.atomic():
            Claim.objects.bulk_create(sorted(new, key=lambda c: (c.kind, c.key)))
    except IntegrityError:
        # Taken by a concurrent filing between the read and the insert.
        raise ClaimHeld(
            held_problems(wanted, **own) or [("", "Someone else just asked for this; try again.")]
        ) from None


def _with_holders(claims: list[Claim]) -> list[Claim]:
    ids = [c.pk for c in claims]
    if not ids:
        return []
    return list(
        Claim.objects.filter(pk__in=ids).select_related(
            "binding__cluster", "binding__owner", "request__requester"
        )
    )


def release_request(request: AccessRequest) -> int:
    """A request that no longer holds anything (rejected, cancelled, done)."""
    return Claim.objects.filter(request=request).delete()[0]


def release_binding(binding: Binding) -> int:
    """A binding that is gone (revoked)."""
    return Claim.objects.filter(binding=binding).delete()[0]


def hand_to_binding(request: AccessRequest, binding: Binding) -> int:
    """A grant's merged pull requests made ``binding``: it holds what the
    request held."""
    return Claim.objects.filter(request=request).update(request=None, binding=binding)


def hand_change_to_binding(request: AccessRequest, binding: Binding, *, gone: Iterable[str]) -> int:
    """A change's merged pull requests rewrote ``binding``'s files: the
    binding holds the new paths the change took, and no longer the paths
    ``gone`` (path keys) the change deleted. The change's own hold on the
    binding (``binding`` kind) stays with the request, released when it ends."""
    Claim.objects.filter(binding=binding, kind=ClaimKind.PATH, key__in=list(gone)).delete()
    return (
        Claim.objects.filter(request=request)
        .exclude(kind=ClaimKind.BINDING)
        .update(request=None, binding=binding)
    )


def take_paths(
    cluster: Cluster, repository: str, wanted: dict[Binding, list[str]]
) -> dict[int, str]:
    """Give each binding the files ``wanted`` lists for it in ``repository``
    (a fleet upgrade's new paths), many bindings in a few queries. A binding
    any of whose paths another binding or request holds, or that another
    binding of the same call wants too, takes none: returned, by id, with
    the reason. Inside the caller's transaction."""
    repo = repository_key(cluster, repository)
    keyed: dict[str, tuple[Binding, str]] = {}
    refused: dict[int, str] = {}
    for binding, paths in wanted.items():
        for path in paths:
            key = path_key(repo, path)
            other = keyed.get(key)
            if other is not None and other[0].pk != binding.pk:
                refused[binding.pk] = f"binding #{other[0].pk} renders {path} too"
                refused[other[0].pk] = f"binding #{binding.pk} renders {path} too"
            keyed[key] = (binding, path)
    keys = sorted(keyed)
    held = {}
    for start in range(0, len(keys), 2000):
        for claim in Claim.objects.select_for_update(of=("self",)).filter(
            kind=ClaimKind.PATH, key__in=keys[start : start + 2000]
        ):
            held[claim.key] = claim
    for key, claim in held.items():
        binding, path = keyed[key]
        if claim.binding_id != binding.pk:
            holder = (
                f"binding #{claim.binding_id}"
                if claim.binding_id is not None
                else f"request #{claim.request_id}"
            )
            refused[binding.pk] = f"the file {path} belongs to {holder}"
    new: dict[int, list[Claim]] = {}
    for key in keys:
        binding, _ = keyed[key]
        if key not in held and binding.pk not in refused:
            new.setdefault(binding.pk, []).append(
                Claim(kind=ClaimKind.PATH, key=key, binding=binding)
            )
    try:
        with transaction.atomic():
            Claim.objects.bulk_create([c for claims in new.values() for c in claims])
    except IntegrityError:
        # One was taken by a concurrent filing since the read: binding by binding.
        for binding_id, claims in new.items():
            try:
                with transaction.atomic():
                    Claim.objects.bulk_create(claims)
            except IntegrityError:
                refused[binding_id] = "a file it renders was just taken by someone else"
    return refused


def release_paths(binding: Binding, repository: str, paths: Iterable[str]) -> int:
    """The binding no longer holds these files of ``repository``."""
    repo = repository_key(binding.cluster, repository)
    keys = [path_key(repo, p) for p in paths]
    return Claim.objects.filter(binding=binding, kind=ClaimKind.PATH, key__in=keys).delete()[0]
