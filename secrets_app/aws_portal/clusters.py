"""Cluster registration from AWS: the OIDC issuer from EKS DescribeCluster,
and whether IAM has the OIDC provider IRSA needs.

Each service returns a ``ClusterReport`` (a message level and one sentence
per thing found, fixed or missing) for the admin to show; AWS failures are
reported, never raised, so an admin page never fails with a 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages

from secrets_app.aws_portal.clients import adapter_for
from secrets_app.integrations.aws import AwsAdapter, ClusterInfo
from secrets_app.integrations.errors import IntegrationError
from secrets_app.models import Cluster, IdentityMode
from secrets_app.verification.findings import STS_AUDIENCE


@dataclass
class ClusterReport:
    cluster: str
    level: int = messages.SUCCESS
    notes: list[str] = field(default_factory=list)
    issuer: str = ""  # what EKS reported, without https://
    changed: bool = False

    def note(self, text: str, level: int = messages.SUCCESS) -> None:
        self.notes.append(text)
        self.level = max(self.level, level)

    @property
    def message(self) -> str:
        return f"{self.cluster}: " + " ".join(self.notes)


def _eks_name(cluster: Cluster) -> str:
    return cluster.eks_cluster_name or cluster.name


def _describe(adapter: AwsAdapter, cluster: Cluster, report: ClusterReport) -> ClusterInfo | None:
    name = _eks_name(cluster)
    try:
        info = adapter.describe_cluster(name)
    except IntegrationError as error:
        report.note(
            f"EKS cluster {name} could not be described in {cluster.region}: {error}",
            messages.ERROR,
        )
        return None
    report.issuer = info.oidc_issuer
    if info.account != cluster.aws_account_id:
        report.note(
            f"EKS says the cluster is in account {info.account}, but it is registered with "
            f"{cluster.aws_account_id}; fix the registration.",
            messages.WARNING,
        )
    if not info.oidc_issuer:
        report.note(f"EKS reports no OIDC issuer for {name}.", messages.WARNING)
    return info


def cluster_fill_oidc_issuer(*, cluster: Cluster) -> ClusterReport | None:
    """Fill a blank ``oidc_issuer`` from EKS (the caller saves). None when
    there was nothing to do or lookups are off (tests, offline demo)."""
    if cluster.oidc_issuer or not settings.PORTAL_AWS_LOOKUP:
        return None
    report = ClusterReport(cluster.name)
    info = _describe(adapter_for(cluster, interactive=True), cluster, report)
    if info and info.oidc_issuer:
        cluster.oidc_issuer = info.oidc_issuer
        report.changed = True
        report.note(f"OIDC issuer filled in from EKS: {info.oidc_issuer}.")
    return report


def cluster_refresh_from_aws(*, cluster: Cluster) -> ClusterReport:
    """The admin's "Refresh from AWS": issuer from EKS (filled or corrected
    and saved), then the IAM OIDC provider for it."""
    report = ClusterReport(cluster.name)
    adapter = adapter_for(cluster)
    info = _describe(adapter, cluster, report)
    if info is None:
        return report
    issuer = info.oidc_issuer or cluster.oidc_issuer
    if info.oidc_issuer and info.oidc_issuer != cluster.oidc_issuer:
        before = cluster.oidc_issuer
        cluster.oidc_issuer = info.oidc_issuer
        cluster.save(update_fields=["oidc_issuer", "updated_at"])
        report.changed = True
        if before:
            report.note(f"OIDC issuer fixed: was {before}, EKS says {info.oidc_issuer}.")
        else:
            report.note(f"OIDC issuer filled in: {info.oidc_issuer}.")
    elif info.oidc_issuer:
        report.note(f"OIDC issuer {issuer} matches EKS.")
    if cluster.identity_mode != IdentityMode.IRSA:
        report.note("Pod Identity cluster: no IAM OIDC provider needed.")
        return report
    if issuer:
        _check_provider(adapter, cluster, issuer, report)
    return report


def _check_provider(
    adapter: AwsAdapter, cluster: Cluster, issuer: str, report: ClusterReport
) -> None:
    try:
        provider = adapter.get_oidc_provider(issuer)
    except IntegrationError as error:
        report.note(f"IAM OIDC providers could not be listed: {error}", messages.WARNING)
        return
    if provider is None:
        report.note(
            f"IAM OIDC provider for {issuer} is missing in account {cluster.aws_account_id}: "
            "IRSA cannot work until it exists. Create it: eksctl utils "
            f"associate-iam-oidc-provider --cluster {_eks_name(cluster)} "
            f"--region {cluster.region} --approve.",
            messages.WARNING,
        )
        return
    report.note(f"IAM OIDC provider {provider.arn} exists.")
    if STS_AUDIENCE not in provider.client_ids:
        report.note(
            f"The OIDC provider lacks the audience {STS_AUDIENCE}: add it as a client ID.",
            messages.WARNING,
        )
