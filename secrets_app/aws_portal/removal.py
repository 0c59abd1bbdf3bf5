"""After a revocation merged: what AWS still holds of the binding.

The infra pull request deletes the IAM role's Terraform; the role is gone
only once the pipeline applied it. ``GetRole`` answering NoSuchEntity is
the proof (and, on a Pod Identity cluster, no association left for the
ServiceAccount). Metadata only, through the portal's adapter.
"""

from __future__ import annotations

from secrets_app.aws_portal.clients import adapter_for
from secrets_app.aws_portal.verify import binding_role_name
from secrets_app.integrations.aws import AwsPermanentError
from secrets_app.integrations.errors import IntegrationError, RetryableError
from secrets_app.models import Binding, IdentityMode
from secrets_app.verification.reader import BindingReader


def aws_leftovers(binding_id: int, *, raise_retryable: bool = False) -> list[dict[str, str]]:
    """``[{"where": "aws", "what": ...}]`` for what is still there (``[]``:
    nothing). An AWS that cannot be asked counts as something still there,
    saying why: the binding is not revoked on a guess. A ``RetryableError``
    is re-raised when ``raise_retryable`` (the task will try again).
    Raises ``Binding.DoesNotExist``."""
    binding = Binding.objects.select_related("cluster", "request").get(pk=binding_id)
    try:
        return leftovers_in(adapter_for(binding.cluster), binding)
    except RetryableError as error:
        if raise_retryable:
            raise
        return [_aws(f"AWS could not be asked: {error}")]


def leftovers_in(reader: BindingReader, binding: Binding) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    role = binding_role_name(binding)
    try:
        reader.get_role(role)
    except AwsPermanentError as error:
        if not error.not_found:
            found.append(_aws(f"IAM role {role}: could not be checked ({error})"))
    except RetryableError:
        raise
    except IntegrationError as error:
        found.append(_aws(f"IAM role {role}: could not be checked ({error})"))
    else:
        found.append(_aws(f"IAM role {role}"))
    cluster = binding.cluster
    if cluster.identity_mode == IdentityMode.POD_IDENTITY:
        where = f"{binding.namespace}/{binding.service_account}"
        try:
            associations = reader.list_pod_identity_associations(
                cluster.eks_cluster_name or cluster.name, binding.namespace, binding.service_account
            )
        except RetryableError:
            raise
        except IntegrationError as error:
            found.append(
                _aws(f"Pod Identity associations of {where}: could not be checked ({error})")
            )
        else:
            # None: this endpoint has no Pod Identity API; the role is the proof then.
            found.extend(
                _aws(f"Pod Identity association {a.association_id} for {where}")
                for a in associations or ()
            )
    return found


def _aws(what: str) -> dict[str, str]:
    return {"where": "aws", "what": what}
