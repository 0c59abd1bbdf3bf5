"""Repositories and bindings for the revocation-files tests: an imported
binding ("ledger" in namespace "legacy") whose files live at paths the portal
never chose, next to files that are not its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from secrets_app.integrations.localgit import LocalGitBackend, init_demo_repository
from secrets_app.models import Binding, Cluster
from tests.factories import BindingFactory, BindingSecretFactory, ClusterFactory

ROLE_ARN = "arn:aws:iam::287796791794:role/legacy-ledger"

SA = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: ledger
  namespace: legacy
  annotations:
    eks.amazonaws.com/role-arn: arn:aws:iam::287796791794:role/legacy-ledger
"""
SPC = """\
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: ledger-secrets
  namespace: legacy
spec:
  provider: aws
  parameters:
    objects: |
      - objectName: dcp-db-password
        objectType: secretsmanager
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ledger
  namespace: legacy
spec:
  template:
    spec:
      serviceAccountName: ledger
"""
OTHER_SA = SA.replace("name: ledger", "name: billing").replace("legacy-ledger", "billing")
ROLE_TF = """\
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
  }
}

data "aws_iam_policy_document" "read" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:aws:secretsmanager:us-west-2:287796791794:secret:dcp-db-password-QWYC1r"]
  }
}

resource "aws_iam_role" "ledger" {
  name               = "legacy-ledger"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_role_policy" "ledger" {
  role   = aws_iam_role.ledger.id
  policy = data.aws_iam_policy_document.read.json
}

output "ledger_role_arn" {
  value = aws_iam_role.ledger.arn
}
"""
OTHER_ROLE_TF = """\
resource "aws_iam_role" "billing" {
  name               = "billing"
  assume_role_policy = "{}"
}
"""
PROVIDER_TF = 'provider "aws" {\n  region = "us-west-2"\n}\n'

#: The imported binding's files, per repository, at hand-chosen paths.
IMPORTED_FILES = {
    "infra": {"terraform/roles/ledger.tf": ROLE_TF},
    "deploy": {"k8s/legacy/ledger/sa.yaml": SA, "k8s/legacy/ledger/secretclass.yml": SPC},
}
#: What lives next to them and must stay.
NEIGHBOURS = {
    "infra": {
        "README.md": "# infra\n",
        "terraform/main.tf": PROVIDER_TF,
        "terraform/roles/billing.tf": OTHER_ROLE_TF,
    },
    "deploy": {
        "README.md": "# deploy\n",
        "k8s/legacy/ledger/deployment.yaml": DEPLOYMENT,
        "k8s/legacy/billing/sa.yaml": OTHER_SA,
    },
}


def repository_files(**changes: dict[str, str | None]) -> dict[str, dict[str, str]]:
    """The imported binding's files and their neighbours, per repository;
    ``changes[repository]`` adds or replaces files (None removes one)."""
    files = {r: {**NEIGHBOURS[r], **IMPORTED_FILES[r]} for r in ("infra", "deploy")}
    for repository, edits in changes.items():
        for path, text in edits.items():
            if text is None:
                files[repository].pop(path, None)
            else:
                files[repository][path] = text
    return files


def local_cluster(settings: Any, tmp_path: Path, files: dict[str, dict[str, str]]) -> Cluster:
    """A cluster whose repositories are local git repositories holding ``files``."""
    settings.LOCAL_REPOS_DIR = tmp_path
    for repository in ("infra", "deploy"):
        init_demo_repository(tmp_path / f"{repository}.git", files=files[repository])
    return ClusterFactory(name="janus-local", repo_backend="local")


def local_files(cluster: Cluster, repository: str, ref: str = "main") -> dict[str, str]:
    return LocalGitBackend(cluster.repository(repository)).read_files(ref)


def imported_binding(cluster: Cluster, **fields: Any) -> Binding:
    binding = BindingFactory(
        cluster=cluster,
        request=None,
        source="imported",
        owner=None,
        namespace="legacy",
        service="ledger",
        service_account="ledger",
        secret_provider_class="ledger-secrets",
        role_arn=ROLE_ARN,
        workload_name="ledger",
        **fields,
    )
    BindingSecretFactory(binding=binding)
    return binding
