from django.urls import path

from secrets_app.views import approvals, bindings, home, requests

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", home.healthz, name="healthz"),
    path("readyz", home.readyz, name="readyz"),
    path("requests/", requests.MyRequestsView.as_view(), name="request-list"),
    path("requests/new/", requests.request_create, name="request-create"),
    path("requests/new/secret-form/", requests.request_secret_form, name="request-secret-form"),
    path("requests/<int:pk>/", requests.request_detail, name="request-detail"),
    path("requests/<int:pk>/approve/", requests.request_approve, name="request-approve"),
    path("requests/<int:pk>/reject/", requests.request_reject, name="request-reject"),
    path("requests/<int:pk>/comment/", requests.request_comment, name="request-comment"),
    path("requests/<int:pk>/cancel/", requests.request_cancel, name="request-cancel"),
    path("requests/<int:pk>/submit/", requests.request_submit, name="request-submit"),
    path("approvals/", approvals.ApprovalQueueView.as_view(), name="approval-queue"),
    path("bindings/<int:pk>/", bindings.binding_detail, name="binding-detail"),
]
