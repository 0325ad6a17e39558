"""What the connectors did reads in the back office's language: a done sync job's outcome, a
processed delivery's outcome and the 3PL's stock reconciliation reasons show in French for a
French user and in English for an English one. The English sentence stays in the English column
(`outcome`, `error`, `reason`), and rows written before the texts were stored still show it."""

from django.urls import reverse
from django.utils import translation

from connectors.binder import Binder
from connectors.flows import SENT, FlowContext
from connectors.fulfilment.models import ThirdPartyStock
from connectors.fulfilment.state import PARCEL, RELEASE
from connectors.models import InboxMessage, SyncJob
from hub.texts import text_shown
from inventory.models import StockMovement
from tests.connectors.shipbob_world import NORD, inbox_settle, place, run_flows
from tests.connectors.test_shipbob_e2e import check_stock, send_items

FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def released(world) -> tuple[SyncJob, str, str]:
    """An order sent to ShipBob: its done orders.out job, the part's reference and ShipBob's id."""
    order = place(world)
    run_flows(world["endpoint"], "orders.out")
    job = SyncJob.objects.get(flow="orders.out", record_key=str(order.pk))
    binding = Binder(world["endpoint"]).all(RELEASE).get()
    return job, binding.data["reference"], binding.external_id


def shipped_delivery(world) -> InboxMessage:
    """ShipBob's order.shipped webhook for a released order, processed."""
    released(world)
    world["sandbox"].warehouse.advance(force=True)
    inbox_settle("order.shipped")
    return InboxMessage.objects.get(topic="order.shipped")


def test_a_done_sync_job_stores_its_english_outcome_and_its_text(shipbob_world):
    job, reference, external_id = released(shipbob_world)
    assert job.status == SyncJob.Status.DONE
    assert job.outcome == f"released {reference} to ShipBob ({external_id})"
    assert job.outcome_text == {"msgid": "released %(reference)s to %(system)s (%(external_id)s)",
                                "params": {"reference": reference, "system": "ShipBob", "external_id": external_id}}


def test_a_done_sync_job_reads_french_for_a_french_user_and_english_for_an_english_one(admin_client, shipbob_world):
    job, reference, external_id = released(shipbob_world)
    url = reverse("admin:connectors_syncjob_change", args=[job.pk])
    french = html(admin_client.get(url, **FRENCH))
    assert f"{reference} transmise à ShipBob ({external_id})" in french and "released" not in french
    english = html(admin_client.get(url, **ENGLISH))
    assert f"released {reference} to ShipBob ({external_id})" in english and "transmise" not in english


def test_a_processed_delivery_reads_french_for_a_french_user_and_english_for_an_english_one(admin_client, shipbob_world):
    message = shipped_delivery(shipbob_world)
    shipment = Binder(shipbob_world["endpoint"]).all(PARCEL).get().external_id
    assert message.status == InboxMessage.Status.PROCESSED
    assert message.error.startswith("recorded ") and f"from ShipBob shipment {shipment}, " in message.error
    number = message.error.split()[1]
    page = reverse("admin:connectors_inboxmessage_change", args=[message.pk])
    listing = reverse("admin:connectors_inboxmessage_changelist")
    french = html(admin_client.get(page, **FRENCH))
    assert f"{number} enregistrée depuis l&#x27;expédition ShipBob {shipment}, " in french
    assert "Résultat ou erreur" in french and "recorded " not in french
    assert f"{number} enregistrée depuis" in html(admin_client.get(listing, **FRENCH))
    english = html(admin_client.get(page, **ENGLISH))
    assert f"recorded {number} from ShipBob shipment {shipment}, " in english and "enregistrée" not in english
    assert f"recorded {number} from ShipBob" in html(admin_client.get(listing, **ENGLISH))


def test_rows_written_before_texts_were_stored_show_their_english_outcome(admin_client, shipbob_world):
    job, _, _ = released(shipbob_world)
    SyncJob.objects.filter(pk=job.pk).update(outcome="released #1001-3PL-NORD-1 to ShipBob (77)", outcome_text=None)
    message = InboxMessage.objects.create(endpoint=shipbob_world["endpoint"], topic="order.shipped", delivery_id="old-1", body=b"{}",
                                          signature_ok=True, status=InboxMessage.Status.PROCESSED, error="recorded SHP-9 from ShipBob shipment 5, 6A1")
    for language in (FRENCH, ENGLISH):
        assert "released #1001-3PL-NORD-1 to ShipBob (77)" in html(
            admin_client.get(reverse("admin:connectors_syncjob_change", args=[job.pk]), **language))
        assert "recorded SHP-9 from ShipBob shipment 5, 6A1" in html(
            admin_client.get(reverse("admin:connectors_inboxmessage_change", args=[message.pk]), **language))


