"""Opening a review: one item per active binding with its team and secrets,
one open review at a time, the next only after the interval."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from portal.celery import app
from secrets_app.models import AccessReview, AuditEvent, BindingState, ReviewItem
from secrets_app.reviews.opening import open_access_review
from secrets_app.tasks.reviews import run_access_reviews
from tests.factories import BindingFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 10, 1, 8, 0, tzinfo=datetime.UTC)


def test_opens_one_item_per_active_binding_grouped_by_team(world):
    BindingFactory(cluster=world["cluster"], namespace="deploy", state=BindingState.REVOKED)
    BindingFactory(cluster=world["cluster"], namespace="orphans")
    with time_machine.travel(NOW, tick=False):
        review = open_access_review()
    assert review.deadline == NOW + datetime.timedelta(days=14)
    items = {i.binding.service: i for i in review.items.select_related("binding")}
    assert len(items) == 5 and {"billing", "ledger", "shop", "cart"} <= set(items)
    assert items["billing"].team_name == "team-deploy"
    assert items["shop"].team_name == "team-web"
    assert items["billing"].secrets == ["billing-db"]
    orphan = next(i for s, i in items.items() if s not in {"billing", "ledger", "shop", "cart"})
    assert orphan.team_id is None and orphan.team_name == ""
    event = AuditEvent.objects.get(action="review.opened")
    assert event.after["bindings"] == 5 and event.actor_name == "secrets-portal"


def test_one_open_review_at_a_time_and_the_next_after_the_interval(world, settings):
    settings.PORTAL_REVIEW_INTERVAL_DAYS = 91
    with time_machine.travel(NOW, tick=False):
        first = open_access_review()
        assert open_access_review() is None
        assert open_access_review(force=True) is None
    assert AccessReview.objects.count() == 1
    first.is_open = False
    first.save()
    with time_machine.travel(NOW + datetime.timedelta(days=90), tick=False):
        assert open_access_review() is None  # not due yet
    with time_machine.travel(NOW + datetime.timedelta(days=91), tick=False):
        second = open_access_review()
    assert second is not None and second.items.count() == 4
    assert ReviewItem.objects.count() == 8


def test_the_job_opens_when_due_and_the_command_opens_now(world):
    with time_machine.travel(NOW, tick=False):
        report = run_access_reviews.apply().get()
        assert report["opened"] and AccessReview.objects.filter(is_open=True).count() == 1
        again = run_access_reviews.apply().get()
        assert again["opened"] == 0
        with pytest.raises(CommandError, match="still open"):
            call_command("open_access_review")
    AccessReview.objects.update(is_open=False)
    out = StringIO()
    call_command("open_access_review", stdout=out)
    assert "4 bindings to confirm" in out.getvalue()
    out = StringIO()
    AccessReview.objects.update(is_open=False)
    call_command("open_access_review", "--if-due", stdout=out)
    assert "No review is due" in out.getvalue()


def test_the_beat_entry_names_a_task_the_worker_knows(settings):
    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["access-reviews"]
    assert entry["task"] in app.tasks


def test_the_database_holds_one_open_review_even_against_two_schedulers(world):
    first = open_access_review()
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessReview.objects.create(opened_at=first.opened_at, deadline=first.deadline)
    AccessReview.objects.create(
        opened_at=first.opened_at, deadline=first.deadline, is_open=False
    )  # closed ones, as many as there were
    assert AccessReview.objects.filter(is_open=True).get() == first
