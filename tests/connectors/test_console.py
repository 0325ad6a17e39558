"""The operator console in the admin: figures per endpoint, open errors, retry, edit-and-retry, resolve."""

import json

from django.urls import reverse

from catalog.services import product_update
from connectors import sync
from connectors.models import SyncJob
from tests.catalog.factories import ProductFactory


def run(endpoint):
    sync.sync_run(endpoint_id=endpoint.pk, flow_name="products.echo", budget_seconds=10)


def failing_job(endpoint, receiver, sku="LAMP-1", status=422):
    product = ProductFactory(sku=sku)
    product_update(product=product, name="Lampe")
    receiver.script = [(status, {})]
    run(endpoint)
    return SyncJob.objects.get(record_key=str(product.pk))


def test_the_console_shows_each_endpoints_figures(admin_client, echo_endpoint, receiver):
    for product in ProductFactory.create_batch(3):
        product_update(product=product, name="renamed")
    run(echo_endpoint)  # 3 attempts ok
    failing_job(echo_endpoint, receiver)  # 1 attempt failed
    product_update(product=ProductFactory(), name="queued")  # 1 due
    page = admin_client.get(reverse("admin:connectors_console"))
    assert page.status_code == 200
    card = page.context["cards"][0]
    assert (card["attempts"], card["succeeded"], card["due"], card["open_errors"]) == (4, 3, 1, 1)
    html = page.content.decode()
    assert "Echo receiver (echo, echo-test)" in html and "75 %" in html
    assert '<td class="queue">1 / 0 / 0</td>' in html
    assert "refused with 422" in html  # the last error
    assert html.count("<rect") == 48  # 24 hourly bars, succeeded and failed


def test_a_failed_job_is_listed_among_open_errors_and_retry_from_the_admin_delivers_it(admin_client, echo_endpoint, receiver):
    job = failing_job(echo_endpoint, receiver, status=503)
    SyncJob.objects.filter(pk=job.pk).update(status="failed")  # gave up after its retries
    listing = admin_client.get(reverse("admin:connectors_syncjob_changelist") + "?status__exact=failed")
    assert listing.status_code == 200 and list(listing.context["cl"].result_list) == [job]
    response = admin_client.post(reverse("admin:connectors_syncjob_changelist"),
                                 {"action": "retry", "_selected_action": [job.pk]}, follow=True)
    assert "1 job queued again." in response.content.decode()
    run(echo_endpoint)  # the receiver answers 200 again
    job.refresh_from_db()
    assert job.status == "done" and receiver.received == [{"sku": "LAMP-1", "name": "Lampe"}]


def test_edit_payload_and_retry_sends_the_edited_json(admin_client, echo_endpoint, receiver):
    job = failing_job(echo_endpoint, receiver)
    url = reverse("admin:connectors_syncjob_edit_payload", args=[job.pk])
    form = admin_client.get(url)
    assert json.loads(form.context["form"].initial["payload"]) == {"sku": "LAMP-1", "name": "Lampe"}
    response = admin_client.post(url, {"payload": '{"sku": "LAMP-1", "name": "Lampe (fixed)"}'}, follow=True)
    assert "edited payload queued" in response.content.decode()
    run(echo_endpoint)
    job.refresh_from_db()
    assert job.status == "done" and job.payload_edited and receiver.received == [{"sku": "LAMP-1", "name": "Lampe (fixed)"}]


def test_an_edited_payload_that_is_not_json_is_refused_and_changes_nothing(admin_client, echo_endpoint, receiver):
    job = failing_job(echo_endpoint, receiver)
    response = admin_client.post(reverse("admin:connectors_syncjob_edit_payload", args=[job.pk]), {"payload": '{"sku": "LAMP-1",'})
    assert response.status_code == 200 and "This is not valid JSON" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "failed" and not job.payload_edited and job.payload == {"sku": "LAMP-1", "name": "Lampe"}


def test_resolve_closes_an_error_and_only_the_newest_error_per_record_stays_open(admin_client, echo_endpoint, receiver):
    product = ProductFactory(sku="LAMP-1")
    for name in ("one", "two"):
        product_update(product=product, name=name)
        receiver.script = [(422, {})]
        run(echo_endpoint)
    assert list(SyncJob.objects.order_by("id").values_list("status", flat=True)) == ["resolved", "failed"]
    newest = SyncJob.objects.get(status="failed")
    response = admin_client.post(reverse("admin:connectors_syncjob_changelist"),
                                 {"action": "resolve", "_selected_action": [newest.pk]}, follow=True)
    assert "1 job resolved." in response.content.decode()
    newest.refresh_from_db()
    assert newest.status == "resolved" and "admin" in newest.resolution


def test_job_pages_and_run_history_render_with_their_attempts(admin_client, echo_endpoint, receiver):
    job = failing_job(echo_endpoint, receiver)
    page = admin_client.get(reverse("admin:connectors_syncjob_change", args=[job.pk]))
    assert page.status_code == 200 and "Edit the payload and retry" in page.content.decode()
    history = admin_client.get(reverse("admin:connectors_syncattempt_changelist"))
    assert history.status_code == 200 and "Permanent failure" in history.content.decode()
    endpoints = admin_client.get(reverse("admin:connectors_endpoint_changelist"))
    assert "Operator console" in endpoints.content.decode()


def test_every_connectors_admin_page_renders_and_secrets_are_never_shown(admin_client, echo_endpoint, receiver):
    from connectors.models import Binding, InboxMessage, SyncAttempt

    echo_endpoint.credentials = {"access_token": "shpat_very_secret"}
    echo_endpoint.webhook_secret = "whsec_very_secret"
    echo_endpoint.save()
    failing_job(echo_endpoint, receiver)
    Binding.objects.create(endpoint=echo_endpoint, model="product", local_id="1", external_id="700")
    InboxMessage.objects.create(endpoint=echo_endpoint, topic="orders/create", body=b"{}", signature_ok=True)
    pages = [reverse("admin:connectors_endpoint_change", args=[echo_endpoint.pk])]
    for model in (SyncJob, SyncAttempt, Binding, InboxMessage):
        name = model._meta.model_name
        pages += [reverse(f"admin:connectors_{name}_changelist"), reverse(f"admin:connectors_{name}_change", args=[model.objects.first().pk])]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert "very_secret" not in response.content.decode(), url
