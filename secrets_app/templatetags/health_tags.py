"""Template helpers of the health pages."""

from __future__ import annotations

from django import template

from secrets_app.health.selectors import is_stale

register = template.Library()


@register.filter
def health_stale(binding) -> bool:
    """``{% if binding|health_stale %}``: its stored verdict cannot be trusted as current."""
    return is_stale(binding.health_status, binding.health_checked_at)
