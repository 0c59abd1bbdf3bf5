"""Which repository files define an imported binding (``bindings.files.locate``),
on files already read: found, refused, and the files it must not touch."""

from __future__ import annotations

from dataclasses import replace

import pytest

from secrets_app.bindings.files import Wanted, Where, locate
from secrets_app.rendering import render_binding
from secrets_app.requests.specs import spec_for_request
from tests.factories import ClusterFactory
from tests.inventory.revocation_support import (
    DEPLOYMENT,
    IMPORTED_FILES,
    ROLE_TF,
    SA,
    SPC,
    repository_files,
)
from tests.support.access_requests import make_pending

WANTED = Wanted(
    namespace="legacy",
    service_account="ledger",
    secret_provider_class="ledger-secrets",
    role_name="legacy-ledger",
    hints=("janus-dev", "287796791794"),
)
WHERE = Where({"infra": "acme/infra", "deploy": "acme/deploy"}, "main")
FOUND = {r: sorted(IMPORTED_FILES[r]) for r in ("infra", "deploy")}


def problems(**changes) -> list[str]:
    return locate(repository_files(**changes), WANTED, WHERE).problems


def test_it_finds_the_three_definitions_at_any_path():
    found = locate(repository_files(), WANTED, WHERE)
    assert found.problems == [] and found.deletes == FOUND


def test_files_that_do_not_parse_are_skipped():
    broken = {
        "k8s/chart/templates/sa.yaml": "{{ if .Values.ledger }}\nname: ledger\n{{ end }}\n",
        "k8s/bad.yaml": "ledger: [unclosed\n",
        "terraform/broken.tf": 'resource "aws_iam_role" "x" { name = "legacy-ledger"\n',
    }
    found = locate(repository_files(deploy=broken), WANTED, WHERE)
    assert found.problems == [] and found.deletes == FOUND


def test_a_file_with_both_objects_is_deleted_once():
    files = repository_files(
        deploy={
            "k8s/legacy/ledger/sa.yaml": None,
            "k8s/legacy/ledger/secretclass.yml": None,
            "k8s/legacy/ledger/access.yaml": SA + "---\n" + SPC + "---\n",
        }
    )
    found = locate(files, WANTED, WHERE)
    assert found.problems == []
    assert found.deletes["deploy"] == ["k8s/legacy/ledger/access.yaml"]


def test_the_same_name_in_another_namespace_is_not_the_binding():
    elsewhere = SA.replace("namespace: legacy", "namespace: payments")
    assert problems(deploy={"k8s/legacy/ledger/sa.yaml": None, "k8s/payments/sa.yaml": elsewhere})
    # ... and never a file to delete.
    found = locate(repository_files(deploy={"k8s/payments/sa.yaml": elsewhere}), WANTED, WHERE)
    assert found.deletes == FOUND


def test_copies_per_cluster_are_told_apart_by_the_path_else_refused():
    copies = {
        "clusters/janus-dev/ledger/sa.yaml": SA,
        "clusters/janus-prod/ledger/sa.yaml": SA,
    }
    found = locate(
        repository_files(deploy={"k8s/legacy/ledger/sa.yaml": None, **copies}), WANTED, WHERE
    )
    assert found.problems == []
    assert "clusters/janus-dev/ledger/sa.yaml" in found.deletes["deploy"]
    assert "clusters/janus-prod/ledger/sa.yaml" not in found.deletes["deploy"]

    unmarked = {"a/sa.yaml": SA, "b/sa.yaml": SA}
    (reason,) = problems(deploy={"k8s/legacy/ledger/sa.yaml": None, **unmarked})
    assert "ServiceAccount legacy/ledger is declared in several files (a/sa.yaml, b/sa.yaml)" in (
        reason
    )


def test_a_file_that_defines_more_than_the_binding_is_refused():
    (reason,) = problems(deploy={"k8s/legacy/ledger/secretclass.yml": SPC + "---\n" + DEPLOYMENT})
    assert reason == "k8s/legacy/ledger/secretclass.yml also defines Deployment legacy/ledger"
    (reason,) = problems(deploy={"k8s/legacy/ledger/sa.yaml": SA + "---\n- a list\n"})
    assert "also defines content that is not a Kubernetes object" in reason


