"""Single sign-on through mozilla-django-oidc: the authentication backend
(teams and roles from the groups claim at every login, see group_claims) and
where the portal's logout sends the browser (RP-initiated logout)."""

from __future__ import annotations

import jwt
import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import urlencode
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from secrets_app.accounts.group_claims import apply_group_claims

__all__ = ["GroupsClaimOIDCBackend", "apply_group_claims", "provider_logout_url"]


class GroupsClaimOIDCBackend(OIDCAuthenticationBackend):
    def create_user(self, claims):
        user = super().create_user(claims)
        user.username = claims.get("preferred_username") or user.username
        user.first_name = claims.get("given_name", "")
        user.last_name = claims.get("family_name", "")
        user.save()
        apply_group_claims(user, claims)
        return user

    def update_user(self, user, claims):
        apply_group_claims(user, claims)
        return user

    def verify_token(self, token, **kwargs):
        """The signature, algorithm and nonce (mozilla-django-oidc), then the
        audience, which it leaves unchecked: an id token the provider issued
        to another of its clients must not log anyone in here (OpenID Connect
        Core 3.1.3.7)."""
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The id token was issued to another client.")
        return payload

    def retrieve_matching_jwk(self, token):
        """The provider's key for the id token. OpenID Connect Core (10.1)
        lets a provider leave ``kid`` out of the token's header when its key
        set holds a single signing key; mozilla-django-oidc would fail with a
        KeyError (a 500) there. The signature and ``alg`` are checked after
        this either way."""
        if "kid" in jwt.get_unverified_header(token):
            return super().retrieve_matching_jwk(token)
        response = requests.get(
            self.OIDC_OP_JWKS_ENDPOINT,
            verify=self.get_settings("OIDC_VERIFY_SSL", True),
            timeout=self.get_settings("OIDC_TIMEOUT", None),
            proxies=self.get_settings("OIDC_PROXY", None),
        )
        response.raise_for_status()
        signing = [key for key in response.json().get("keys", []) if key.get("use", "sig") == "sig"]
        if len(signing) != 1:
            raise SuspiciousOperation("The id token names no key and the provider has several.")
        return jwt.PyJWK(signing[0])


def provider_logout_url(request) -> str:
    """Where the portal's logout sends the browser (OIDC_OP_LOGOUT_URL_METHOD):
    the provider's end-session endpoint (RP-initiated logout) when one is
    configured and this session came from single sign-on, so that the next
    single sign-on asks for a login again; the login page otherwise."""
    login_page = resolve_url(settings.LOGOUT_REDIRECT_URL)
    id_token = request.session.get("oidc_id_token")
    if not settings.OIDC_OP_LOGOUT_ENDPOINT or not id_token:
        return login_page
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
        }
    )
    return f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{query}"
