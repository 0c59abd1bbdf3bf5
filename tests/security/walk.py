"""Enumerate the URL resolver and request each pattern as each role."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from django.http import HttpResponse
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from tests.security.url_table import LOGIN, TABLE, Entry, Ref

_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def url_patterns() -> list[tuple[str, str]]:
    """(key, route) of every pattern: the (namespaced) name, or the route of
    an unnamed pattern."""
    found: list[tuple[str, str]] = []

    def walk(patterns: list, prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
                continue
            route = prefix + str(pattern.pattern)
            if pattern.name:
                key = f"{namespace}:{pattern.name}" if namespace else pattern.name
            else:
                key = route
            found.append((key, route))

    walk(get_resolver().url_patterns, "", None)
    return found


def build_url(key: str, entry: Entry, ids: dict[str, Any]) -> str:
    if entry.path:
        return entry.path
    kwargs = {name: ids[source] for name, source in entry.kwargs.items()}
    if "/" in key:  # an unnamed pattern: fill its converters
        return "/" + _CONVERTER.sub(lambda m: str(kwargs[m.group(1)]), key)
    return reverse(key, kwargs=kwargs)


def post_data(entry: Entry, ids: dict[str, Any]) -> dict[str, Any]:
    return {k: ids[v.key] if isinstance(v, Ref) else v for k, v in entry.data.items()}


def fetch(client: Client, method: str, url: str, entry: Entry, ids: dict[str, Any]) -> HttpResponse:
    if method == "get":
        return client.get(url)
    data = post_data(entry, ids)
    if entry.json:
        return client.post(url, json.dumps(data), content_type="application/json")
    return client.post(url, data)


def matches(response: HttpResponse, expected: Any) -> bool:
    location = response.get("Location", "")
    if expected == LOGIN:
        return response.status_code == 302 and "login" in location
    if expected == 302:
        return response.status_code == 302 and "login" not in location
    return response.status_code == expected


def describe(response: HttpResponse) -> str:
    if response.status_code in (301, 302):
        return f"{response.status_code} -> {response['Location']}"
    return str(response.status_code)


def get_pages(world: Any, roles: tuple[str, ...]) -> Iterator[tuple[str, str, HttpResponse]]:
    """GET every pattern in the table as each of ``roles``: (role, url, response)."""
    for role in roles:
        client = world.client(role)
        for key, entry in TABLE.items():
            url = build_url(key, entry, world.ids)
            yield role, url, client.get(url)