@pytest.mark.parametrize(
    "extra, declared",
    [
        ('provider "aws" {\n  region = "us-west-2"\n}\n', 'provider "aws"'),
        ('resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n', 'resource "aws_s3_bucket"'),
        ('variable "env" {}\n', 'variable "env"'),
        ('resource "aws_iam_policy" "unrelated" {\n  policy = "{}"\n}\n', '"unrelated"'),
    ],
)
def test_a_role_file_with_other_blocks_is_refused(extra, declared):
    (reason,) = problems(infra={"terraform/roles/ledger.tf": ROLE_TF + extra})
    assert reason.startswith("terraform/roles/ledger.tf also declares") and declared in reason


def test_the_role_may_keep_its_locals_policies_and_attachments():
    tf = ROLE_TF.replace('"sts:AssumeRoleWithWebIdentity"', "local.assume") + (
        'locals {\n  assume = "sts:AssumeRoleWithWebIdentity"\n}\n'
        'resource "aws_iam_policy" "extra" {\n  policy = "{}"\n}\n'
        'resource "aws_iam_role_policy_attachment" "extra" {\n'
        "  role       = aws_iam_role.ledger.name\n"
        "  policy_arn = aws_iam_policy.extra.arn\n}\n"
    )
    assert problems(infra={"terraform/roles/ledger.tf": tf}) == []


@pytest.mark.django_db
def test_the_portals_own_terraform_and_manifests_are_recognised():
    rendered = render_binding(spec_for_request(make_pending(ClusterFactory())))
    files = {r: dict(rendered.files[r]) for r in ("infra", "deploy")}
    names = rendered.names
    wanted = Wanted(
        namespace=names.namespace,
        service_account=names.service_account,
        secret_provider_class=names.secret_provider_class,
        role_name=names.role_arn.rsplit("/", 1)[-1],
    )
    found = locate(files, wanted, WHERE)
    assert found.deletes["infra"] == sorted(files["infra"])  # role, policies, attachment, output
    assert {p.rsplit("/", 1)[1] for p in found.deletes["deploy"]} == {
        "serviceaccount.yaml",
        "secretproviderclass.yaml",
    }
    # Only the portal's kustomization component, which lists both, holds it back.
    assert len(found.problems) == 2 and all("kustomization.yaml lists" in p for p in found.problems)


def test_files_others_depend_on_are_refused():
    listing = "resources:\n- ledger/sa.yaml\n- ledger/deployment.yaml\n"
    (reason,) = problems(deploy={"k8s/legacy/kustomization.yaml": listing})
    assert reason == "k8s/legacy/kustomization.yaml lists k8s/legacy/ledger/sa.yaml"

    patch = "patches:\n- path: secretclass.yml\n"
    (reason,) = problems(deploy={"k8s/legacy/ledger/kustomization.yaml": patch})
    assert reason.endswith("lists k8s/legacy/ledger/secretclass.yml")

    user = 'output "ledger" {\n  value = aws_iam_role.ledger.arn\n}\n'
    (reason,) = problems(infra={"terraform/roles/outputs.tf": user})
    assert reason == (
        "terraform/roles/outputs.tf refers to aws_iam_role.ledger declared in "
        "terraform/roles/ledger.tf"
    )
    # Another folder is another Terraform module: it cannot refer to it.
    assert problems(infra={"terraform/other/outputs.tf": user}) == []


def test_a_repository_with_nothing_to_delete_is_refused():
    moved = {"k8s/ledger-role.tf": ROLE_TF}
    (reason,) = problems(infra={"terraform/roles/ledger.tf": None}, deploy=moved)
    assert reason == (
        "nothing of the binding is in the infra repository (acme/infra): "
        "its pull request would be empty"
    )


def test_every_reason_is_given_at_once():
    found = locate({"infra": {}, "deploy": {}}, WANTED, WHERE)
    assert len(found.problems) == 3
    assert all("acme/infra and acme/deploy on main" in p for p in found.problems)


def test_a_binding_without_a_class_or_role_name_is_refused_for_it():
    unnamed = replace(WANTED, secret_provider_class="", role_name="")
    found = locate(repository_files(), unnamed, WHERE)
    assert found.problems == [
        "the binding names no IAM role",
        "the binding names no SecretProviderClass",
    ]
