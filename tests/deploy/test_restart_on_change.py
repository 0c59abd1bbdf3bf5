"""Restart on change (Stakater Reloader): the request asks that pods restart
when a synced Secret changes; the workload patch adds Reloader's annotation,
and a real ``kubectl kustomize`` build carries it onto the workload (not its
pod template), in every layout. Without a synced Secret it is refused on its
field: files follow a rotation without a restart."""

from __future__ import annotations

import pytest
import yaml

from secrets_app.rendering import BindingNames, BindingSpec, SpecInvalid, render_binding
from secrets_app.rendering.manifests import RELOADER_ANNOTATION
from tests.deploy.binding_specs import SPECS
from tests.deploy.kustomize_layouts import LAYOUTS, kustomize
from tests.support.clients import api_client_for
from tests.support.request_bodies import VALID_BODY


def _spec(name: str) -> BindingSpec:
    data = SPECS[name]()
    data["workload"]["restart_on_change"] = True
    return BindingSpec.from_dict(data)


@pytest.mark.parametrize("layout_name", ["parent-sets-namespace", "existing-volumes-and-env"])
def test_the_built_workload_carries_reloaders_annotation(layout_name, tmp_path):
    spec = _spec("sync")
    names = BindingNames.from_spec(spec)
    objects = kustomize(LAYOUTS[layout_name].write(spec, names, tmp_path))
    (workload,) = [o for o in objects if o["kind"] == names.workload_kind]
    annotations = workload["metadata"]["annotations"]
    synced = [s.sync.secret_name for s in spec.secrets if s.sync]
    assert annotations[RELOADER_ANNOTATION].split(",") == synced and len(synced) == 2
    template = workload["spec"]["template"]["metadata"]
    assert RELOADER_ANNOTATION not in template.get("annotations", {})


def test_without_the_option_there_is_no_annotation():
    spec = BindingSpec.from_dict(SPECS["sync"]())
    files = render_binding(spec).files["deploy"]
    patches = [yaml.safe_load(t) for p, t in files.items() if p.endswith("-patch.yaml")]
    assert all("annotations" not in p["metadata"] for p in patches)


def test_without_a_synced_secret_it_is_refused_on_its_field():
    data = SPECS["jmes"]()
    data["workload"]["restart_on_change"] = True
    with pytest.raises(SpecInvalid) as refused:
        BindingSpec.from_dict(data)
    assert [p.path for p in refused.value.problems] == ["workload.restart_on_change"]


@pytest.mark.django_db
def test_the_api_files_it_and_says_what_is_wrong_on_its_field(requester, cluster):
    client = api_client_for(requester)
    without_sync = {
        **VALID_BODY,
        "restart_on_change": True,
        "secrets": [
            {k: v for k, v in s.items() if not k.startswith("sync")} for s in VALID_BODY["secrets"]
        ],
    }
    errors = client.post("/api/requests/", without_sync, format="json").json()
    assert list(errors) == ["restart_on_change"], errors
    assert "synced Secret" in errors["restart_on_change"][0]

    response = client.post(
        "/api/requests/", {**VALID_BODY, "restart_on_change": True}, format="json"
    )
    assert response.status_code == 201, response.json()
