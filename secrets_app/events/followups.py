"""What runs after which change, in one table.

Keys are bus topics: audit actions (the payload is the committed
``AuditEvent``) and ``notifications.RECORDED`` (the payload is the new rows'
ids). Handlers run in the order listed, each after the change has committed;
one that fails is logged and does not stop the next.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from secrets_app import notifications
from secrets_app.demo.apply import (
    apply_infra_for_binding,
    apply_merged_pull_request,
    apply_merged_upgrade,
    remove_infra_for_binding,
    terraform_in_use,
)
from secrets_app.events.bus import Handler
from secrets_app.models import (
    AccessRequest,
    AuditEvent,
    Binding,
    PullRequest,
    RequestKind,
    Upgrade,
)
from secrets_app.notifications.events import ACTIONS as NOTIFIED_ACTIONS
from secrets_app.tasks.health import sweep_cluster_task
from secrets_app.tasks.notifications import enqueue_notifications
from secrets_app.tasks.provisioning import enqueue_open_pull_requests
from secrets_app.tasks.verification import enqueue_verification


def open_pull_requests(event: AuditEvent) -> None:
    # An approved extension has ended already (``extended``): nothing to open.
    if AccessRequest.objects.filter(pk=event.request_id, kind=RequestKind.EXTEND).exists():
        return
    enqueue_open_pull_requests(event.request_id)


def verify_binding(event: AuditEvent) -> None:
    # The same one-queued-run-per-binding as the "Verify now" button.
    enqueue_verification(int(event.object_id))


def verify_upgraded_bindings(event: AuditEvent) -> None:
    # A merged infra upgrade rewrote roles and policies: verify each binding
    # it was recorded for (a deploy upgrade is checked by the next sweep).
    upgrade = Upgrade.objects.get(pk=event.object_id)
    if upgrade.repository != "infra":
        return
    for binding_id in upgrade.entries.filter(applied=True).values_list("binding_id", flat=True):
        enqueue_verification(binding_id)


def apply_demo_infra(event: AuditEvent) -> None:
    # With real Terraform the infra merge itself applied the role.
    if not terraform_in_use():
        apply_infra_for_binding(int(event.object_id))


def apply_demo_removal(event: AuditEvent) -> None:
    if not terraform_in_use():
        remove_infra_for_binding(int(event.object_id))


def apply_demo_pull_request(event: AuditEvent) -> None:
    apply_merged_pull_request(int(event.object_id))


def sweep_demo_cluster_of_pull(event: AuditEvent) -> None:
    # A merged deploy change is in the fake cluster at once: show it.
    pull = PullRequest.objects.select_related("request").get(pk=event.object_id)
    if pull.repository == "deploy":
        sweep_cluster_task.delay(pull.request.cluster_id)


def apply_demo_upgrade(event: AuditEvent) -> None:
    apply_merged_upgrade(int(event.object_id))


def sweep_demo_cluster_of_upgrade(event: AuditEvent) -> None:
    upgrade = Upgrade.objects.get(pk=event.object_id)
    if upgrade.repository == "deploy":
        sweep_cluster_task.delay(upgrade.cluster_id)


def sweep_demo_cluster(event: AuditEvent) -> None:
    cluster_id = Binding.objects.values_list("cluster_id", flat=True).get(pk=event.object_id)
    sweep_cluster_task.delay(cluster_id)


def table() -> dict[str, Sequence[Handler]]:
    followups: dict[str, list[Handler]] = {
        # An approval that completes a request (grant, revocation or change), and an
        # admin's retry, send it to the pull-request task.
        "request.approved": [open_pull_requests],
        "request.retried": [open_pull_requests],
        # The demo's "terraform apply" must create the role before
        # verification looks for it.
        "binding.created": [*([apply_demo_infra] if settings.PORTAL_DEMO else []), verify_binding],
        # A change rewrote the role's policy: verify the new one.
        "binding.changed": [*([apply_demo_infra] if settings.PORTAL_DEMO else []), verify_binding],
        # In the demo the merge is applied first (as a request's merge is),
        # so that verification finds the new roles and policies.
        "upgrade.merged": [
            *([apply_demo_upgrade] if settings.PORTAL_DEMO else []),
            verify_upgraded_bindings,
            *([sweep_demo_cluster_of_upgrade] if settings.PORTAL_DEMO else []),
        ],
        # Elsewhere the removal is confirmed by the next sweep of the cluster
        # and the AWS check after it (``tasks.removal``). In the demo a merge
        # is applied at once: Terraform for infra, the fake cluster for deploy.
        **(
            {
                "binding.removal_merged": [apply_demo_removal, sweep_demo_cluster],
                "pull_request.merged": [apply_demo_pull_request, sweep_demo_cluster_of_pull],
            }
            if settings.PORTAL_DEMO
            else {}
        ),
        notifications.RECORDED: [enqueue_notifications],
    }
    for action in NOTIFIED_ACTIONS:
        followups.setdefault(action, []).append(notifications.notify_audit_event)
    return followups
