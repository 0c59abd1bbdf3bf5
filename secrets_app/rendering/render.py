"""One binding spec in, the files for both repositories out."""

from __future__ import annotations

from dataclasses import dataclass

from secrets_app.rendering import layout
from secrets_app.rendering.manifests import render_manifests
from secrets_app.rendering.names import BindingNames
from secrets_app.rendering.spec import BindingSpec
from secrets_app.rendering.terraform import render_terraform

INFRA = "infra"
DEPLOY = "deploy"


@dataclass(frozen=True)
class RenderedBinding:
    """``files[repo][path] = text``; repo is ``"infra"`` or ``"deploy"``, paths
    are repo-relative POSIX paths already checked to stay inside the repo."""

    names: BindingNames
    files: dict[str, dict[str, str]]


def render_binding(spec: BindingSpec) -> RenderedBinding:
    """Render a validated spec (from ``BindingSpec.from_dict``)."""
    names = BindingNames.from_spec(spec)
    c = spec.cluster
    values = {
        "cluster": c.name,
        "namespace": spec.namespace,
        "service": spec.service,
        "account": c.account_id,
        "region": c.region,
    }
    deploy = {
        layout.expand(c.layout.deploy, values, name): text
        for name, text in render_manifests(spec, names).items()
    }
    infra_path = layout.expand(c.layout.infra, values, f"{names.role_name}.tf")
    infra = {infra_path: render_terraform(spec, names)}
    return RenderedBinding(names=names, files={INFRA: infra, DEPLOY: deploy})
