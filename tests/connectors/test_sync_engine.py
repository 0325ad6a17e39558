"""The outbound sync engine over real HTTP, with the test connector in tests/connectors/echo.py."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from catalog.services import product_update
from connectors import sync
from connectors.models import SyncJob
from connectors.throttle import throttle_reserve
from hub.changes import change_origin
from tests.catalog.factories import ProductFactory


def run_all(endpoint, flow="products.echo"):
    return sync.sync_run(endpoint_id=endpoint.pk, flow_name=flow, budget_seconds=10)


def make_due(job):
    SyncJob.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())


def test_a_product_change_queues_one_job_and_later_changes_are_absorbed_by_it(echo_endpoint):
    product = ProductFactory(sku="LAMP-1")
    product_update(product=product, name="Lampe A")
    product_update(product=product, name="Lampe B")
    job = SyncJob.objects.get()
    assert (job.flow, job.record_key, job.status, job.changes) == ("products.echo", str(product.pk), "pending", 2)


def test_a_change_that_came_from_an_endpoint_is_not_sent_back_to_it(echo_endpoint):
    product = ProductFactory()
    with change_origin(echo_endpoint.code):
        product_update(product=product, name="Renamed by the shop")
    assert not SyncJob.objects.exists()


def test_a_run_sends_the_latest_state_once_and_records_the_attempt(echo_endpoint, receiver):
    product = ProductFactory(sku="LAMP-1")
    product_update(product=product, name="First")
    product_update(product=product, name="Latest")
    assert run_all(echo_endpoint) == 1
    assert receiver.received == [{"sku": "LAMP-1", "name": "Latest"}]
    job = SyncJob.objects.get()
    assert job.status == "done" and job.attempts == 1 and job.outcome == "pushed LAMP-1"
    attempt = job.attempt_log.get()
    assert attempt.outcome == "ok" and attempt.response_status == 200 and "POST /products → 200" in attempt.request_summary


def test_a_server_error_is_retried_later_with_backoff_and_then_delivered(echo_endpoint, receiver):
    product = ProductFactory(sku="LAMP-1")
    product_update(product=product, name="Lampe")
    receiver.script = [(503, {})]
    run_all(echo_endpoint)
    job = SyncJob.objects.get()
    assert job.status == "pending" and job.error_class == "transient" and "503" in job.last_error
    assert job.next_attempt_at > timezone.now() + timedelta(seconds=3)
    assert receiver.received == []
    assert run_all(echo_endpoint) == 0  # not due yet
    make_due(job)
    run_all(echo_endpoint)
    job.refresh_from_db()
    assert job.status == "done" and job.attempts == 2 and receiver.received == [{"sku": "LAMP-1", "name": "Lampe"}]
    assert list(job.attempt_log.order_by("number").values_list("outcome", flat=True)) == ["transient", "ok"]


def test_retry_after_from_the_vendor_sets_the_next_attempt(echo_endpoint, receiver):
    product_update(product=ProductFactory(), name="x")
    receiver.script = [(503, {"Retry-After": "120"})]
    run_all(echo_endpoint)
    job = SyncJob.objects.get()
    assert job.next_attempt_at >= timezone.now() + timedelta(seconds=115)


def test_rate_limited_answers_are_waited_out_within_the_attempt(echo_endpoint, receiver):
    product_update(product=ProductFactory(sku="A"), name="x")
    receiver.script = [(429, {"Retry-After": "0.1"}), (429, {"Retry-After": "0.1"})]
    run_all(echo_endpoint)
    job = SyncJob.objects.get()
    assert job.status == "done" and job.attempts == 1 and len(receiver.received) == 1


def test_a_refusal_is_permanent_and_only_the_newest_error_per_record_stays_open(echo_endpoint, receiver):
    product = ProductFactory()
    product_update(product=product, name="one")
    receiver.script = [(422, {})]
    run_all(echo_endpoint)
    first = SyncJob.objects.get()
    assert first.status == "failed" and first.error_class == "permanent" and "422" in first.last_error
    product_update(product=product, name="two")
    receiver.script = [(422, {})]
    run_all(echo_endpoint)
    first.refresh_from_db()
    second = SyncJob.objects.exclude(pk=first.pk).get()
    assert second.status == "failed" and first.status == "resolved" and "newer error" in first.resolution
    product_update(product=product, name="three")
    run_all(echo_endpoint)
    second.refresh_from_db()
    assert second.status == "resolved" and "succeeded" in second.resolution
    assert receiver.received == [{"sku": product.sku, "name": "three"}]


def test_a_failed_job_retried_by_an_operator_is_sent_again(echo_endpoint, receiver):
    product_update(product=ProductFactory(sku="A"), name="x")
    receiver.script = [(400, {})]
    run_all(echo_endpoint)
    job = SyncJob.objects.get()
    sync.sync_job_retry(job=job, payload={"sku": "A", "name": "fixed by hand"})
    run_all(echo_endpoint)
    job.refresh_from_db()
    assert job.status == "done" and receiver.received == [{"sku": "A", "name": "fixed by hand"}]


def test_an_endpoint_never_has_more_runs_in_flight_than_its_limit(echo_endpoint):
    echo_endpoint.concurrency_limit = 1
    echo_endpoint.save()
    for product in ProductFactory.create_batch(25):
        product_update(product=product, name="renamed")
    token, jobs = sync.sync_jobs_claim(endpoint_id=echo_endpoint.pk, flow_name="products.echo")
    assert len(jobs) == 10  # one batch
    assert sync.sync_jobs_claim(endpoint_id=echo_endpoint.pk, flow_name="products.echo") == ("", [])
    echo_endpoint.concurrency_limit = 2
    echo_endpoint.save()
    assert len(sync.sync_jobs_claim(endpoint_id=echo_endpoint.pk, flow_name="products.echo")[1]) == 10


def test_a_job_whose_worker_died_is_handed_out_again_and_the_dead_run_cannot_finish_it(echo_endpoint, receiver):
    product_update(product=ProductFactory(sku="A"), name="x")
    token, jobs = sync.sync_jobs_claim(endpoint_id=echo_endpoint.pk, flow_name="products.echo")
    SyncJob.objects.filter(pk=jobs[0].pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert sync.sync_sweep() == 1
    job = SyncJob.objects.get()
    assert job.status == "pending" and job.attempt_log.get().outcome == "lost"
    assert sync.sync_job_finish(job=jobs[0], token=token, result="sent", started=timezone.now(), recorder=None) is False
    run_all(echo_endpoint)
    job.refresh_from_db()
    assert job.status == "done" and len(receiver.received) == 1


def test_an_endpoint_alerts_once_when_it_starts_failing_and_once_when_it_recovers(echo_endpoint, receiver, settings):
    settings.HUB_ALERT_EMAILS = ["ops@example.com"]
    settings.HUB_ALERT_AFTER_FAILURES = 3
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for product in ProductFactory.create_batch(6):
        product_update(product=product, name="renamed")
    receiver.script = [(500, {})]  # the batch stops at the first failure: all six attempts fail
    with django_capture_on_commit():
        run_all(echo_endpoint)
    echo_endpoint.refresh_from_db()
    assert echo_endpoint.health == "failing"
    assert [m.subject for m in mail.outbox] == ["[ERP Hub] Echo receiver (echo) is failing"]
    SyncJob.objects.update(next_attempt_at=timezone.now())
    with django_capture_on_commit():
        run_all(echo_endpoint)
    echo_endpoint.refresh_from_db()
    assert echo_endpoint.health == "ok" and len(receiver.received) == 6
    assert [m.subject for m in mail.outbox][-1] == "[ERP Hub] Echo receiver (echo) has recovered" and len(mail.outbox) == 2


def django_capture_on_commit():
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_scheduled_flows_are_queued_once_per_interval(echo_endpoint, monkeypatch):
    from tests.connectors import echo

    monkeypatch.setattr(echo.ProductEchoFlow, "every_minutes", 10)
    now = timezone.now()
    assert sync.sync_schedule_due(now=now) == 1
    assert sync.sync_schedule_due(now=now + timedelta(minutes=5)) == 0
    assert SyncJob.objects.filter(record_key="*").count() == 1
    assert sync.sync_schedule_due(now=now + timedelta(minutes=11)) == 1  # still one pending job (coalesced)
    assert SyncJob.objects.filter(record_key="*", status="pending").count() == 1


def test_the_request_scheduler_allows_a_burst_then_spaces_requests_at_the_rate(echo_endpoint):
    waits = [throttle_reserve(endpoint_id=echo_endpoint.pk, rate_per_second=2, burst=4) for _ in range(6)]
    assert waits[:4] == [0, 0, 0, 0]
    assert 0.4 < waits[4] <= 0.5 and 0.9 < waits[5] <= 1.0


def test_backoff_grows_exponentially_with_jitter_and_respects_retry_after():
    import random

    rng = random.Random(1)
    delays = [sync.backoff_seconds(n, rng=rng) for n in range(1, 6)]
    for n, delay in enumerate(delays, start=1):
        assert 0.75 * 5 * 2 ** (n - 1) <= delay <= 1.25 * 5 * 2 ** (n - 1)
    assert sync.backoff_seconds(1, retry_after=60) == 60


def test_a_spreadsheet_import_queues_one_product_job_per_parent_for_a_shop(db, tmp_path):
    from django.core.management import call_command

    from connectors.models import Endpoint
    from tests.hub.factories import SalesChannelFactory

    shop = Endpoint.objects.create(kind="shopify", code="shop", name="Shop", base_url="http://127.0.0.1:9", channel=SalesChannelFactory())
    rows = ["sku;name;status;parent_sku;options"] + [f"P{n};Product {n};active;;" for n in range(40)]
    rows += [f"P{n}-{size};Product {n} {size};active;P{n};size={size}" for n in range(40) for size in ("S", "M")]
    (tmp_path / "products.csv").write_text("\n".join(rows) + "\n")
    call_command("hub_import", "products", str(tmp_path / "products.csv"))
    jobs = SyncJob.objects.filter(endpoint=shop, flow="products.out")
    assert jobs.count() == 40 and set(jobs.values_list("record_label", flat=True)) == {f"P{n}" for n in range(40)}


def test_a_window_quota_that_runs_out_holds_every_slot_until_the_window_refills(echo_endpoint):
    from connectors.throttle import throttle_quota_left

    assert throttle_reserve(endpoint_id=echo_endpoint.pk, rate_per_second=5, burst=150) == 0
    assert not throttle_quota_left(endpoint_id=echo_endpoint.pk, left=35, reset_seconds=15, rate_per_second=5, burst=150, keep=2)
    assert throttle_reserve(endpoint_id=echo_endpoint.pk, rate_per_second=5, burst=150) == 0  # quota left: no wait
    assert throttle_quota_left(endpoint_id=echo_endpoint.pk, left=2, reset_seconds=15, rate_per_second=5, burst=150, keep=2)
    waits = [throttle_reserve(endpoint_id=echo_endpoint.pk, rate_per_second=5, burst=150) for _ in range(3)]
    assert 14.9 < waits[0] <= 15.0  # nothing before the refill, whatever the burst allowed
    assert waits[1] - waits[0] == pytest.approx(0.2, abs=0.01) and waits[2] - waits[1] == pytest.approx(0.2, abs=0.01)
