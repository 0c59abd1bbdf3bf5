"""Import discovery without a database: parsing classes (hostile input
included), joining pods, classes and ServiceAccounts, the proposal, and the
cost of reading a loopback cluster."""

from __future__ import annotations

import math
import time

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes import legacy_objects as legacy
from fakes.kube_api import FakeKubeApi
from secrets_app.bindings.discovery import (
    MAX_WORKLOADS,
    discover,
    guess_service,
    join,
    propose,
)
from secrets_app.bindings.import_classes import (
    MAX_OBJECTS,
    MAX_SHOWN,
    Defaults,
    parse_objects,
    read_class,
    shown,
)
from secrets_app.health import wire
from secrets_app.health.collector import _pod_info
from secrets_app.integrations.kube import connect_host

D = Defaults("aws", "us-west-2", "287796791794")
ARN = legacy.secret_arn("team/db-password")
ROLE = legacy.role_arn("payments-irsa")
HOSTILE = '<script>alert("x")</script>&amp;'


def objects(entries) -> str:
    return legacy.objects_yaml(entries)


def pods_of(*objs):
    infos = [_pod_info(msgspec.convert(o, wire.Pod)) for o in objs if o["kind"] == "Pod"]
    return [i for i in infos if i is not None]  # None: no secrets-store volume


def classes_of(*objs):
    records = [read_class(o, D) for o in objs if o["kind"] == "SecretProviderClass"]
    return {(r.namespace, r.name): r for r in records if r is not None}


def accounts_of(*objs):
    return {
        (o["metadata"]["namespace"], o["metadata"]["name"]): (
            o["metadata"].get("annotations") or {}
        ).get(legacy.ROLE_ANNOTATION, "")
        for o in objs
        if o["kind"] == "ServiceAccount"
    }


def join_objects(objs):
    return join(pods_of(*objs), classes_of(*objs), accounts_of(*objs))


# -- the objects parameter --------------------------------------------------------


def test_it_reads_arns_names_aliases_and_json_keys():
    text = objects(
        [
            {"objectName": ARN, "objectAlias": "db-password"},
            {"objectName": "plain/name", "objectType": "secretsmanager"},
            {
                "objectName": "api-keys",
                "objectAlias": "keys",
                "jmesPath": [{"path": "token", "objectAlias": "token"}],
            },
        ]
    )
    secrets, problems = parse_objects(text, D)
    assert problems == []
    assert secrets == [
        {"arn": ARN, "name": "team/db-password", "alias": "db-password", "keys": []},
        {
            # A name, not an ARN: a partial ARN in the class's region and the account.
            "arn": "arn:aws:secretsmanager:us-west-2:287796791794:secret:plain/name",
            "name": "plain/name",
            # No alias: the provider names the file after objectName, '/' as '_'.
            "alias": "plain_name",
            "keys": [],
        },
        {
            "arn": "arn:aws:secretsmanager:us-west-2:287796791794:secret:api-keys",
            "name": "api-keys",
            "alias": "keys",
            "keys": ["token"],
        },
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "has no objects parameter"),
        ("", "has no objects parameter"),
        (42, "not a string"),
        ("- objectName: [unclosed", "not valid YAML"),
        ("objectName: x", "must be a YAML list"),
        ("just a string", "must be a YAML list"),
        ("!!python/object/apply:os.system ['echo pwned']", "not valid YAML"),
        ("- !!python/name:os.system {}", "not valid YAML"),
        ("\t- objectName: x", "not valid YAML"),
        ("[" * 5000 + "]" * 5000, "not valid YAML"),  # nesting deeper than the stack
        ("- " * 3000 + "x", "not valid YAML"),
        ("x" * (40 * 1024), "too large to read"),
        ("- objectName: " + "a" * (33 * 1024), "too large to read"),
    ],
)
def test_a_malformed_objects_parameter_is_a_problem_not_an_error(text, expected):
    secrets, problems = parse_objects(text, D)
    assert secrets == []
    assert len(problems) == 1 and expected in problems[0]
    assert all(len(p) < 300 for p in problems)


