"""A return's timeline and the stock movements it writes read in the back office's language."""

import html

import pytest
from django.utils import translation

from hub.models import TimelineEvent
from inventory.models import StockMovement
from orders.models import CreditNote
from returns import services
from tests.returns.test_returns import request, shipped  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_language_afterwards():
    """A request in French leaves French active in this thread; the next tests start from the default."""
    yield
    translation.deactivate()


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def test_a_returns_timeline_reads_in_french_on_its_page(admin_client, shipped):  # noqa: F811
    order, _, _ = shipped
    rma = request(order)
    services.rma_authorise(rma=rma)
    change = page(admin_client.get(f"/admin/returns/rma/{rma.pk}/change/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert f"1 unité(s) de {order.number} via" in change and "Demandé → Autorisé" in change
    assert "unit(s) from" not in change and "Requested → Authorised" not in change
    english = page(admin_client.get(f"/admin/returns/rma/{rma.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"))
    assert f"1 unit(s) from {order.number} via" in english and "Requested → Authorised" in english


def test_a_rejection_from_the_admin_reads_in_the_readers_language(admin_client, shipped):  # noqa: F811
    order, _, _ = shipped
    rma = request(order)
    admin_client.post("/admin/returns/rma/", {"action": "reject", "_selected_action": [rma.pk]}, HTTP_ACCEPT_LANGUAGE="en")
    event = TimelineEvent.objects.get(content_type__model="rma", object_id=str(rma.pk), event="rejected")
    assert event.message == "rejected by admin"
    with translation.override("fr"):
        assert event.message_shown == "refusé par admin"


def test_refunds_and_quarantine_reasons_read_in_french(shipped):  # noqa: F811
    order, _, _ = shipped
    rma = request(order)
    services.rma_authorise(rma=rma)
    line = rma.lines.get()
    services.rma_receive(rma=rma, quantities={line.pk: 1})
    services.rma_inspect(rma=rma, results={line.pk: {"condition": "damaged", "disposition": "scrap"}})
    decision = TimelineEvent.objects.get(content_type__model="rma", object_id=str(rma.pk), event="needs a decision")
    movement = StockMovement.objects.get(kind="quarantine", reference=rma.number)
    assert decision.message.startswith("not refunded automatically: 1 LAMP-1 Damaged")
    assert movement.reason == f"{rma.number}: Damaged"
    services.rma_refund(rma=rma)
    refund = TimelineEvent.objects.get(content_type__model="rma", object_id=str(rma.pk), event="refund")
    assert refund.message == "25.00 EUR refunded (total 25.00 EUR)"
    with translation.override("fr"):
        assert decision.message_shown.startswith("pas de remboursement automatique : 1 × LAMP-1 Endommagé")
        assert movement.reason_shown == f"{rma.number} : Endommagé"
        assert refund.message_shown == "25,00\u00a0€ remboursés (total 25,00\u00a0€)"


def test_the_credit_note_of_a_return_reads_in_the_readers_language(admin_client, shipped):  # noqa: F811
    order, _, _ = shipped
    rma = request(order)
    services.rma_authorise(rma=rma)
    line = rma.lines.get()
    services.rma_receive(rma=rma, quantities={line.pk: 1})
    services.rma_inspect(rma=rma, results={line.pk: {"condition": "sellable", "disposition": "restock"}})
    note = CreditNote.objects.get()
    assert note.reason == f"Return {rma.number}" and note.lines.get().description == f"Return {rma.number}: LAMP-1 Lampe"
    french = page(admin_client.get(f"/admin/orders/creditnote/{note.pk}/change/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert f"Retour {rma.number} : LAMP-1 Lampe" in french and f"Return {rma.number}" not in french
    listing = page(admin_client.get("/admin/orders/creditnote/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert f"Retour {rma.number}" in listing


def test_a_printed_credit_note_reads_in_the_readers_language(admin_client, shipped):  # noqa: F811
    order, _, _ = shipped
    rma = request(order)
    services.rma_authorise(rma=rma)
    line = rma.lines.get()
    services.rma_receive(rma=rma, quantities={line.pk: 1})
    services.rma_inspect(rma=rma, results={line.pk: {"condition": "sellable", "disposition": "restock"}})
    note = CreditNote.objects.get()
    printed = page(admin_client.get(f"/admin/orders/creditnote/{note.pk}/print/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert f"Retour {rma.number} : LAMP-1 Lampe" in printed and f"Motif : Retour {rma.number}" in printed
