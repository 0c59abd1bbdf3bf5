"""The demo's stand-in for `terraform apply`: when a binding becomes active
(both pull requests merged) or changed, create or update its IAM role and policy in the demo AWS,
as the infra repository's pipeline would, so that verification has something
real to check; when its removal merged, delete them, and sweep its cluster
at once (the demo's Argo CD applies at once), so that the binding is seen
gone and revoked without waiting for the next sweep."""

from __future__ import annotations

import logging

from django.conf import settings

from secrets_app.aws_portal.verify import binding_role_name
from secrets_app.bindings.history import current_request
from secrets_app.demo.aws import apply_binding_iam, remove_binding_iam
from secrets_app.models import Binding
from secrets_app.rendering import BindingNames, permissions_policy, trust_policy
from secrets_app.requests.specs import spec_for_request

log = logging.getLogger(__name__)


def apply_infra_for_binding(binding_id: int) -> None:
    binding = Binding.objects.select_related("request").get(pk=binding_id)
    # After a change, its role's policy is the change's.
    request = current_request(binding)
    if request is None or not settings.AWS_ENDPOINT_URL:
        return
    spec = spec_for_request(request)
    names = BindingNames.from_spec(spec)
    apply_binding_iam(
        settings.AWS_ENDPOINT_URL,
        role_name=names.role_name,
        trust=trust_policy(spec, names),
        permissions=permissions_policy(spec),
    )
    log.info("demo: applied the infra change for %s (role %s)", binding, names.role_name)


def remove_infra_for_binding(binding_id: int) -> None:
    binding = Binding.objects.select_related("cluster", "request").get(pk=binding_id)
    if settings.AWS_ENDPOINT_URL:
        role = binding_role_name(binding)
        remove_binding_iam(settings.AWS_ENDPOINT_URL, role_name=role)
        log.info("demo: applied the removal of %s (role %s)", binding, role)