def test_bad_entries_are_skipped_with_a_reason_each():
    text = objects(
        [
            "not a mapping",
            {"objectAlias": "no-name"},
            {"objectName": 12345},
            {"objectName": "   "},
            {"objectName": "/app/param", "objectType": "ssmparameter"},
            {"objectName": "arn:aws:s3:::my-bucket"},
            {"objectName": HOSTILE},
            {"objectName": "ok", "objectAlias": "../../etc/passwd"},
            {"objectName": "ok", "objectAlias": ["list"]},
            {"objectName": "keys", "jmesPath": "not-a-list"},
            {"objectName": "first", "objectAlias": "same"},
            {"objectName": "second", "objectAlias": "same"},
        ]
    )
    secrets, problems = parse_objects(text, D)
    assert [s["name"] for s in secrets] == ["keys", "first"]
    assert secrets[0]["keys"] == []  # the malformed jmesPath is dropped, the secret kept
    assert len(problems) == 11
    joined = "\n".join(problems)
    for fragment in (
        "Object 1 is not a mapping",
        "Object 2 has no objectName",
        "Object 3 has no objectName",
        "Object 4 has no objectName",
        "only Secrets Manager secrets",
        "not a Secrets Manager secret ARN",
        "invalid objectAlias",
        "jmesPath must be a list",
        "duplicate alias same",
    ):
        assert fragment in joined


def test_anchors_cannot_blow_up_and_only_the_first_objects_are_read():
    # "Billion laughs": safe_load shares the aliased lists, and only the
    # first MAX_OBJECTS entries are looked at.
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for n in "bcdefghi":
        prev = chr(ord(n) - 1)
        laughs += f"{n}: &{n} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    laughs += "objects: [*i, *i]\n"
    started = time.monotonic()
    secrets, problems = parse_objects(laughs, D)
    assert secrets == [] and "must be a YAML list" in problems[0]
    shared = "- &x {objectName: shared, objectAlias: a}\n" + "- *x\n" * 500
    secrets, problems = parse_objects(shared, D)
    assert [s["name"] for s in secrets] == ["shared"]
    assert problems[0] == f"Only the first {MAX_OBJECTS} of 501 objects are read."
    assert len(problems) == MAX_OBJECTS  # and 99 duplicate aliases
    text = objects([{"objectName": f"s-{i}", "objectAlias": f"a-{i}"} for i in range(150)])
    secrets, problems = parse_objects(text, D)
    assert len(secrets) == MAX_OBJECTS
    assert problems == [f"Only the first {MAX_OBJECTS} of 150 objects are read."]
    assert time.monotonic() - started < 10


def test_hostile_values_are_quoted_bounded_and_on_one_line():
    assert shown("a\nb\x00c") == "a?b?c"
    assert len(shown("x" * 10_000)) == MAX_SHOWN
    assert shown(["not", "a", "string"]) == "list"
    _, problems = parse_objects(objects([{"objectName": HOSTILE + "\n" + "y" * 500}]), D)
    assert len(problems) == 1 and len(problems[0]) < 400 and "\n" not in problems[0]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_any_text_parses_without_raising(text):
    secrets, problems = parse_objects(text, D)
    assert isinstance(secrets, list) and isinstance(problems, list)
    for s in secrets:
        assert len(s["arn"]) <= 2048 and len(s["name"]) <= 512 and len(s["alias"]) <= 253


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
entries = st.dictionaries(
    st.sampled_from(["objectName", "objectAlias", "objectType", "jmesPath", "other"]),
    yaml_values,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(entries | yaml_values, max_size=8))
def test_any_yaml_structure_parses_without_raising(data):
    secrets, problems = parse_objects(legacy.objects_yaml(data), D)
    assert len(secrets) + len(problems) >= min(1, len(data))