def test_a_3pl_correction_reason_reads_french_on_the_reconciliation_page(admin_client, shipbob_world):
    send_items(shipbob_world)
    shipbob_world["account"].control("stock/adjust", {"location_id": NORD, "sku": "LAMP-1", "change": -2, "reason": "Damaged in storage"})
    job = check_stock(shipbob_world)
    assert job.status == SyncJob.Status.DONE
    count = ThirdPartyStock.objects.get(product=shipbob_world["lamp"])
    assert count.reason.startswith("InventoryAdjusted: Damaged in storage — ShipBob 1001: 8 on hand, 0 for orders; hub 10, ")
    url = reverse("admin:connectors_fulfilment_thirdpartystock_changelist")
    french = html(admin_client.get(url, **FRENCH))
    # The 3PL's own words stay as it wrote them, inside the French sentence.
    assert "InventoryAdjusted: Damaged in storage — ShipBob 1001 : 8 en stock, 0 pour des commandes ; hub 10, " in french
    assert "Écart" in french
    english = html(admin_client.get(url, **ENGLISH))
    assert "InventoryAdjusted: Damaged in storage — ShipBob 1001: 8 on hand, 0 for orders; hub 10, " in english
    with translation.override("fr"):
        assert text_shown(job.outcome_text, job.outcome) == "4 SKU vérifié(s) dans 1 entrepôt(s); corrigé(s) : LAMP-1 -2"
    assert job.outcome == "checked 4 SKU(s) at 1 warehouse(s); corrected LAMP-1 -2"


def test_the_3pl_correction_movement_keeps_the_english_reason_and_its_text(shipbob_world):
    send_items(shipbob_world)
    shipbob_world["account"].control("stock/adjust", {"location_id": NORD, "sku": "LAMP-1", "change": -2, "reason": "Damaged in storage"})
    check_stock(shipbob_world)
    movement = StockMovement.objects.get(product=shipbob_world["lamp"], kind=StockMovement.Kind.THIRD_PARTY_CORRECTION)
    assert movement.reason.startswith("InventoryAdjusted: Damaged in storage — ShipBob 1001: 8 on hand") and len(movement.reason) <= 200
    with translation.override("fr"):
        assert "ShipBob 1001 : 8 en stock, 0 pour des commandes" in text_shown(movement.reason_text, movement.reason)


def test_a_plain_string_outcome_is_kept_as_it_is(admin_client, echo_endpoint, receiver):
    from catalog.services import product_update
    from connectors import sync
    from tests.catalog.factories import ProductFactory

    product = ProductFactory(sku="LAMP-1")
    product_update(product=product, name="Lampe")
    sync.sync_run(endpoint_id=echo_endpoint.pk, flow_name="products.echo", budget_seconds=10)
    job = SyncJob.objects.get(record_key=str(product.pk))
    assert job.status == SyncJob.Status.DONE and job.outcome == "pushed LAMP-1" and job.outcome_text is None
    assert "pushed LAMP-1" in html(admin_client.get(reverse("admin:connectors_syncjob_change", args=[job.pk]), **FRENCH))


def test_a_flow_that_names_no_outcome_was_sent():
    ctx = FlowContext(endpoint=None, connector=None)
    ctx.done(type("Job", (), {"pk": 1})())
    assert ctx.outcomes[1] == SENT and str(SENT) == "sent"
    with translation.override("fr"):
        assert SENT.shown() == "envoyé"


def test_a_shops_cancellation_reason_reads_in_the_readers_language():
    from connectors.prestashop import mapping as prestashop
    from connectors.woocommerce import mapping as woocommerce

    failed = woocommerce.cancellation({"status": "failed"})
    cancelled = prestashop.cancellation({"current_state": "6"}, {"name": "Annulé"}, {"6"})
    assert (str(failed), str(cancelled)) == ("payment failed in WooCommerce", "Annulé in PrestaShop")
    with translation.override("fr"):
        assert (failed.shown(), cancelled.shown()) == ("échec du paiement dans WooCommerce", "Annulé dans PrestaShop")
