"""Single sign-on against a real OpenID provider on loopback."""

from tests.support.oidc_provider import oidc_provider, sso_settings

__all__ = ["oidc_provider", "sso_settings"]
