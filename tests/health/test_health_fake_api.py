"""The fake API itself behaves like the real one where the portal depends on it."""

from __future__ import annotations

import json
import urllib.request

import pytest

from secrets_app.integrations.errors import PermanentError, RetryableError
from secrets_app.integrations.kube import (
    DEPLOYMENTS,
    EVENTS,
    NAMESPACES,
    PODS,
    SECRETS,
    SPCS,
    connect_host,
)


def _pod(ns, name, labels=None):
    return {"kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels or {}}}


def test_limit_equal_to_size_needs_one_request(fake, client):
    fake.add_many([_pod("a", f"p{i}") for i in range(5)])
    assert [len(p) for p in client.list_pages(PODS, page_size=5)] == [5]
    assert [len(p) for p in client.list_pages(PODS, page_size=2)] == [2, 2, 1]


def test_namespaced_lists_and_label_selectors(fake, client):
    fake.add_many([_pod("a", "x", {"app": "web"}), _pod("a", "y"), _pod("b", "z", {"app": "web"})])
    names = lambda pages: [o["metadata"]["name"] for p in pages for o in p]  # noqa: E731
    assert names(client.list_pages(PODS, namespace="a")) == ["x", "y"]
    assert names(client.list_pages(PODS, label_selector="app=web")) == ["x", "z"]
    assert names(client.list_pages(PODS, label_selector="app!=web")) == ["y"]
    assert names(client.list_pages(PODS, namespace="b", label_selector="app==web")) == ["z"]


def test_field_selectors_on_events(fake, client):
    def event(name, reason, pod):
        return {
            "kind": "Event",
            "metadata": {"name": name, "namespace": "a"},
            "involvedObject": {"kind": "Pod", "name": pod},
            "reason": reason,
        }

    fake.add_many([event("e1", "FailedMount", "p1"), event("e2", "Pulled", "p1")])
    fake.add(event("e3", "FailedMount", "p2"))
    got = [
        o["metadata"]["name"]
        for p in client.list_pages(EVENTS, field_selector="reason=FailedMount")
        for o in p
    ]
    assert got == ["e1", "e3"]
    sel = "involvedObject.name=p1,metadata.namespace=a"
    assert sum(len(p) for p in client.list_pages(EVENTS, field_selector=sel)) == 2


def test_get_and_kubernetes_status_bodies(fake, client):
    fake.add({"kind": "SecretProviderClass", "metadata": {"name": "c", "namespace": "a"}})
    fake.add({"kind": "Deployment", "metadata": {"name": "d", "namespace": "a"}})
    fake.add({"kind": "Namespace", "metadata": {"name": "a"}})
    assert client.get(SPCS, "a", "c")["metadata"]["name"] == "c"
    assert client.get(DEPLOYMENTS, "a", "d")["kind"] == "Deployment"
    assert client.get(NAMESPACES, None, "a")["metadata"]["name"] == "a"
    with pytest.raises(PermanentError) as caught:
        client.get(SPCS, "a", "nope")
    assert caught.value.status == 404


def test_status_body_shape(fake):
    try:
        urllib.request.urlopen(fake.url + "/api/v1/namespaces/a/pods/nope")
    except urllib.error.HTTPError as err:
        body = json.loads(err.read())
    assert body["kind"] == "Status" and body["code"] == 404 and body["reason"] == "NotFound"


def test_bad_continue_token_is_a_400(fake, client):
    with pytest.raises(PermanentError) as caught:
        client._request("/api/v1/pods", [("limit", 1), ("continue", "!!")], "application/json")
    assert caught.value.status == 400


def test_metadata_only_lists_and_gets_have_no_data(fake, client):
    fake.add(
        {
            "kind": "Secret",
            "metadata": {"name": "s", "namespace": "a", "labels": {"k": "v"}},
            "data": {"password": "c2VjcmV0"},
        }
    )
    pages = list(client.list_pages(SECRETS, metadata_only=True, label_selector="k=v"))
    assert pages == [
        [
            {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": pages[0][0]["metadata"],
            }
        ]
    ]
    assert "data" not in client.get(SECRETS, "a", "s", metadata_only=True)
    assert fake.secret_data_served == 0
    client.get(SECRETS, "a", "s")  # a full read is counted, so tests can catch one
    assert fake.secret_data_served == 1


def test_down_then_up(fake, client):
    fake.add(_pod("a", "x"))
    assert list(client.list_pages(PODS))
    fake.down()
    with pytest.raises(RetryableError):
        list(client.list_pages(PODS))
    fake.up()
    assert list(client.list_pages(PODS))


def test_writes_are_refused(fake):
    request = urllib.request.Request(
        fake.url + "/api/v1/namespaces/a/pods", data=b"{}", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    assert caught.value.code == 405


def test_connect_host_sends_the_bearer_token(fake):
    with connect_host(fake.url, token="t0ken") as kube:
        list(kube.list_pages(PODS))
    assert fake.requests[-1].authorization == "Bearer t0ken"
