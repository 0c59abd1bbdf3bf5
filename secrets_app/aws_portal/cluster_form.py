"""The admin's Cluster form, which fills a blank OIDC issuer from EKS.

It has to happen before validation: the model refuses an IRSA cluster
without an issuer, so an admin ``save_model`` would never be reached. The
report is kept on the form and shown by ``ClusterAdmin.save_model``.
"""

from __future__ import annotations

from typing import Any

from django import forms

from secrets_app.aws_portal.clusters import ClusterReport, cluster_fill_oidc_issuer
from secrets_app.models import Cluster, IdentityMode

_PROBE_FIELDS = ("name", "region", "aws_account_id", "eks_cluster_name", "aws_role_arn")


class ClusterAdminForm(forms.ModelForm):
    """No Meta: the admin supplies the model and every field, so a field
    added to Cluster later shows up without touching this form."""

    aws_report: ClusterReport | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("oidc_issuer") or not data.get("name") or not data.get("region"):
            return data
        probe = Cluster(**{name: data.get(name) or "" for name in _PROBE_FIELDS})
        self.aws_report = cluster_fill_oidc_issuer(cluster=probe)
        if probe.oidc_issuer:
            data["oidc_issuer"] = probe.oidc_issuer
        elif self.aws_report and data.get("identity_mode") == IdentityMode.IRSA:
            self.add_error("oidc_issuer", self.aws_report.message)
        return data
