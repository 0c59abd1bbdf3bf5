"""Secrets seen from the other side: every secret the portal knows of, and
for one secret, every binding (portal-made or imported) and every request in
flight that grants it. Read-only pages, a fixed number of queries each."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from secrets_app.models import (
    AccessRequest,
    Binding,
    BindingSecret,
    BindingState,
    Cluster,
    RequestKind,
    RequestState,
    SecretGrant,
)
from secrets_app.rendering import name_rules

PER_PAGE = 50
LIVE_STATES = (BindingState.ACTIVE, BindingState.REVOKING)
#: Requests that will grant their secrets unless someone stops them.
IN_FLIGHT_STATES = (
    RequestState.PENDING,
    RequestState.APPROVED,
    RequestState.PROVISIONING,
    RequestState.NEEDS_ATTENTION,
)


class SecretSearchForm(forms.Form):
    # CharField refuses null characters and over-long input with an error on
    # the field, so hostile input never reaches the database.
    q = forms.CharField(required=False, max_length=200, label="Search secrets")


class SecretAccessForm(forms.Form):
    secret = forms.CharField(
        max_length=2048,
        label="Secret ARN or name",
        help_text="A full ARN, an ARN without its 6-character suffix, or a secret name.",
    )


@require_GET
def secret_index(request: HttpRequest) -> HttpResponse:
    """Distinct secrets in bindings, with how many live bindings grant each."""
    form = SecretSearchForm(request.GET)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    rows = (
        BindingSecret.objects.values("arn", "name")
        .annotate(
            live=Count("binding", filter=Q(binding__state__in=LIVE_STATES)),
            total=Count("binding"),
        )
        .order_by("name", "arn")
    )
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(arn__icontains=q))
    elif not form.is_valid():
        rows = rows.none()  # the error shows on the field
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "secrets_app/secret_index.html", {"form": form, "page": page, "q": q})


@dataclass(frozen=True)
class Grant:
    """One binding or request that grants the secret, and how it was matched."""

    match: str
    binding: Binding | None = None
    request: AccessRequest | None = None
    written_as: str = ""


@require_GET
def secret_access(request: HttpRequest) -> HttpResponse:
    """Who can read this secret: bindings (live, then revoked) and requests in flight."""
    form = SecretAccessForm(request.GET if "secret" in request.GET else None)
    context: dict = {"form": form, "searched": False}
    if form.is_valid():
        secret = form.cleaned_data["secret"]
        ref = _parse(secret)
        lookup = ref.name if ref else secret
        bindings = [
            Grant(how, binding=row.binding, written_as=row.arn)
            for row in BindingSecret.objects.filter(Q(arn=secret) | Q(name=lookup))
            .select_related("binding__cluster", "binding__request__requester")
            .order_by("binding__cluster__name", "binding__namespace", "binding__service_account")
            if (how := match(secret, ref, row.arn, row.name, row.binding.cluster))
        ]
        requests = [
            Grant(how, request=grant.request, written_as=grant.secret)
            for grant in SecretGrant.objects.filter(
                request__state__in=IN_FLIGHT_STATES,
                request__kind__in=(RequestKind.GRANT, RequestKind.CHANGE),
                secret__contains=lookup,
            )
            .select_related("request__cluster", "request__requester")
            .order_by("request_id", "position")
            if (
                how := match(
                    secret, ref, grant.secret, _name_of(grant.secret), grant.request.cluster
                )
            )
        ]
        context.update(
            searched=True,
            secret=secret,
            ref=ref,
            live=[g for g in bindings if g.binding.state in LIVE_STATES],
            revoked=[g for g in bindings if g.binding.state not in LIVE_STATES],
            requests=requests,
        )
    return render(request, "secrets_app/secret_access.html", context)


def match(
    wanted: str, ref: name_rules.SecretRef | None, arn: str, name: str, cluster: Cluster
) -> str | None:
    """How a recorded secret (``arn`` as written, its ``name``) names the secret
    the reader asked for, or None.

    A full ARN is the secret itself; a partial ARN or ``<name>-??????`` grant
    reaches any secret of that name in that account and region; a plain name
    resolves in the cluster's own account and region.
    """
    if arn == wanted:
        return "exact"
    if ref is None or name != ref.name:
        return None
    if not ref.is_arn:
        return "name"  # the reader gave a name: every account and region
    have = _parse(arn)
    if have is not None and have.is_arn:
        place = (have.partition, have.region, have.account)
        if place != (ref.partition, ref.region, ref.account):
            return None
        if have.is_full_arn and ref.is_full_arn:
            return None  # another suffix: a deleted and re-created secret
        return "name in the same account and region"
    if (cluster.partition, cluster.region, cluster.aws_account_id) == (
        ref.partition,
        ref.region,
        ref.account,
    ):
        return "name in the cluster's account and region"
    return None


def _parse(value: str) -> name_rules.SecretRef | None:
    try:
        return name_rules.parse_secret_ref(value)
    except name_rules.SecretRefError:
        return None


def _name_of(secret: str) -> str:
    ref = _parse(secret)
    return ref.name if ref else secret
