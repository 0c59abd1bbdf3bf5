"""The OpenAPI schema is valid and warning-free; the docs page loads its
assets from the portal itself (the CSP allows no CDN, no inline code)."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_and_validates(tmp_path):
    # drf-spectacular's own validation, failing on any warning (an unguessable
    # serializer, a clashing enum name) rather than printing it.
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.stat().st_size > 0


def test_served_schema_is_valid_openapi(as_requester):
    response = as_requester.get("/api/schema/?format=json")

    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    paths = set(schema["paths"])
    assert {
        "/api/requests/",
        "/api/requests/{id}/",
        "/api/requests/{id}/approve/",
        "/api/requests/{id}/reject/",
        "/api/requests/{id}/comment/",
        "/api/requests/{id}/cancel/",
        "/api/bindings/",
        "/api/bindings/{id}/",
        "/api/bindings/{id}/health/",
        "/api/clusters/",
        "/api/clusters/{id}/",
    } <= paths
    for methods in schema["paths"].values():
        for operation in methods.values():
            assert "401" in operation["responses"]
            assert operation["security"]  # no anonymous operation


def test_docs_page_needs_a_login(client):
    response = client.get("/api/docs/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_docs_page_loads_everything_from_static(client, requester):
    client.force_login(requester)

    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<style" not in html  # blocked by the CSP
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all("src=" in attrs for attrs in scripts)  # no inline script
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    static = [a for a in assets if a.startswith("/static/")]
    others = [a for a in assets if not a.startswith("/static/")]
    assert len(static) >= 4  # css, favicon, bundle, preset
    assert others == ["/api/docs/?script="]
    for url in static:
        assert client.get(url).status_code == 200, url
    assert "script-src 'self'" in response["Content-Security-Policy"]

    init = client.get("/api/docs/?script=")
    assert init.status_code == 200
    assert init["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in init.content.decode()


#: What a developer's note looks like, never an API user's text.
DEVELOPER_NOTES = re.compile(
    r"(?<!manage)\.py\b|\bthin\b|\bdocstring|\bissue\b|#\d+|\bTODO\b|\bFIXME\b|\bmigration|"
    r"spectacular|\bviewset|\bserializer|\bmonkeypatch|\bqueryset",
    re.IGNORECASE,
)


def _texts(node, where=""):
    """Every summary and description in the schema, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("summary", "description") and isinstance(value, str):
                yield f"{where}.{key}", value
            else:
                yield from _texts(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _texts(value, f"{where}[{i}]")


def test_descriptions_speak_to_api_users_not_developers(as_requester):
    schema = as_requester.get("/api/schema/?format=json").json()
    notes = [(where, text) for where, text in _texts(schema) if DEVELOPER_NOTES.search(text)]
    assert notes == []
    # Inputs say what they take, once, in words for their users.
    strict = schema["components"]["schemas"]["RevokeInputRequest"]["description"]
    assert strict == 'Takes only the keys listed: any other key is a 400 ("Unknown field.").'
