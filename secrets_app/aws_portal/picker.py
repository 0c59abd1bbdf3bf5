"""The request form's secret picker: the secrets of the cluster's account
and region whose name holds what was typed, anywhere and in any case (the
first ones by name when nothing was typed). ListSecrets only, never a value.

ListSecrets can only filter by words at the start of a name, so the picker
reads the account's list (up to ``LISTED_AT_MOST`` secrets, 100 a call) and
matches here. The list is cached per account, region and credentials for
``CACHE_SECONDS``: a person typing asks AWS once, not once per key. A
secret created meanwhile shows up when the cache expires; the form's
lookup (DescribeSecret) knows it at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from secrets_app.aws_portal.clients import adapter_for
from secrets_app.integrations.aws import SecretSummary
from secrets_app.integrations.errors import IntegrationError
from secrets_app.models import Cluster
from secrets_app.rendering import name_rules

PICKER_LIMIT = 20
LISTED_AT_MOST = 1000
CACHE_SECONDS = 60


@dataclass(frozen=True)
class Picked:
    secrets: Sequence[SecretSummary]  # at most the limit, by name
    more: int = 0  # how many more match
    error: str = ""  # AWS's answer when it failed


def _cache_key(cluster: Cluster) -> str:
    where = "|".join([settings.AWS_ENDPOINT_URL or "", cluster.aws_role_arn or "", cluster.region])
    return "secret-picker:" + hashlib.sha256(where.encode()).hexdigest()


def _account_secrets(cluster: Cluster, at_most: int) -> tuple[list[SecretSummary], bool]:
    key = _cache_key(cluster)
    listed = cache.get(key)
    if listed is None:
        listed = adapter_for(cluster, interactive=True).list_secrets(at_most)
        cache.set(key, listed, CACHE_SECONDS)
    return listed


def _name_of(query: str) -> str:
    """A pasted ARN is searched by its secret's name."""
    if query.startswith("arn:"):
        try:
            return name_rules.parse_secret_ref(query).name
        except name_rules.SecretRefError:
            return query
    return query


def pick_secrets(
    cluster: Cluster, query: str, limit: int = PICKER_LIMIT, listed_at_most: int = LISTED_AT_MOST
) -> Picked:
    if not settings.PORTAL_AWS_LOOKUP:
        return Picked([])
    wanted = _name_of(query.strip()).casefold()
    try:
        listed, partial = _account_secrets(cluster, listed_at_most)
        if partial and wanted:
            # Beyond the first ones listed: AWS's own (word-start) search.
            seen = {s.arn for s in listed}
            extra = adapter_for(cluster, interactive=True).search_secrets(wanted, limit)
            listed = [*listed, *(s for s in extra if s.arn not in seen)]
    except IntegrationError as error:
        return Picked([], error=str(error))
    found = [s for s in listed if wanted in s.name.casefold()]
    # Names that start with the text first, then the rest, each by name.
    found.sort(key=lambda s: (not s.name.casefold().startswith(wanted), s.name.casefold()))
    return Picked(found[:limit], more=max(len(found) - limit, 0))