# -- one class ----------------------------------------------------------------------


def test_only_classes_of_the_aws_provider_with_valid_names_are_read():
    good = legacy.secret_provider_class("ns", "app-secrets", objects=[{"objectName": ARN}])
    assert read_class(good, D).objects[0]["arn"] == ARN
    assert read_class({**good, "spec": {**good["spec"], "provider": "azure"}}, D) is None
    bad_name = legacy.secret_provider_class("ns", "Bad_Name<b>", objects=[{"objectName": ARN}])
    assert read_class(bad_name, D) is None
    for hostile in (None, [], "x", {"metadata": "x", "spec": {}}, {"metadata": {}, "spec": 1}):
        assert read_class(hostile, D) is None


def test_a_class_region_names_where_plain_secret_names_live():
    spc = legacy.secret_provider_class(
        "ns",
        "app",
        objects=[{"objectName": "db"}],
        region="eu-west-1",
        synced=["app-env", "Not Valid!"],
        parameters={"usePodIdentity": "TRUE"},
    )
    record = read_class(spc, D)
    assert record.objects[0]["arn"] == "arn:aws:secretsmanager:eu-west-1:287796791794:secret:db"
    assert record.use_pod_identity is True
    assert record.synced_secrets == ["app-env"]
    bad = legacy.secret_provider_class("ns", "app", objects=[{"objectName": "db"}], region=HOSTILE)
    record = read_class(bad, D)
    assert record.region == "us-west-2"
    assert "is not an AWS region" in record.problems[0]
    odd = legacy.secret_provider_class("ns", "app", objects=[], parameters={"objects": ["x"]})
    odd["spec"]["parameters"]["usePodIdentity"] = True  # not a string: not Pod Identity
    record = read_class(odd, D)
    assert record.problems == ["The objects parameter is not a string."]
    assert record.use_pod_identity is False


# -- joining --------------------------------------------------------------------------


def test_a_hand_made_binding_is_one_candidate_with_its_deployment():
    objs = legacy.hand_made_binding("payments", "ledger", secrets=["team/db-password"])
    [found] = join_objects(objs)
    assert (found.namespace, found.service_account) == ("payments", "ledger-secrets")
    assert found.role_arn == legacy.role_arn("ledger-irsa")
    assert found.service == "ledger"
    assert [c["name"] for c in found.classes] == ["ledger-secrets"]
    assert found.classes[0]["objects"][0]["arn"] == ARN
    assert found.workloads == [
        {
            "kind": "Deployment",
            "name": "ledger",
            "secret_provider_class": "ledger-secrets",
            "pods": 2,
        }
    ]


def test_workloads_come_from_owner_references():
    objs = [
        legacy.service_account("ns", "shared", role=ROLE),
        legacy.secret_provider_class("ns", "spc", objects=[{"objectName": ARN}]),
        *legacy.deployment_pods("ns", "web-api", service_account_name="shared", classes=["spc"]),
        *legacy.statefulset_pods("ns", "db", service_account_name="shared", classes=["spc"]),
        legacy.pod("ns", "debug", service_account_name="shared", classes=["spc"]),
        # Not mounting an AWS class, or another ServiceAccount, or another namespace.
        legacy.pod("ns", "plain", service_account_name="shared", classes=[]),
        legacy.pod("ns", "other", service_account_name="other", classes=["missing"]),
        legacy.pod("elsewhere", "x", service_account_name="shared", classes=["spc"]),
    ]
    [found] = join_objects(objs)
    assert [(w["kind"], w["name"], w["pods"]) for w in found.workloads] == [
        ("Deployment", "web-api", 2),
        ("Pod", "debug", 1),
        ("StatefulSet", "db", 1),
    ]
    proposal = propose("shared", ROLE, found.classes, found.workloads)
    assert (proposal.workload_kind, proposal.workload_name) == ("Deployment", "web-api")
    assert any("Other workloads mount spc too (debug, db)" in w for w in proposal.warnings)


