"""Rendering of one binding: Kubernetes manifests and Terraform from one spec.

``BindingSpec.from_dict(data)`` validates (raising ``SpecInvalid`` with every
problem); ``render_binding(spec).files["infra" | "deploy"]`` maps repo paths
to file contents.
"""

from secrets_app.rendering.names import BindingNames
from secrets_app.rendering.problems import SpecInvalid, SpecProblem
from secrets_app.rendering.render import RenderedBinding, render_binding
from secrets_app.rendering.spec import BindingSpec
from secrets_app.rendering.terraform import permissions_policy, trust_policy

__all__ = [
    "BindingNames",
    "BindingSpec",
    "RenderedBinding",
    "SpecInvalid",
    "SpecProblem",
    "permissions_policy",
    "render_binding",
    "trust_policy",
]
