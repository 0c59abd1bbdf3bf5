from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from secrets_app.models.validators import (
    validate_account_id,
    validate_dns1123_label,
    validate_oidc_issuer,
    validate_region,
)
from secrets_app.rendering.checks import check_cluster_name
from secrets_app.rendering.name_rules import IAM_ROLE_ARN, partition_of


class Environment(models.TextChoices):
    DEV = "dev", "Development"
    STAGING = "staging", "Staging"
    PROD = "prod", "Production"


class IdentityMode(models.TextChoices):
    IRSA = "irsa", "IRSA (IAM roles for service accounts)"
    POD_IDENTITY = "pod_identity", "EKS Pod Identity"


class Cluster(models.Model):
    """An EKS cluster that workloads get secrets in, and the AWS account it lives in."""

    name = models.CharField(max_length=63, unique=True, validators=[validate_dns1123_label])
    environment = models.CharField(max_length=16, choices=Environment, default=Environment.DEV)
    aws_account_id = models.CharField(
        "AWS account id", max_length=12, validators=[validate_account_id]
    )
    region = models.CharField(max_length=32, validators=[validate_region])
    oidc_issuer = models.CharField(
        "OIDC issuer",
        max_length=255,
        blank=True,
        validators=[validate_oidc_issuer],
        help_text="Without https://, e.g. oidc.eks.us-west-2.amazonaws.com/id/C0EB4AEE…; "
        "required for IRSA.",
    )
    identity_mode = models.CharField(max_length=16, choices=IdentityMode, default=IdentityMode.IRSA)
    required_approvals = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="Distinct approvers needed before provisioning (production: 2).",
    )
    kube_context = models.CharField(
        "kubeconfig context", max_length=255, blank=True, help_text="Blank: in-cluster config."
    )
    deploy_path_template = models.CharField(
        max_length=255,
        blank=True,
        help_text="Folder in the deploy repository; blank for "
        "clusters/{cluster}/{namespace}/{service}/secrets.",
    )
    infra_path_template = models.CharField(
        max_length=255,
        blank=True,
        help_text="Folder in the infra repository; blank for iam/{account}/{cluster}.",
    )
    eks_cluster_name = models.CharField(
        "EKS cluster name", max_length=100, blank=True, help_text="Blank: the portal name."
    )
    aws_role_arn = models.CharField(
        "AWS role to assume",
        max_length=2048,
        blank=True,
        help_text="The portal's read-only role in this account; blank: default credentials.",
    )
    kube_api_url = models.URLField(
        "Kubernetes API URL",
        blank=True,
        help_text="Explicit API server (demo and tests); blank: kubeconfig context or in-cluster.",
    )
    repo_backend = models.CharField(
        max_length=16,
        choices=[("github", "GitHub"), ("local", "Local git")],
        default="github",
    )
    infra_repo = models.CharField(
        max_length=255,
        blank=True,
        help_text="owner/name (GitHub) or a path (local); blank: default.",
    )
    deploy_repo = models.CharField(
        max_length=255,
        blank=True,
        help_text="owner/name (GitHub) or a path (local); blank: default.",
    )
    base_branch = models.CharField(max_length=255, default="main")
    active = models.BooleanField(default=True, help_text="Inactive clusters take no new requests.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def partition(self) -> str:
        return partition_of(self.region)

    def repository(self, repository: str) -> str:
        """The infra or deploy repository's name: configured here, or the
        portal's default (a folder of ``LOCAL_REPOS_DIR`` for local git)."""
        configured = self.infra_repo if repository == "infra" else self.deploy_repo
        if configured:
            return configured
        if self.repo_backend == "local":
            return str(Path(settings.LOCAL_REPOS_DIR) / f"{repository}.git")
        return settings.PORTAL_INFRA_REPO if repository == "infra" else settings.PORTAL_DEPLOY_REPO

    def clean(self) -> None:
        # Checked here rather than as field validators: same rules, no migration.
        if self.eks_cluster_name and (message := check_cluster_name(self.eks_cluster_name)):
            raise ValidationError({"eks_cluster_name": message})
        if self.aws_role_arn and not IAM_ROLE_ARN.match(self.aws_role_arn):
            raise ValidationError(
                {"aws_role_arn": "An IAM role ARN looks like arn:aws:iam::<account>:role/<name>."}
            )
        # Both pull requests of a request use one branch name: in one
        # repository the deploy run would overwrite the infra files.
        if self.repository("infra") == self.repository("deploy"):
            raise ValidationError(
                {"deploy_repo": "The deploy repository must differ from the infra repository."}
            )
        if self.identity_mode == IdentityMode.IRSA and not self.oidc_issuer:
            raise ValidationError({"oidc_issuer": "IRSA clusters need their OIDC issuer."})
        if self.oidc_issuer and f".{self.region}." not in self.oidc_issuer:
            raise ValidationError(
                {"oidc_issuer": f"The issuer is not in the cluster's region ({self.region})."}
            )