def test_a_scaled_down_binding_is_found_by_the_guides_naming():
    objs = [
        legacy.service_account("ns", "app-secrets", role=ROLE),
        legacy.secret_provider_class("ns", "app-secrets", objects=[{"objectName": ARN}]),
        # A role annotation without a class of that name is not about secrets.
        legacy.service_account("ns", "s3-reader", role=ROLE),
        # A class of another provider is not ours.
        legacy.service_account("ns", "vaulted", role=ROLE),
        legacy.secret_provider_class("ns", "vaulted", objects="x", provider="vault"),
    ]
    [found] = join_objects(objs)
    assert (found.service_account, found.workloads, found.service) == ("app-secrets", [], "app")
    proposal = propose(found.service_account, found.role_arn, found.classes, found.workloads)
    assert proposal.adoptable
    assert (proposal.workload_kind, proposal.workload_name) == ("Deployment", "app")
    assert "No running pod mounts app-secrets" in proposal.warnings[0]


def test_hostile_names_from_the_cluster_are_skipped_or_bounded():
    long_owner = "w" * 400
    objs = [
        legacy.service_account("ns", "sa", role=ROLE),
        legacy.secret_provider_class("ns", "spc", objects=[{"objectName": ARN}]),
        legacy.pod(
            "ns", "p1", service_account_name="sa", classes=["spc"], owner=("Job", long_owner)
        ),
        legacy.pod("ns", "p2", service_account_name="Bad SA <b>", classes=["spc"]),
        legacy.pod("ns", "p3", service_account_name="sa", classes=["spc"], owner=("K" * 40, "x")),
    ]
    found = join_objects(objs)
    assert [f.service_account for f in found] == ["sa"]
    kinds = {w["kind"] for w in found[0].workloads}
    assert kinds == {"Job", "K" * 16}
    assert all(len(w["name"]) <= 253 for w in found[0].workloads)
    many = [
        legacy.pod("ns", f"p-{i}", service_account_name="sa", classes=["spc"]) for i in range(70)
    ]
    [found] = join_objects([*objs[:2], *many])
    assert len(found.workloads) == MAX_WORKLOADS


# -- the proposal -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "annotation",
    [
        "not-an-arn",
        "arn:aws:iam::287796791794:user/alice",
        "arn:aws:iam::12345:role/short-account",
        "arn:aws:iam::287796791794:role/" + "r" * 65,
        HOSTILE,
        "arn:aws:iam::287796791794:role/ok\nsecond-line",
        "x" * 5000,
    ],
)
def test_an_annotation_that_is_no_role_arn_blocks_adoption(annotation):
    classes = classes_of(legacy.secret_provider_class("ns", "sa", objects=[{"objectName": ARN}]))
    proposal = propose("sa", annotation[:2048], [c.as_json() for c in classes.values()], [])
    assert not proposal.adoptable
    assert "is not an IAM role ARN" in proposal.blocking[0]
    assert len(proposal.blocking[0]) < 250 and "\n" not in proposal.blocking[0]


def test_role_paths_and_partitions_are_role_arns():
    spc = [{"name": "sa", "objects": [{"arn": ARN, "name": "n", "alias": "a"}]}]
    for role in (ROLE, "arn:aws-cn:iam::287796791794:role/team/path/app-irsa"):
        assert propose("sa", role, spc, []).adoptable


def test_without_a_role_only_pod_identity_can_mount():
    secret = [{"arn": ARN, "name": "n", "alias": "a"}]
    irsa = [{"name": "sa", "objects": secret, "use_pod_identity": False}]
    pod_identity = [{"name": "sa", "objects": secret, "use_pod_identity": True}]
    assert "no eks.amazonaws.com/role-arn annotation" in propose("sa", "", irsa, []).blocking[0]
    assert propose("sa", "", pod_identity, []).adoptable


