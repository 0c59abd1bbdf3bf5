"""The files a request will propose, per repository, for the preview panels."""

from __future__ import annotations

from dataclasses import dataclass

from secrets_app.models import AccessRequest, RequestKind
from secrets_app.rendering import BindingNames, BindingSpec, SpecInvalid, render_binding
from secrets_app.requests.specs import spec_for_request

REPOSITORY_TITLES = {"infra": "Infra repository (Terraform)", "deploy": "Deploy repository"}


@dataclass(frozen=True)
class Preview:
    names: BindingNames | None
    repositories: list[tuple[str, list[tuple[str, str]]]]  # (title, [(path, content)])
    warnings: list[str]
    problems: list[str]
    # A revocation's pull requests delete these files instead of adding them.
    removal: bool = False


def build_preview(spec: BindingSpec, *, removal: bool = False) -> Preview:
    rendered = render_binding(spec)
    repositories = [
        (REPOSITORY_TITLES.get(repo, repo), sorted(files.items()))
        for repo, files in sorted(rendered.files.items(), key=lambda item: item[0] != "infra")
    ]
    return Preview(
        names=rendered.names,
        repositories=repositories,
        warnings=[] if removal else [str(w) for w in spec.warnings],
        problems=[],
        removal=removal,
    )


def preview_for_request(request: AccessRequest) -> Preview:
    """A saved request's preview; a request the renderer refuses (rules may
    have tightened since it was filed) shows its problems instead."""
    try:
        return build_preview(spec_for_request(request), removal=request.kind == RequestKind.REVOKE)
    except SpecInvalid as invalid:
        return Preview(
            names=None, repositories=[], warnings=[], problems=[str(p) for p in invalid.problems]
        )
