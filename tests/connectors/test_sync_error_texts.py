"""A failed sync reads in the back office's language: the sync job list and page, the attempts,
the operator console, the alert e-mail and the inbox show the hub's sentence in French for a French
user and in English for an English one, with the vendor's own words unchanged inside it. The
English sentence stays in `last_error`, where search finds it."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils.datastructures import CaseInsensitiveMapping
from django.utils import timezone, translation

from catalog.models import Product
from catalog.services import product_update
from connectors import sync
from connectors.errors import PermanentError, TransientError, message_of
from connectors.inbound import InboundRequest
from connectors.models import InboxMessage, SyncAttempt, SyncJob
from connectors.services import inbox_receive
from hub.texts import Text, text_shown
from tests.catalog.factories import ProductFactory

VENDOR_SAID = {"message": "SKU LAMP-1 is locked by another import"}
FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def run(endpoint):
    sync.sync_run(endpoint_id=endpoint.pk, flow_name="products.echo", budget_seconds=10)


def refused_job(endpoint, receiver) -> SyncJob:
    """A product push the vendor refuses with a 422 and its own message."""
    product = ProductFactory(sku="LAMP-1")
    product_update(product=product, name="Lampe")
    receiver.script = [(422, {}, VENDOR_SAID)]
    run(endpoint)
    return SyncJob.objects.get(record_key=str(product.pk))


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_a_refused_push_stores_the_english_sentence_and_its_text(echo_endpoint, receiver):
    job = refused_job(echo_endpoint, receiver)
    assert job.status == SyncJob.Status.FAILED
    assert job.last_error == 'POST /products: refused with 422: SKU LAMP-1 is locked by another import'
    assert job.error_text["msgid"] == "%(method)s %(path)s: refused with %(status)s: %(detail)s"
    assert job.error_text["params"]["detail"] == "SKU LAMP-1 is locked by another import"
    attempt = SyncAttempt.objects.get(job=job)
    assert attempt.error == job.last_error and attempt.error_text == job.error_text


def test_the_sync_job_list_and_page_read_french_for_a_french_user(admin_client, echo_endpoint, receiver):
    job = refused_job(echo_endpoint, receiver)
    listing = html(admin_client.get(reverse("admin:connectors_syncjob_changelist"), **FRENCH))
    assert "POST /products : refusé avec le statut 422 : SKU LAMP-1 is locked" in listing
    assert "refused with 422" not in listing
    page = html(admin_client.get(reverse("admin:connectors_syncjob_change", args=[job.pk]), **FRENCH))
    # The vendor's own words, as it wrote them, inside the French sentence.
    assert ("POST /products : refusé avec le statut 422 : SKU LAMP-1 is locked by another import"
            in page)
    assert "refused with 422" not in page


def test_the_language_cookie_chooses_french_too(admin_client, echo_endpoint, receiver):
    job = refused_job(echo_endpoint, receiver)
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = html(admin_client.get(reverse("admin:connectors_syncjob_change", args=[job.pk]), **ENGLISH))
    assert "refusé avec le statut 422" in page and "SKU LAMP-1 is locked by another import" in page


def test_the_sync_job_list_and_page_stay_english_for_an_english_user(admin_client, echo_endpoint, receiver):
    job = refused_job(echo_endpoint, receiver)
    listing = html(admin_client.get(reverse("admin:connectors_syncjob_changelist"), **ENGLISH))
    assert "POST /products: refused with 422: SKU LAMP-1 is locked" in listing
    page = html(admin_client.get(reverse("admin:connectors_syncjob_change", args=[job.pk]), **ENGLISH))
    assert "POST /products: refused with 422: SKU LAMP-1 is locked by another import" in page
    assert "refusé" not in listing and "refusé" not in page


def test_a_row_written_before_texts_were_stored_shows_its_english_error(admin_client, echo_endpoint, receiver):
    job = refused_job(echo_endpoint, receiver)
    SyncJob.objects.filter(pk=job.pk).update(error_text=None, last_error="PUT products/9.json: refused with 404: Not Found")
    for language in (FRENCH, ENGLISH):
        assert "PUT products/9.json: refused with 404: Not Found" in html(
            admin_client.get(reverse("admin:connectors_syncjob_change", args=[job.pk]), **language))
        assert "PUT products/9.json: refused with 404: Not Found" in html(admin_client.get(reverse("admin:connectors_syncjob_changelist"), **language))


def test_search_finds_the_english_error_whatever_the_readers_language(admin_client, echo_endpoint, receiver):
    job = refused_job(echo_endpoint, receiver)
    url = reverse("admin:connectors_syncjob_changelist")
    found = admin_client.get(url, {"q": "refused with 422"}, **FRENCH)
    assert list(found.context["cl"].result_list) == [job]
    assert list(admin_client.get(url, {"q": "locked by another import"}, **FRENCH).context["cl"].result_list) == [job]
    assert list(admin_client.get(url, {"q": "refusé"}, **FRENCH).context["cl"].result_list) == []


def test_the_operator_console_and_the_payload_page_show_the_last_error_in_french(admin_client, echo_endpoint, receiver):
    job = refused_job(echo_endpoint, receiver)
    console = html(admin_client.get(reverse("admin:connectors_console"), **FRENCH))
    assert "refusé avec le statut 422" in console and "SKU LAMP-1 is locked by another import" in console
    editor = html(admin_client.get(reverse("admin:connectors_syncjob_edit_payload", args=[job.pk]), **FRENCH))
    assert "refusé avec le statut 422" in editor


def test_the_attempts_list_shows_each_error_in_the_readers_language(admin_client, echo_endpoint, receiver):
    refused_job(echo_endpoint, receiver)
    assert "refusé avec le statut 422" in html(admin_client.get(reverse("admin:connectors_syncattempt_changelist"), **FRENCH))
    assert "refused with 422" in html(admin_client.get(reverse("admin:connectors_syncattempt_changelist"), **ENGLISH))


def test_a_job_that_gave_up_says_so_in_french(admin_client, echo_endpoint, receiver):
    product = ProductFactory(sku="LAMP-2")
    product_update(product=product, name="Lampe")
    job = SyncJob.objects.get(record_key=str(product.pk))
    SyncJob.objects.filter(pk=job.pk).update(attempts=9)  # the flow's tenth and last try
    receiver.script = [(503, {})]
    run(echo_endpoint)
    job.refresh_from_db()
    assert job.status == SyncJob.Status.FAILED
    assert job.last_error == "POST /products: server error 503 (gave up after 10 attempts)"
    page = html(admin_client.get(reverse("admin:connectors_syncjob_change", args=[job.pk]), **FRENCH))
    assert "POST /products : erreur serveur 503 (abandon après 10 tentatives)" in page


def test_a_lost_worker_reads_french(admin_client, echo_endpoint):
    product = ProductFactory(sku="LAMP-3")
    product_update(product=product, name="Lampe")
    job = SyncJob.objects.get(record_key=str(product.pk))
    SyncJob.objects.filter(pk=job.pk).update(status=SyncJob.Status.RUNNING, lease_token="x",
                                             lease_expires_at=timezone.now() - timedelta(minutes=1))
    assert sync.sync_sweep() == 1
    job.refresh_from_db()
    assert job.last_error == "worker lost"
    assert "processus perdu" in html(admin_client.get(reverse("admin:connectors_syncjob_changelist"), **FRENCH))
    attempt = SyncAttempt.objects.get(job=job)
    with translation.override("fr"):
        assert text_shown(attempt.error_text, attempt.error) == "le processus s'est arrêté avant la fin (bail expiré) ; remis en file"


def test_the_failing_alert_is_written_in_the_hubs_language(echo_endpoint, receiver, settings):
    settings.LANGUAGE_CODE = "fr"
    settings.HUB_ALERT_AFTER_FAILURES = 1
    echo_endpoint.alert_emails = "ops@example.com"
    echo_endpoint.save()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda callback, *args, **kwargs: callback())
        refused_job(echo_endpoint, receiver)
    body = mail.outbox[-1].body
    assert "POST /products : refusé avec le statut 422 : " in body and "SKU LAMP-1 is locked by another import" in body


def test_an_error_given_as_a_plain_string_is_kept_as_it_is():
    error = PermanentError("the vendor's own sentence")
    assert str(error) == "the vendor's own sentence" and error.stored() is None and message_of(error) == "the vendor's own sentence"


def test_a_text_error_reads_english_in_logs_and_nests_in_another_text():
    inner = TransientError(Text("%(method)s %(path)s: timed out", method="GET", path="orders"))
    assert str(inner) == "GET orders: timed out"
    outer = Text("%(error)s (gave up after %(attempts)s attempts)", error=message_of(inner), attempts=3)
    with translation.override("fr"):
        assert text_shown(outer.stored(), str(outer)) == "GET orders : délai dépassé (abandon après 3 tentatives)"


def test_a_rejected_webhook_reads_french_in_the_inbox(admin_client, echo_endpoint):
    request = InboundRequest(method="POST", path="/hooks/echo/", query={}, headers=CaseInsensitiveMapping({"X-Test": "1"}),
                             body=b'{"id": 1}', remote_addr="127.0.0.1")
    message = inbox_receive(endpoint=echo_endpoint, request=request)
    assert message.status == InboxMessage.Status.REJECTED and message.error == "signature does not match"
    listing = html(admin_client.get(reverse("admin:connectors_inboxmessage_changelist"), **FRENCH))
    assert "la signature ne correspond pas" in listing


def test_resolutions_read_in_the_readers_language(admin_client, echo_endpoint, receiver):
    job = refused_job(echo_endpoint, receiver)
    product_update(product=Product.objects.get(pk=job.record_key), name="Lampe (2)")
    run(echo_endpoint)  # the receiver answers 200: the newer sync succeeds and closes the older error
    job.refresh_from_db()
    assert job.status == SyncJob.Status.RESOLVED and job.resolution == "resolved: a later sync of this record succeeded"
    page = html(admin_client.get(reverse("admin:connectors_syncjob_change", args=[job.pk]), **FRENCH))
    assert "résolu : une synchronisation plus récente de cet enregistrement a réussi" in page
    assert "a later sync of this record succeeded" in html(admin_client.get(reverse("admin:connectors_syncjob_change", args=[job.pk]), **ENGLISH))


def test_an_operator_resolving_in_french_leaves_a_note_an_english_colleague_reads_in_english(admin_client, echo_endpoint, receiver):
    job = refused_job(echo_endpoint, receiver)
    admin_client.post(reverse("admin:connectors_syncjob_changelist"), {"action": "resolve", "_selected_action": [job.pk]}, **FRENCH)
    job.refresh_from_db()
    assert job.status == SyncJob.Status.RESOLVED and job.resolution == "resolved by admin"
    assert "close par admin" in html(admin_client.get(reverse("admin:connectors_syncjob_change", args=[job.pk]), **FRENCH))
    assert "resolved by admin" in html(admin_client.get(reverse("admin:connectors_syncjob_change", args=[job.pk]), **ENGLISH))


@pytest.mark.parametrize("body, said", [
    ({"code": "woocommerce_rest_authentication_error", "message": "Consumer secret is invalid.", "data": {"status": 401}},
     "Consumer secret is invalid. (woocommerce_rest_authentication_error)"),
    ({"error": "invalid_grant", "error_description": "Refresh token expired"}, "Refresh token expired (invalid_grant)"),
    ({"errors": [{"message": "Price must be positive"}, {"message": "SKU already taken"}]}, "Price must be positive; SKU already taken"),
    ({"detail": "Not found."}, "Not found."),
    ({"errors": {"sku": ["taken"]}}, ""),  # no words to pick: the console shows the body as it came
])
def test_a_vendors_json_error_body_is_read_for_its_words_and_code(body, said):
    from connectors.http import vendor_message

    assert vendor_message(body) == said


def test_a_scheduled_run_is_named_in_the_readers_language_not_by_its_stored_label(admin_client, echo_endpoint):
    job = SyncJob.objects.create(endpoint=echo_endpoint, flow="products.echo", record_key=sync.SCHEDULED_KEY,
                                 record_label="Stock reconcile: next page", next_attempt_at=timezone.now())
    listing = html(admin_client.get(reverse("admin:connectors_syncjob_changelist"), **FRENCH))
    page = html(admin_client.get(reverse("admin:connectors_syncjob_change", args=[job.pk]), **FRENCH))
    for shown in (listing, page):
        assert "Passage planifié" in shown and "next page" not in shown
