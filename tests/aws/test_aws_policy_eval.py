"""The IAM policy evaluator: a decision table, then properties."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secrets_app.verification.policy_eval import (
    LabelledPolicy,
    action_matches,
    evaluate,
    is_allowed,
    resource_matches,
    statements,
    wildcard_match,
)

SECRET = "arn:aws:secretsmanager:us-west-2:123456789012:secret:dcp-db-password-QWYC1r"
OTHER = "arn:aws:secretsmanager:us-west-2:123456789012:secret:dcp-db-password-other-abc123"
GET = "secretsmanager:GetSecretValue"


def doc(*stmts: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(stmts)}


def allow(action: object = GET, resource: object = SECRET, **extra: object) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: object = GET, resource: object = SECRET, **extra: object) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


CASES = [
    # (id, policies, action, resource, allowed, reason)
    ("guide-exact-arn", [doc(allow())], GET, SECRET, True, "allowed"),
    ("no-policies", [], GET, SECRET, False, "implicit_deny"),
    ("statement-as-object", [{"Statement": allow()}], GET, SECRET, True, "allowed"),
    ("action-list", [doc(allow(["s3:GetObject", GET]))], GET, SECRET, True, "allowed"),
    ("resource-list", [doc(allow(GET, [OTHER, SECRET]))], GET, SECRET, True, "allowed"),
    (
        "action-case-insensitive",
        [doc(allow("SecretsManager:getsecretvalue"))],
        GET,
        SECRET,
        True,
        "allowed",
    ),
    ("action-star", [doc(allow("*"))], GET, SECRET, True, "allowed"),
    ("action-service-star", [doc(allow("secretsmanager:*"))], GET, SECRET, True, "allowed"),
    ("action-prefix-star", [doc(allow("secretsmanager:Get*"))], GET, SECRET, True, "allowed"),
    (
        "action-question",
        [doc(allow("secretsmanager:GetSecretValu?"))],
        GET,
        SECRET,
        True,
        "allowed",
    ),
    (
        "action-other",
        [doc(allow("secretsmanager:DescribeSecret"))],
        GET,
        SECRET,
        False,
        "implicit_deny",
    ),
    ("action-other-service", [doc(allow("kms:*"))], GET, SECRET, False, "implicit_deny"),
    ("suffix-pattern", [doc(allow(GET, SECRET[:-7] + "-??????"))], GET, SECRET, True, "allowed"),
    # The guide's warning: name-?????? must not match name-other-abc123.
    (
        "suffix-pattern-not-other",
        [doc(allow(GET, SECRET[:-7] + "-??????"))],
        GET,
        OTHER,
        False,
        "implicit_deny",
    ),
    ("name-star-overreaches", [doc(allow(GET, SECRET[:-7] + "*"))], GET, OTHER, True, "allowed"),
    ("resource-star", [doc(allow(GET, "*"))], GET, SECRET, True, "allowed"),
    (
        "resource-case-sensitive",
        [doc(allow(GET, SECRET.upper()))],
        GET,
        SECRET,
        False,
        "implicit_deny",
    ),
    ("resource-other-arn", [doc(allow(GET, OTHER))], GET, SECRET, False, "implicit_deny"),
    (
        "resource-other-region",
        [doc(allow(GET, SECRET.replace("us-west-2", "us-east-1")))],
        GET,
        SECRET,
        False,
        "implicit_deny",
    ),
    (
        "region-wildcard",
        [doc(allow(GET, SECRET.replace("us-west-2", "*")))],
        GET,
        SECRET,
        True,
        "allowed",
    ),
    # A wildcard stays inside its ARN segment: "*" for the region can't eat the account.
    (
        "segment-bound",
        [doc(allow(GET, "arn:aws:secretsmanager:*:secret:*"))],
        GET,
        SECRET,
        False,
        "implicit_deny",
    ),
    ("explicit-deny-wins", [doc(allow(), deny())], GET, SECRET, False, "explicit_deny"),
    (
        "deny-in-other-policy",
        [doc(allow("*", "*")), doc(deny("secretsmanager:*", "*"))],
        GET,
        SECRET,
        False,
        "explicit_deny",
    ),
    ("deny-other-resource", [doc(allow(), deny(GET, OTHER))], GET, SECRET, True, "allowed"),
    (
        "not-action-allow",
        [doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})],
        GET,
        SECRET,
        True,
        "allowed",
    ),
    (
        "not-action-excludes",
        [doc({"Effect": "Allow", "NotAction": "secretsmanager:*", "Resource": "*"})],
        GET,
        SECRET,
        False,
        "implicit_deny",
    ),
    (
        "not-resource-allow",
        [doc({"Effect": "Allow", "Action": GET, "NotResource": OTHER})],
        GET,
        SECRET,
        True,
        "allowed",
    ),
    (
        "not-resource-excludes",
        [doc({"Effect": "Allow", "Action": GET, "NotResource": SECRET})],
        GET,
        SECRET,
        False,
        "implicit_deny",
    ),
    (
        "deny-not-resource",
        [doc(allow(), {"Effect": "Deny", "Action": GET, "NotResource": OTHER})],
        GET,
        SECRET,
        False,
        "explicit_deny",
    ),
    (
        "no-resource-clause",
        [doc({"Effect": "Allow", "Action": GET})],
        GET,
        SECRET,
        False,
        "implicit_deny",
    ),
    (
        "conditional-allow-ignored",
        [doc(allow(Condition={"StringEquals": {"aws:PrincipalTag/team": "dcp"}}))],
        GET,
        SECRET,
        False,
        "conditional_allow_only",
    ),
    (
        "conditional-deny-withholds",
        [doc(allow(), deny(Condition={"Bool": {"aws:SecureTransport": "false"}}))],
        GET,
        SECRET,
        False,
        "conditional_deny",
    ),
    (
        "conditional-deny-alone",
        [doc(deny(Condition={"Bool": {"aws:ViaAWSService": "true"}}))],
        GET,
        SECRET,
        False,
        "implicit_deny",
    ),
    (
        "policy-variable-is-conditional",
        [doc(allow(GET, "arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team}-*"))],
        GET,
        SECRET,
        False,
        "conditional_allow_only",
    ),
    (
        "effect-is-case-sensitive",
        [doc({"Effect": "allow", "Action": GET, "Resource": SECRET})],
        GET,
        SECRET,
        False,
        "implicit_deny",
    ),
    ("json-text", [json.dumps(doc(allow()))], GET, SECRET, True, "allowed"),
    (
        "kms-decrypt",
        [doc(allow("kms:Decrypt", "arn:aws:kms:us-west-2:123456789012:key/*"))],
        "kms:Decrypt",
        "arn:aws:kms:us-west-2:123456789012:key/1234abcd",
        True,
        "allowed",
    ),
]


@pytest.mark.parametrize(
    ("policies", "action", "resource", "allowed", "reason"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_decision_table(policies, action, resource, allowed, reason):
    decision = evaluate(policies, action, resource)
    assert (decision.allowed, decision.reason) == (allowed, reason)


def test_decision_names_the_statements():
    policies = [
        LabelledPolicy("attached policy P", doc(allow(Sid="Secrets"))),
        LabelledPolicy("inline policy guard", doc(deny(Sid="NoProd"))),
    ]
    decision = evaluate(policies, GET, SECRET)
    assert [str(r) for r in decision.allowed_by] == ["statement 'Secrets' of attached policy P"]
    assert [str(r) for r in decision.denied_by] == ["statement 'NoProd' of inline policy guard"]


def test_statements_accepts_object_list_and_text():
    one = allow()
    assert statements({"Statement": one}) == [one]
    assert statements({"Statement": [one, one]}) == [one, one]
    assert statements(json.dumps({"Statement": [one]})) == [one]
    assert statements({}) == []


# -- properties -------------------------------------------------------------

SEGMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFXYZ0123456789-_/.:", max_size=12)
NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFXYZ0123456789", min_size=1, max_size=10)
ACTIONS = st.builds(lambda s, n: f"{s}:{n}", NAME, NAME)
RESOURCES = st.builds(
    lambda svc, region, acct, res: f"arn:aws:{svc}:{region}:{acct}:{res}",
    NAME,
    NAME,
    st.integers(10**11, 10**12 - 1).map(str),
    SEGMENT,
)
PATTERN_CHARS = st.text(alphabet="ab*?", max_size=8)
VALUES = st.text(alphabet="ab", max_size=8)
# Few, fast examples and no deadline: the suite shares a busy CI machine.
PROPERTY = settings(max_examples=40, deadline=None)


def reference_glob(pattern: str, value: str) -> bool:
    """Plain recursive glob, the specification the regex version must meet."""
    if not pattern:
        return not value
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        return any(reference_glob(rest, value[i:]) for i in range(len(value) + 1))
    if not value:
        return False
    return (head == "?" or head == value[0]) and reference_glob(rest, value[1:])


@PROPERTY
@given(PATTERN_CHARS, VALUES)
def test_glob_agrees_with_reference(pattern, value):
    assert wildcard_match(pattern, value) == reference_glob(pattern, value)


@PROPERTY
@given(ACTIONS, RESOURCES)
def test_an_exact_allow_grants(action, resource):
    assert is_allowed([doc(allow(action, resource))], action, resource)


@PROPERTY
@given(ACTIONS, RESOURCES)
def test_literal_strings_match_themselves_and_star_matches_all(action, resource):
    assert action_matches(action, action)
    assert action_matches(action.swapcase(), action)
    assert action_matches("*", action)
    assert resource_matches(resource, resource)
    assert resource_matches("*", resource)


@PROPERTY
@given(st.lists(st.tuples(ACTIONS, RESOURCES), min_size=1, max_size=5), ACTIONS, RESOURCES)
def test_a_blanket_deny_beats_any_allows(grants, action, resource):
    policies = [doc(*(allow(a, r) for a, r in grants), allow("*", "*"))]
    assert is_allowed(policies, action, resource)
    policies.append(doc(deny("*", "*")))
    decision = evaluate(policies, action, resource)
    assert not decision.allowed
    assert decision.reason == "explicit_deny"


@PROPERTY
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Allow", "Deny"]), ACTIONS | st.just("*"), RESOURCES | st.just("*")
        ),
        max_size=6,
    ),
    ACTIONS,
    RESOURCES,
    st.randoms(use_true_random=False),
)
def test_order_and_grouping_do_not_matter(stmts, action, resource, rnd: random.Random):
    as_dicts = [{"Effect": e, "Action": a, "Resource": r} for e, a, r in stmts]
    together = evaluate([doc(*as_dicts)], action, resource)
    shuffled = as_dicts[:]
    rnd.shuffle(shuffled)
    one_each = evaluate([doc(s) for s in shuffled], action, resource)
    assert (together.allowed, together.reason) == (one_each.allowed, one_each.reason)


@PROPERTY
@given(ACTIONS, RESOURCES, st.dictionaries(NAME, NAME, min_size=1, max_size=2))
def test_conditions_never_grant(action, resource, cond):
    conditional = allow(action, resource, Condition={"StringEquals": cond})
    assert not is_allowed([doc(conditional)], action, resource)
