import pytest
from django.test import Client
from django.urls import reverse

from secrets_app.models import AuditEvent, RequestState
from tests.factories import AccessRequestFactory

pytestmark = pytest.mark.django_db


def test_admin_retries_a_failed_request(admin_user, django_capture_on_commit_callbacks):
    failed = AccessRequestFactory(state=RequestState.FAILED)
    pending = AccessRequestFactory(state=RequestState.PENDING)
    client = Client()
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("admin:secrets_app_accessrequest_changelist"),
            {"action": "retry_provisioning", "_selected_action": [failed.pk, pending.pk]},
            follow=True,
        )
    assert response.status_code == 200
    failed.refresh_from_db()
    pending.refresh_from_db()
    assert failed.state == RequestState.APPROVED
    assert pending.state == RequestState.PENDING
    assert AuditEvent.objects.filter(request=failed, action="request.retried").exists()
    assert len(callbacks) >= 1  # the pull-request task is enqueued on commit
    assert "only failed or needs attention requests can be retried" in response.content.decode()
