"""Production headers: the security settings are read from
``portal.settings.production`` itself (in a subprocess, with a valid
environment), applied here, and the responses carry CSP, HSTS, secure and
HttpOnly cookies, X-Frame-Options, Referrer-Policy and nosniff. And every
page the URL walk reaches satisfies the CSP (nothing inline)."""

from __future__ import annotations

import json
import os
import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.security.walk import get_pages
from tests.support.subprocesses import run_python

pytestmark = pytest.mark.django_db

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings.production",
    "SECRET_KEY": "p" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz-production",
    "ALLOWED_HOSTS": "portal.example.com",
    "DATABASE_URL": "postgres://portal@db.example.com:5432/portal",
    "REDIS_URL": "redis://redis.example.com:6379/0",
}
SECURITY_SETTINGS = [
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_SAMESITE",
    "X_FRAME_OPTIONS",
    "MIDDLEWARE",
]
DUMP = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "names = {names!r} + [n for n in dir(s) if n.startswith('CSP_')]; "
    "print(json.dumps({{n: getattr(s, n) for n in names}}))"
)


@pytest.fixture(scope="module")
def production() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC", "SECURE_", "DEBUG"))}
    env.update(PRODUCTION_ENV)
    result = run_python("-c", DUMP.format(names=SECURITY_SETTINGS), env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def prod_settings(settings, production):
    for name, value in production.items():
        setattr(settings, name, tuple(value) if name == "SECURE_PROXY_SSL_HEADER" else value)
    return settings


def test_production_values(production):
    assert production["DEBUG"] is False
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31536000
    assert production["SESSION_COOKIE_SECURE"] and production["SESSION_COOKIE_HTTPONLY"]
    assert production["CSRF_COOKIE_SECURE"]
    assert production["X_FRAME_OPTIONS"] == "DENY"
    assert "csp.middleware.CSPMiddleware" in production["MIDDLEWARE"]
    assert "axes.middleware.AxesMiddleware" in production["MIDDLEWARE"]


def test_a_page_carries_every_header(prod_settings, requester):
    client = Client()
    response = client.get(reverse("login"), secure=True, HTTP_HOST="testserver")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = {
        part.split()[0]: part.split()[1:]
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    }
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    csrf_cookie = response.cookies["csrftoken"]
    assert csrf_cookie["secure"] and csrf_cookie["samesite"] == "Lax"

    login = client.post(
        reverse("login"),
        {
            "username": "alice",
            "password": "correct horse battery staple",
            "csrfmiddlewaretoken": csrf_cookie.value,
        },
        secure=True,
    )
    assert login.status_code == 302
    session = login.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_plain_http_is_sent_to_https_except_the_probes(prod_settings):
    response = Client().get(reverse("login"))
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"
    # Behind the load balancer, X-Forwarded-Proto says the request was HTTPS.
    forwarded = Client().get(reverse("login"), HTTP_X_FORWARDED_PROTO="https")
    assert forwarded.status_code == 200
    assert Client().get(reverse("healthz")).status_code == 200


INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "<style> element": re.compile(r"<style[\s>]", re.I),
    "style= attribute": re.compile(r"<[^>]+\sstyle\s*=", re.I),
    "on...= handler": re.compile(r"<[^>]+\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I),
    "resource from another origin": re.compile(
        r"""<(?:script|link|img|iframe)[^>]+(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I
    ),
}
# JSON payloads in <script type="application/json"> are data, not code.
DATA_SCRIPT = re.compile(r"<script[^>]*type=[\"']application/(?:ld\+)?json[\"'][^>]*>", re.I)


def test_every_page_satisfies_the_csp(world):
    problems, scanned = [], 0
    for role, url, response in get_pages(world, ("requester", "approver", "admin")):
        if "text/html" not in response.get("Content-Type", "") or response.status_code != 200:
            continue
        scanned += 1
        html = DATA_SCRIPT.sub("", response.content.decode())
        for what, pattern in INLINE.items():
            match = pattern.search(html)
            if match:
                problems.append(f"{role} {url}: {what}: {match.group(0)[:120]}")
    assert not problems, "\n".join(problems)
    assert scanned > 60  # the portal's pages for three roles, and the admin's