def test_a_class_without_readable_secrets_or_no_class_blocks_adoption():
    empty = [{"name": "sa", "objects": [], "problems": ["The objects parameter is not valid"]}]
    proposal = propose("sa", ROLE, empty, [])
    assert "names no Secrets Manager secret" in proposal.blocking[0]
    assert "No SecretProviderClass" in propose("sa", ROLE, [], []).blocking[0]
    assert not propose("sa", ROLE, ["junk", {"name": ""}], []).adoptable


def test_with_several_classes_the_one_named_like_the_service_account_is_recorded():
    secret = [{"arn": ARN, "name": "n", "alias": "a"}]
    classes = [{"name": "aaa", "objects": secret}, {"name": "app-secrets", "objects": secret}]
    proposal = propose("app-secrets", ROLE, classes, [])
    assert proposal.secret_provider_class == "app-secrets"
    assert "It also mounts aaa; the binding records app-secrets only." in proposal.warnings


@pytest.mark.parametrize(
    ("workload", "account", "service"),
    [
        ("ledger", "ledger-secrets", "ledger"),
        ("", "ledger-secrets", "ledger"),
        ("", "ledger", "ledger"),
        ("w" * 70, "api-secrets", "api"),  # too long for a service name
        ("Upper", "x.y-secrets", "x.y-secrets"[:63]),
        ("", "a" * 70 + "-secrets", ("a" * 70)[:63]),
    ],
)
def test_the_service_name_is_guessed_as_a_dns_label(workload, account, service):
    assert guess_service(workload, account) == service


name_text = st.text(min_size=0, max_size=80)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    namespace=name_text,
    account=name_text,
    spc=name_text,
    owner=name_text,
    role=st.text(max_size=300),
    objects_text=st.text(max_size=200),
)
def test_joining_and_proposing_never_raise(namespace, account, spc, owner, role, objects_text):
    objs = [
        legacy.service_account(namespace, account, role=role),
        legacy.secret_provider_class(namespace, spc, objects=objects_text),
        legacy.pod(namespace, "p", service_account_name=account, classes=[spc], owner=("X", owner)),
    ]
    for found in join_objects(objs):
        proposal = propose(found.service_account, found.role_arn, found.classes, found.workloads)
        assert len(proposal.service) <= 63
        assert proposal.adoptable == (not proposal.blocking)


# -- reading a cluster --------------------------------------------------------------------


@pytest.fixture
def fake():
    server = FakeKubeApi().start()
    yield server
    server.stop()


def test_discovery_costs_one_paginated_list_per_kind(fake):
    objs = []
    for i in range(7):
        objs += legacy.hand_made_binding("team-a", f"app-{i}", replicas=2)
    objs.append(legacy.service_account("team-b", "default"))
    fake.add_many(objs)
    with connect_host(fake.url) as kube:
        result = discover(kube, D)
    assert [f.service for f in result.found] == [f"app-{i}" for i in range(7)]
    assert result.requests == 3 == len(fake.requests)
    assert result.seen == {"secretproviderclasses": 7, "pods": 14, "serviceaccounts": 8}
    sa_list = [r for r in fake.requests if r.path.endswith("/serviceaccounts")]
    assert "PartialObjectMetadataList" in sa_list[0].accept  # annotations only
    fake.clear_requests()
    with connect_host(fake.url) as kube:
        paged = discover(kube, D, page_size=3)
    expected = sum(math.ceil(n / 3) for n in (7, 14, 8))
    assert paged.requests == expected == len(fake.requests)
    assert [f.service for f in paged.found] == [f.service for f in result.found]


def test_an_empty_cluster_costs_three_requests_and_finds_nothing(fake):
    with connect_host(fake.url) as kube:
        result = discover(kube, D)
    assert (result.found, result.requests) == ([], 3)
