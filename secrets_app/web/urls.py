from django.urls import include, path

from secrets_app.observability import health as readiness
from secrets_app.observability import metrics
from secrets_app.web.views import (
    approvals,
    aws,
    bindings,
    changes,
    drafts,
    extensions,
    home,
    pulls,
    requests,
    reviews,
    revocations,
    upgrades,
)
from secrets_app.web.views import health as health_views
from secrets_app.web.views import imports as import_views
from secrets_app.web.views import secrets as secret_views

# One request, one binding, one cluster: each group under its own prefix.
request_pages = [
    path("", requests.request_detail, name="request-detail"),
    path("approve/", requests.request_approve, name="request-approve"),
    path("reject/", requests.request_reject, name="request-reject"),
    path("comment/", requests.request_comment, name="request-comment"),
    path("cancel/", requests.request_cancel, name="request-cancel"),
    path("submit/", requests.request_submit, name="request-submit"),
    path("edit/", drafts.request_edit, name="request-edit"),
    path("progress/", pulls.request_progress, name="request-progress"),
    path("retry/", pulls.request_retry, name="request-retry"),
    path("diff/", changes.request_diff, name="request-diff"),
]
binding_pages = [
    path("", bindings.binding_detail, name="binding-detail"),
    path("verify/", aws.binding_verify, name="binding-verify"),
    path("revoke/", revocations.binding_revoke, name="binding-revoke"),
    path("revoke/files/", revocations.binding_revoke_files, name="binding-revoke-files"),
    path("change/", changes.binding_change, name="binding-change"),
    path("extend/", extensions.binding_extend, name="binding-extend"),
]
import_pages = [
    path("", import_views.import_cluster, name="import-cluster"),
    path("discover/", import_views.import_discover, name="import-discover"),
    path("decide/", import_views.import_decide, name="import-decide"),
]
health_pages = [
    path("", health_views.health_cluster, name="health-cluster"),
    path("refresh/", health_views.health_refresh, name="health-refresh"),
    path("<str:namespace>/", health_views.health_namespace, name="health-namespace"),
]

review_pages = [
    path("", reviews.review_detail, name="review-detail"),
    path("items/<int:item>/decide/", reviews.review_decide, name="review-decide"),
    path("export.csv", reviews.review_export, name="review-export"),
]

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", home.healthz, name="healthz"),
    path("readyz", readiness.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("requests/", requests.MyRequestsView.as_view(), name="request-list"),
    path("requests/new/", requests.request_create, name="request-create"),
    path("requests/new/secret-form/", requests.request_secret_form, name="request-secret-form"),
    path("requests/<int:pk>/", include(request_pages)),
    path("pulls/<int:pk>/", pulls.pull_request_detail, name="pull-request-detail"),
    path("pulls/<int:pk>/merge/", pulls.pull_request_merge, name="pull-request-merge"),
    path("webhooks/github", pulls.github_webhook, name="github-webhook"),
    path("approvals/", approvals.ApprovalQueueView.as_view(), name="approval-queue"),
    path("bindings/", bindings.BindingListView.as_view(), name="binding-list"),
    path("bindings/export.csv", bindings.binding_export, name="binding-export"),
    path("bindings/<int:pk>/", include(binding_pages)),
    path("aws/secrets/", aws.secret_picker, name="aws-secret-picker"),
    path("secrets/", secret_views.secret_index, name="secret-index"),
    path("secrets/access/", secret_views.secret_access, name="secret-access"),
    path("fleet/", upgrades.fleet_upgrades, name="fleet-upgrades"),
    path("fleet/open/", upgrades.fleet_upgrades_open, name="fleet-upgrades-open"),
    path("fleet/upgrades/<int:pk>/", upgrades.fleet_upgrade, name="fleet-upgrade"),
    path(
        "fleet/upgrades/<int:pk>/merge/", upgrades.fleet_upgrade_merge, name="fleet-upgrade-merge"
    ),
    path("imports/", import_views.import_list, name="import-list"),
    path("imports/<str:name>/", include(import_pages)),
    path("reviews/", reviews.review_list, name="review-list"),
    path("reviews/<int:pk>/", include(review_pages)),
    path("health/", health_views.health_overview, name="health-overview"),
    path("health/clusters/<str:name>/", include(health_pages)),
]
