"""What a change request's merged pull requests do to its binding: the
binding takes the change's values (secrets, synced Secrets, files), keeps
its names, and the change request ends ``changed``.

Called by the workflow through the change's kind (``requests.kinds``), in
the transaction (a savepoint) of the merge that completed the change: when
it fails, the merge stays recorded and the request needs a person.
"""

from __future__ import annotations

from secrets_app.bindings.history import current_request, secrets_summary
from secrets_app.events.audit import audit_record
from secrets_app.integrations.backends import REPOSITORIES
from secrets_app.models import (
    AccessRequest,
    Binding,
    BindingSecret,
    BindingState,
    PullRequestPurpose,
    RequestState,
)
from secrets_app.ownership import claims
from secrets_app.rendering import BindingNames, render_binding
from secrets_app.requests.specs import spec_for_request
from secrets_app.requests.states import move_state


class ChangeNotApplicable(Exception):
    """The binding cannot take the change (revoked meanwhile, its names moved)."""


def binding_change_merged(change: AccessRequest, *, actor) -> Binding:
    """Both pull requests of a change are merged: the binding is what the
    change rendered. Verification runs again (``binding.changed``)."""
    binding = (
        Binding.objects.select_for_update().select_related("cluster").get(pk=change.changes_id)
    )
    if binding.state != BindingState.ACTIVE:
        raise ChangeNotApplicable(
            f"binding #{binding.pk} is {binding.get_state_display().lower()}; "
            "its files were changed in the repositories, but the portal keeps its record as is"
        )
    spec = spec_for_request(change)
    names = BindingNames.from_spec(spec)
    if (names.namespace, names.service_account) != (binding.namespace, binding.service_account):
        raise ChangeNotApplicable("the change names another ServiceAccount than its binding")
    # Not yet "changed" itself: the grant or the change merged before it.
    before_request = current_request(binding)
    before = {
        "secrets": sorted(s.alias for s in binding.secrets.all()),
        "synced_secret_names": list(binding.synced_secret_names),
        "files": binding.files,
        "mount_path": before_request.mount_path if before_request else "",
    }
    files, hashes = _written(change, render_binding(spec).files)
    gone = {
        claims.path_key(claims.repository_key(binding.cluster, repo), path)
        for repo, paths in (binding.files or {}).items()
        for path in paths
        if path not in files.get(repo, [])
    }
    binding.synced_secret_names = list(names.secret_names)
    binding.secret_provider_class = names.secret_provider_class
    binding.files = files
    binding.file_hashes = hashes
    # What was verified was the old policy: the new one waits for its run.
    binding.verification_ok = None
    binding.save(
        update_fields=[
            "synced_secret_names",
            "secret_provider_class",
            "files",
            "file_hashes",
            "verification_ok",
        ]
    )
    binding.secrets.all().delete()
    BindingSecret.objects.bulk_create(
        BindingSecret(binding=binding, arn=s.arn, name=s.ref.name, alias=s.alias)
        for s in spec.secrets
    )
    claims.hand_change_to_binding(change, binding, gone=gone)
    summary = secrets_summary(
        [g.filed() for g in before_request.secrets.all()] if before_request else [],
        [g.filed() for g in change.secrets.all()],
    )
    moved = (
        [before["mount_path"], change.mount_path]
        if before_request and before["mount_path"] != change.mount_path
        else None
    )
    move_state(change, to=RequestState.CHANGED, actor=actor, action="request.changed")
    audit_record(
        actor=actor,
        action="binding.changed",
        obj=binding,
        request=change,
        before=before,
        after={
            "request": change.pk,
            **summary,
            "mount_path": moved,
            "secrets": sorted(s.alias for s in spec.secrets),
            "synced_secret_names": binding.synced_secret_names,
            "files": files,
        },
    )
    return binding


def _written(
    change: AccessRequest, rendered: dict[str, dict[str, str]]
) -> tuple[dict[str, list[str]], dict[str, dict[str, str]]]:
    """The paths the change's pull requests wrote (not those they deleted),
    per repository: what a revocation, or the next change, starts from; and
    the blob id of each file written (``Binding.file_hashes``)."""
    pulls = {
        p.repository: p for p in change.pull_requests.filter(purpose=PullRequestPurpose.CHANGE)
    }
    written, hashes = {}, {}
    for repo in REPOSITORIES:
        deleted = set((change.deletes or {}).get(repo, [])) - set(rendered.get(repo, {}))
        recorded = pulls[repo].paths if repo in pulls else sorted(rendered.get(repo, {}))
        written[repo] = sorted(set(recorded) - deleted)
        recorded_hashes = pulls[repo].file_hashes if repo in pulls else {}
        hashes[repo] = {p: h for p, h in recorded_hashes.items() if p in written[repo]}
    return written, hashes
