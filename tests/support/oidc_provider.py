"""A real OpenID provider on loopback (the oidc-provider-mock package) and the
settings that point the portal's single sign-on at it.

The provider runs the authorization code flow with its own login form, signs
RS256 id tokens with a key it generates at start, publishes that key as JWKS
and answers userinfo for the access token it issued. A test sets the claims
of a user (``set_user``) and then logs in as that ``sub`` on the provider's
form; any client id and secret are accepted. Nothing about it is faked by
the portal: the settings come from its discovery document."""

from __future__ import annotations

import json
import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import authlib.deprecate
import pytest
import requests
from werkzeug.serving import make_server

# The provider imports authlib's deprecated modules, and authlib turns its own
# deprecation warnings on ("always") when imported: quiet them for this import.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    import oidc_provider_mock

CLIENT_ID, CLIENT_SECRET = "portal", "portal-sso-client-secret-for-tests"


@dataclass(frozen=True)
class OidcProvider:
    url: str
    discovery: dict

    def set_user(self, sub: str, claims: dict) -> None:
        """The claims the provider gives for ``sub`` from the next login on
        (in the id token and at userinfo)."""
        response = requests.put(f"{self.url}/users/{quote(sub, safe='')}", json=claims, timeout=10)
        response.raise_for_status()


@contextmanager
def running_provider() -> Iterator[OidcProvider]:
    """A provider on 127.0.0.1 and a free port, in a thread, until the block ends.
    Each one generates its own signing key."""
    # require_nonce: the portal sends one (OIDC_USE_NONCE), so insist on it.
    app = oidc_provider_mock.app(require_nonce=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        discovery = requests.get(f"{url}/.well-known/openid-configuration", timeout=10).json()
        yield OidcProvider(url=url, discovery=discovery)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def serving_json(body: dict) -> Iterator[str]:
    """A loopback URL answering ``body`` as JSON (e.g. a key set of one's own)."""
    data = json.dumps(body).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/jwks"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    # werkzeug logs one line per request on stderr otherwise.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with running_provider() as provider:
        yield provider


@pytest.fixture
def sso_settings(settings, oidc_provider):
    """The portal's single sign-on as production runs it (RS256, keys from the
    provider's JWKS), pointed at the loopback provider."""
    found = oidc_provider.discovery
    settings.OIDC_ENABLED = True
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "secrets_app.accounts.sso.GroupsClaimOIDCBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    assert "RS256" in found["id_token_signing_alg_values_supported"]
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = found["authorization_endpoint"]
    settings.OIDC_OP_TOKEN_ENDPOINT = found["token_endpoint"]
    settings.OIDC_OP_USER_ENDPOINT = found["userinfo_endpoint"]
    settings.OIDC_OP_JWKS_ENDPOINT = found["jwks_uri"]
    settings.OIDC_OP_LOGOUT_ENDPOINT = found["end_session_endpoint"]
    # What portal.settings.base derives from OIDC_OP_LOGOUT_ENDPOINT at start.
    settings.OIDC_STORE_ID_TOKEN = True
    settings.CSP_FORM_ACTION = ("'self'", oidc_provider.url)
    settings.OIDC_APPROVER_GROUPS = ["platform-approvers"]
    settings.OIDC_ADMIN_GROUPS = ["portal-admins"]
    settings.OIDC_TEAM_GROUPS = r"team-.*"
    return settings
