"""A loopback OpenID Connect provider (token and userinfo endpoints; the id
token is HS256 with the client secret) and the settings that point the
portal's SSO at it.

The whole login against a real provider (RS256, JWKS, the provider's login
form, end session) is in tests/sso/ and tests/browser/test_sso_login.py.
This hand-written one stays for what that provider cannot do: sign HS256
with the client secret (OIDC_RP_SIGN_ALGO allows it), and take any code, so
the security tests reach the callback in two requests."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.test import Client
from django.urls import reverse

CLIENT_ID, CLIENT_SECRET = "portal", "sso-client-secret-for-tests-0123456789"


class FakeIdP:
    """Token and userinfo endpoints; the id token is HS256 with the client secret."""

    def __init__(self, claims: dict) -> None:
        self.claims, self.nonce = claims, ""
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _json(self, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # the token endpoint
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                now = int(time.time())
                token = jwt.encode(
                    {
                        "iss": idp.url,
                        "aud": CLIENT_ID,
                        "sub": idp.claims["sub"],
                        "nonce": idp.nonce,
                        "iat": now,
                        "exp": now + 300,
                    },
                    CLIENT_SECRET,
                    algorithm="HS256",
                )
                self._json({"id_token": token, "access_token": "at", "token_type": "Bearer"})

            def do_GET(self) -> None:  # the userinfo endpoint
                self._json(idp.claims)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def idp(settings):
    fake = FakeIdP({"sub": "alice-sub", "email": "alice@example.com", "groups": ["engineers"]})
    settings.OIDC_ENABLED = True
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "secrets_app.accounts.sso.GroupsClaimOIDCBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_RP_SIGN_ALGO = "HS256"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = fake.url + "/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = fake.url + "/token"
    settings.OIDC_OP_USER_ENDPOINT = fake.url + "/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = fake.url + "/jwks"
    yield fake
    fake.close()


def sso_login(client: Client, idp: FakeIdP, **params: str):
    """The browser's round trip: to the provider and back with a code."""
    start = client.get(reverse("oidc_authentication_init"), params)
    query = parse_qs(urlsplit(start["Location"]).query)
    idp.nonce = query["nonce"][0]
    return client.get(
        reverse("oidc_authentication_callback"), {"code": "abc", "state": query["state"][0]}
    )
