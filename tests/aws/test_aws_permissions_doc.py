"""docs/aws-permissions.md grants exactly what the adapter may call, and
denies reading secret values."""

from __future__ import annotations

import json
import re

from secrets_app.integrations.aws import ALLOWED_OPERATIONS
from secrets_app.verification.policy_eval import as_list, evaluate, statements
from tests.support.paths import ROOT

DOC = ROOT / "docs" / "aws-permissions.md"
SECRET = "arn:aws:secretsmanager:us-west-2:<ACCOUNT>:secret:dcp-db-password-QWYC1r"


def json_blocks() -> list[dict]:
    text = DOC.read_text(encoding="utf-8")
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.DOTALL)]


def permission_policies() -> list[dict]:
    # Trust policies have principals; permission policies have resources.
    return [d for d in json_blocks() if all("Resource" in s for s in statements(d))]


def test_the_doc_grants_exactly_the_allowed_operations():
    granted = {
        action
        for doc in permission_policies()
        for st in statements(doc)
        if st["Effect"] == "Allow"
        for action in as_list(st["Action"])
    }
    assert granted == ALLOWED_OPERATIONS


def test_every_action_is_explained():
    text = DOC.read_text(encoding="utf-8")
    for action in ALLOWED_OPERATIONS:
        assert f"- `{action}`" in text, action


def test_the_doc_denies_reading_values():
    reader = permission_policies()
    for action in ("secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"):
        assert evaluate(reader, action, SECRET).reason == "explicit_deny"
    assert evaluate(reader, "secretsmanager:DescribeSecret", SECRET).allowed
