"""What every live portal binding's files are with today's renderer: the
spec of the request its files come from (its grant, or its latest merged
change) rendered, as ``requests.specs.spec_for_request`` and the pull
requests would. A few queries whatever the number of bindings (the
fields, the secrets and the current requests are read in bulk)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from secrets_app.models import (
    AccessRequest,
    Binding,
    BindingSource,
    BindingState,
    Cluster,
    RequestState,
    SecretGrant,
)
from secrets_app.rendering import BindingSpec, SpecInvalid, render_binding
from secrets_app.rendering.layout import UnsafePath
from secrets_app.requests.specs import cluster_spec, spec_data

#: Ids per ``IN (...)`` query: well below SQLite's limit on parameters.
CHUNK = 2000


@dataclass(frozen=True)
class Expected:
    """One binding and what its files should be: ``files[repo][path] =
    text``, empty with ``problem`` when its request no longer renders."""

    binding: Binding
    request_id: int | None
    files: dict[str, dict[str, str]]
    problem: str = ""


def live_bindings(clusters: Sequence[Cluster] | None = None) -> QuerySet[Binding]:
    """The bindings whose files the portal wrote and keeps: active, made
    by the portal (an imported binding's files are not the portal's)."""
    bindings = Binding.objects.filter(state=BindingState.ACTIVE, source=BindingSource.PORTAL)
    if clusters is not None:
        bindings = bindings.filter(cluster__in=list(clusters))
    return bindings.select_related("cluster").order_by("cluster__name", "pk")


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def current_requests(bindings: Sequence[Binding]) -> dict[int, int | None]:
    """Binding id -> the request its files come from: its latest merged
    change, else its grant (``bindings.history.current_request``, for many
    bindings at once)."""
    current: dict[int, int | None] = {b.pk: b.request_id for b in bindings}
    ids = [b.pk for b in bindings]
    for part in chunks(ids):
        changes = (
            AccessRequest.objects.filter(changes_id__in=part, state=RequestState.CHANGED)
            .order_by("changes_id", "-created_at", "-pk")
            .values_list("changes_id", "pk")
        )
        seen: set[int] = set()
        for binding_id, request_id in changes:
            if binding_id not in seen:
                seen.add(binding_id)
                current[binding_id] = request_id
    return current


def spec_datas(request_ids: Iterable[int], clusters: dict[int, Cluster]) -> dict[int, dict]:
    """Request id -> its spec data (``spec_data_for_request``), read with
    two queries per thousand or so requests."""
    ids = sorted(set(request_ids))
    user = f"requester__{get_user_model().USERNAME_FIELD}"
    cluster_specs = {pk: cluster_spec(c) for pk, c in clusters.items()}
    datas: dict[int, dict] = {}
    for part in chunks(ids):
        secrets: dict[int, list[dict]] = {}
        rows = (
            SecretGrant.objects.filter(request_id__in=part)
            .order_by("request_id", "position", "pk")
            .values("request_id", *SecretGrant.FILED_FIELDS)
        )
        for row in rows:
            secrets.setdefault(row.pop("request_id"), []).append(row)
        fields = AccessRequest.objects.filter(pk__in=part).values(
            "pk", "cluster_id", user, *AccessRequest.BINDING_FIELDS
        )
        for row in fields:
            datas[row["pk"]] = spec_data(
                row,
                secrets.get(row["pk"], []),
                cluster=cluster_specs[row["cluster_id"]]
                if row["cluster_id"] in cluster_specs
                else cluster_spec(Cluster.objects.get(pk=row["cluster_id"])),
                request_id=row["pk"],
                requester=row[user],
            )
    return datas


def render_data(data: dict | None) -> tuple[dict[str, dict[str, str]], str]:
    """(files, "") or ({}, why it does not render)."""
    if data is None:
        return {}, "the portal has no request its files come from"
    try:
        return render_binding(BindingSpec.from_dict(data)).files, ""
    except SpecInvalid as invalid:
        return {}, "; ".join(str(p) for p in invalid.problems)
    except UnsafePath as error:
        return {}, str(error)


def expected_files(bindings: Sequence[Binding]) -> list[Expected]:
    """Each binding's files as the renderer makes them today."""
    current = current_requests(bindings)
    clusters = {b.cluster_id: b.cluster for b in bindings}
    datas = spec_datas((r for r in current.values() if r is not None), clusters)
    expected = []
    for binding in bindings:
        request_id = current[binding.pk]
        files, problem = render_data(datas.get(request_id) if request_id else None)
        expected.append(Expected(binding, request_id, files, problem))
    return expected
