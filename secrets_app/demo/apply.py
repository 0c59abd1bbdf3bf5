"""The demo's stand-ins for what merging does in a real setup.

* An infra pull request merged: the infra repository's pipeline runs
  ``terraform apply`` on the folders it changed. The demo does the same with
  real Terraform against its moto (``demo.terraform``) when the binary and
  the provider mirror are there and ``PORTAL_DEMO_TERRAFORM`` is on; else,
  when the binding becomes active or changed, a Python stand-in creates or
  updates the IAM role and policy (``apply_infra_for_binding``) so that
  verification has something real to check. A removal's merge re-applies the folder without
  the binding's file, and Terraform deletes the role (or the stand-in does).
* A deploy pull request merged: a GitOps controller applies the service's
  kustomization. The demo builds the merged folder with real ``kubectl
  kustomize`` and puts the objects into its fake cluster, with the pods and
  mounts a cluster would report (``demo.cluster_apply``), then sweeps the
  cluster at once; a removal's merge takes them out again.
* A fleet upgrade pull request merged (``apply_merged_upgrade``): the same,
  for the folders it rewrote: Terraform (or the stand-in, per binding) for
  an infra upgrade, the fake cluster for a deploy upgrade.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path
from typing import Any

from django.conf import settings

from secrets_app.aws_portal.clients import adapter_for
from secrets_app.aws_portal.verify import binding_role_name
from secrets_app.bindings.history import current_request
from secrets_app.demo import cluster_apply, versions
from secrets_app.demo.aws import apply_binding_iam, remove_binding_iam
from secrets_app.demo.clusters import RUNNING
from secrets_app.demo.terraform import (
    TerraformUnavailable,
    Workspace,
    find_provider_mirror,
    find_terraform,
)
from secrets_app.integrations.backends import backends_for
from secrets_app.models import AccessRequest, Binding, Cluster, PullRequest, Upgrade
from secrets_app.rendering import BindingNames, permissions_policy, trust_policy
from secrets_app.requests.specs import spec_for_request

log = logging.getLogger(__name__)

_RESOURCE = re.compile(r'^resource "([a-z0-9_]+)" "([^"]+)"', re.MULTILINE)
# moto has no EKS Pod Identity API: the association is left out of the apply.
_NOT_IN_MOTO = ("aws_eks_pod_identity_association",)

#: (cluster URL, folder) -> the objects a deploy merge put into that fake.
_APPLIED: dict[tuple[str, str], list[tuple[str, str, str]]] = {}


def terraform_in_use() -> bool:
    """Whether infra merges run real Terraform (else the stand-in applies)."""
    if not getattr(settings, "PORTAL_DEMO_TERRAFORM", False) or not settings.AWS_ENDPOINT_URL:
        return False
    try:
        find_terraform()
        find_provider_mirror()
    except TerraformUnavailable as exc:
        log.info("demo: Terraform not used (%s); the Python stand-in applies infra changes", exc)
        return False
    return True


def apply_merged_pull_request(pull_id: int) -> None:
    pull = PullRequest.objects.select_related("request__cluster").get(pk=pull_id)
    folders = sorted({posixpath.dirname(p) for p in pull.paths})
    if pull.repository == "infra":
        if terraform_in_use():
            for folder in folders:
                apply_infra_folder(pull.request.cluster, folder)
    else:
        apply_deploy_folders(pull, folders)


def apply_merged_upgrade(upgrade_id: int) -> None:
    """A merged fleet upgrade, applied as a merged request's pull request
    is: each folder it wrote or deleted files in."""
    upgrade = Upgrade.objects.select_related("cluster").get(pk=upgrade_id)
    entries = list(upgrade.entries.select_related("binding", "request").order_by("binding_id"))
    folders = {
        entry.binding_id: sorted({posixpath.dirname(p) for p in [*entry.writes, *entry.deletes]})
        for entry in entries
    }
    if upgrade.repository == "infra":
        if terraform_in_use():
            for folder in sorted({f for fs in folders.values() for f in fs}):
                apply_infra_folder(upgrade.cluster, folder)
        else:  # the stand-in: each binding that took the new files, its role and policy again
            for entry in entries:
                if entry.applied:
                    apply_infra_for_binding(entry.binding_id)
        return
    where = {}
    for entry in entries:
        request = entry.request or current_request(entry.binding)
        for folder in folders[entry.binding_id]:
            where[folder] = (entry.binding.namespace, _workload(request, entry.binding))
    apply_deploy(upgrade.cluster, where)


# --- infra -------------------------------------------------------------------


def apply_infra_folder(cluster: Cluster, folder: str) -> None:
    """``terraform apply`` of one folder of the infra repository's base
    branch, as its pipeline would after a merge."""
    backend = backends_for(cluster)["infra"]
    tree = backend.read_text_files(cluster.base_branch, suffixes=(".tf",))
    files = {
        posixpath.basename(p): text for p, text in tree.items() if posixpath.dirname(p) == folder
    }
    workspace = Workspace.create(
        Path(settings.PORTAL_DEMO_DIR) / "terraform" / folder,
        endpoint=settings.AWS_ENDPOINT_URL,
        region=cluster.region,
        role_arn=cluster.aws_role_arn,
    )
    workspace.write(files)
    workspace.init()
    workspace.apply(_targets(workspace, files))
    log.info("demo: terraform applied %s (%d file(s))", folder, len(files))


def _targets(workspace: Workspace, files: dict[str, str]) -> tuple[str, ...]:
    """All of the folder, unless it holds what moto cannot create: then
    everything else, and whatever the state holds that the files no longer
    declare (so that a removal still deletes it)."""
    declared = [
        f"{kind}.{name}" for text in files.values() for kind, name in _RESOURCE.findall(text)
    ]
    if not any(a.startswith(_NOT_IN_MOTO) for a in declared):
        return ()
    gone = [a for a in workspace.state() if a not in declared and not a.startswith("data.")]
    return tuple(a for a in [*declared, *gone] if not a.startswith(_NOT_IN_MOTO))


def apply_infra_for_binding(binding_id: int) -> None:
    """The Python stand-in for ``terraform apply`` of a grant or a change: the role with
    its trust policy and an attached permissions policy."""
    binding = Binding.objects.select_related("cluster", "request").get(pk=binding_id)
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
        role_arn=binding.cluster.aws_role_arn,
    )
    log.info("demo: applied the infra change for %s (role %s)", binding, names.role_name)


def remove_infra_for_binding(binding_id: int) -> None:
    """The Python stand-in for ``terraform apply`` of a removal."""
    binding = Binding.objects.select_related("cluster", "request").get(pk=binding_id)
    if settings.AWS_ENDPOINT_URL:
        role = binding_role_name(binding)
        remove_binding_iam(
            settings.AWS_ENDPOINT_URL, role_name=role, role_arn=binding.cluster.aws_role_arn
        )
        log.info("demo: applied the removal of %s (role %s)", binding, role)


# --- deploy ------------------------------------------------------------------


def apply_deploy_folders(pull: PullRequest, folders: list[str]) -> None:
    request = pull.request
    workload = _workload(request, None)
    apply_deploy(request.cluster, dict.fromkeys(folders, (request.namespace, workload)))


def apply_deploy(cluster: Cluster, folders: dict[str, tuple[str, dict[str, Any]]]) -> None:
    """What a GitOps controller does with the deploy repository's base
    branch: each folder (-> its namespace and the service's workload)
    built and put into the cluster's fake in place of what it held."""
    fake = RUNNING.get(cluster.kube_api_url)
    if fake is None:
        log.info("demo: no fake cluster at %s in this process; not applied", cluster.kube_api_url)
        return
    tree = backends_for(cluster)["deploy"].read_text_files(cluster.base_branch)
    # The pods mount the versions the demo's AWS serves now.
    current = versions.from_aws(adapter_for(cluster))
    for folder, (namespace, workload) in sorted(folders.items()):
        for kind, ns, name in _APPLIED.pop((fake.url, folder), []):
            fake.remove(kind, ns, name)
        files = {
            posixpath.basename(p): text
            for p, text in tree.items()
            if posixpath.dirname(p) == folder
        }
        if not files:  # a removal: the folder is gone, and so are its objects
            log.info("demo: removed what %s had applied", folder)
            continue
        objects = cluster_apply.running_objects(cluster_apply.build(files, namespace, workload))
        versions.mount_versions(objects, current)
        fake.add_many(objects)
        _APPLIED[(fake.url, folder)] = cluster_apply.keys(objects)
        log.info("demo: applied %s to %s (%d objects)", folder, cluster.name, len(objects))


def _workload(request: AccessRequest | None, binding: Binding | None) -> dict[str, Any]:
    """The service's workload: as its request describes it, else (a binding
    without one) as the binding records it."""
    if request is not None:
        return cluster_apply.service_workload(
            request.workload_kind,
            request.workload_name or request.service,
            list(request.containers),
        )
    return cluster_apply.service_workload(binding.workload_kind, binding.workload_name, ["app"])
