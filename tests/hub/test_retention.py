"""What the hub keeps and for how long: idempotency keys, settled webhook deliveries and finished
sync jobs go after their retention period; anything a person may still have to act on stays."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.models import Endpoint, InboxMessage, SyncAttempt, SyncJob
from hub.registry import schedules
from hub.services import retention_purge
from orders.models import IdempotencyKey
from tests.hub.factories import SalesChannelFactory

pytestmark = pytest.mark.django_db


def _aged(model, pk, field, days):
    model.objects.filter(pk=pk).update(**{field: timezone.now() - timedelta(days=days)})


@pytest.fixture
def endpoint():
    return Endpoint.objects.create(kind="shopify", code="shop", name="Shop", base_url="https://shop.invalid", channel=SalesChannelFactory())


def _delivery(endpoint, status, days, n):
    message = InboxMessage.objects.create(endpoint=endpoint, topic="orders/create", body=b"{}", status=status, delivery_key=f"k{n}")
    _aged(InboxMessage, message.pk, "received_at", days)
    return message


def _job(endpoint, status, days, key):
    job = SyncJob.objects.create(endpoint=endpoint, flow="products.out", record_key=key, status=status, next_attempt_at=timezone.now())
    SyncAttempt.objects.create(job=job, endpoint=endpoint, number=1, outcome="ok", started_at=timezone.now(), finished_at=timezone.now())
    _aged(SyncJob, job.pk, "updated_at", days)
    return job


def test_idempotency_keys_older_than_their_retention_are_deleted_and_recent_ones_still_answer(settings):
    settings.HUB_RETENTION_IDEMPOTENCY_DAYS = 7
    channel = SalesChannelFactory()
    old = IdempotencyKey.objects.create(channel=channel, key="old", body_hash="x", status_code=201, response={})
    recent = IdempotencyKey.objects.create(channel=channel, key="recent", body_hash="x", status_code=201, response={})
    _aged(IdempotencyKey, old.pk, "created_at", 8)
    _aged(IdempotencyKey, recent.pk, "created_at", 6)
    assert retention_purge()["orders.idempotency_keys"] == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]


def test_settled_deliveries_go_after_their_retention_but_failed_and_unprocessed_ones_stay(settings, endpoint):
    settings.HUB_RETENTION_INBOX_DAYS = 90
    kept = [_delivery(endpoint, "failed", 200, 1), _delivery(endpoint, "received", 200, 2), _delivery(endpoint, "processed", 30, 3)]
    for n, status in enumerate(["processed", "ignored", "duplicate", "rejected"], start=10):
        _delivery(endpoint, status, 91, n)
    assert retention_purge(batch_size=2)["connectors.inbox"] == 4  # in batches
    assert sorted(InboxMessage.objects.values_list("pk", flat=True)) == sorted(m.pk for m in kept)


def test_finished_sync_jobs_go_with_their_attempts_but_failed_and_pending_jobs_stay(settings, endpoint):
    settings.HUB_RETENTION_SYNC_DAYS = 90
    gone = [_job(endpoint, "done", 100, "1"), _job(endpoint, "resolved", 100, "2")]
    kept = [_job(endpoint, "failed", 100, "3"), _job(endpoint, "pending", 100, "4"), _job(endpoint, "done", 10, "5")]
    assert retention_purge()["connectors.sync_jobs"] == 2
    assert sorted(SyncJob.objects.values_list("pk", flat=True)) == sorted(job.pk for job in kept)
    assert not SyncAttempt.objects.filter(job_id__in=[job.pk for job in gone]).exists()


def test_a_retention_of_zero_days_keeps_everything(settings, endpoint):
    settings.HUB_RETENTION_INBOX_DAYS = 0
    _delivery(endpoint, "processed", 3650, 1)
    assert retention_purge()["connectors.inbox"] == 0
    assert InboxMessage.objects.count() == 1


def test_the_task_cluster_runs_the_purge_every_hour():
    assert schedules["hub.retention"].func == "hub.tasks.retention_purge_task" and schedules["hub.retention"].minutes == 60
