"""The back office reads like a product: workflow buttons on the document pages, no Delete for
what the books and the ledger keep, values rendered for people (addresses, options, rates, codes),
long texts on one line, customer and product pages that answer the usual questions."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils.html import escape

from catalog.models import ChannelCatalog
from catalog.services import price_entry_set
from connectors.models import InboxMessage, SyncJob
from hub.display import address_block, chips, percent, truncated
from hub.money import money_format
from inventory.models import StockMovement
from inventory.services import stock_receive
from orders import services
from orders.models import CreditNote, Invoice, SalesOrder
from tests.catalog.factories import PriceListFactory, ProductFactory
from tests.hub.test_admin_permissions import a_failed_job, an_endpoint, an_order, an_rma, reloaded
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def order_page(order) -> str:
    return reverse("admin:orders_salesorder_change", args=[order.pk])


# --- Workflow buttons ---------------------------------------------------------------------------

def test_an_order_on_hold_offers_release_and_cancel_only_and_releasing_it_from_its_page_allocates_it(admin_client):
    order = an_order("on_hold")
    page = admin_client.get(order_page(order)).content.decode()
    offered = {step for step in ("confirm", "allocate", "release", "ship", "complete", "hold", "cancel") if f'value="{step}"' in page}
    assert offered == {"release", "cancel"}
    response = admin_client.post(order_page(order), {"_workflow": "release"}, follow=True)
    assert reloaded(order).status == "allocated"
    assert f"{order.number} is now allocated." in response.content.decode()


def test_shipping_from_the_order_page_creates_the_shipment_and_says_so(admin_client):
    order = an_order("allocated")
    response = admin_client.post(order_page(order), {"_workflow": "ship"})
    assert reloaded(order).status == "shipped"
    assert messages_of(response) == [f"{order.number}-1 created."]


def test_a_step_no_longer_possible_when_the_button_is_pressed_is_refused_with_a_message_and_changes_nothing(admin_client):
    order = an_order("received")
    services.order_cancel(order=order, reason="customer called")  # in another tab, meanwhile
    response = admin_client.post(order_page(order), {"_workflow": "confirm"})
    assert response.status_code == 302 and reloaded(order).status == "cancelled"
    assert "is not possible in its current state" in messages_of(response)[0]


def test_an_unknown_step_is_a_400_not_a_500(admin_client):
    order = an_order("received")
    assert admin_client.post(order_page(order), {"_workflow": "teleport"}).status_code == 400
    assert reloaded(order).status == "received"


def test_the_workflow_form_posts_with_a_csrf_token_to_the_page_itself(admin_client):
    order = an_order("received")
    page = admin_client.get(order_page(order)).content.decode()
    form = page[page.index('<form id="workflow-actions"'):]
    form = form[:form.index("</form>")]
    assert f'method="post" action="{order_page(order)}"' in form and 'name="csrfmiddlewaretoken"' in form


def test_an_rma_page_links_to_receive_and_a_received_one_to_inspect(admin_client):
    authorised, received = an_rma("authorised"), None
    page = admin_client.get(reverse("admin:returns_rma_change", args=[authorised.pk])).content.decode()
    assert reverse("admin:returns_rma_receive", args=[authorised.pk]) in page and 'id="workflow-inspect"' not in page
    assert 'value="authorise"' not in page and 'value="cancel"' in page


def test_a_failed_sync_job_is_retried_from_its_page(admin_client):
    job = a_failed_job()
    url = reverse("admin:connectors_syncjob_change", args=[job.pk])
    page = admin_client.get(url).content.decode()
    assert 'value="retry"' in page and 'value="resolve"' in page
    response = admin_client.post(url, {"_workflow": "retry"})
    assert reloaded(job).status == SyncJob.Status.PENDING
    assert messages_of(response) == [f"Job #{job.pk} queued again; it is sent on the next run."]


def test_an_invoice_is_credited_in_full_once_from_its_page(admin_client):
    invoice = an_order("shipped").invoices.get()
    url = reverse("admin:orders_invoice_change", args=[invoice.pk])
    page = admin_client.get(url).content.decode()
    assert reverse("admin:orders_invoice_print", args=[invoice.pk]) in page
    credit = reverse("admin:orders_invoice_credit", args=[invoice.pk])
    assert credit in page
    admin_client.post(credit, {"reason": "order returned in full"})
    note = CreditNote.objects.get()
    assert (note.total, note.tax_total, note.reason) == (invoice.total, invoice.tax_total, "order returned in full")
    assert services.invoice_balance(invoice=invoice) <= 0
    assert credit not in admin_client.get(url).content.decode()
    refused = admin_client.post(credit, {"reason": "again"})
    assert "already has a credit note" in refused.content.decode() and CreditNote.objects.count() == 1


def test_a_credit_note_prints_in_french_under_the_company_header_with_the_invoice_it_corrects(admin_client):
    from orders.models import CompanySettings
    CompanySettings.objects.create(name="Lumière SAS", siren="842519373", address="12 rue des Tilleuls\n69003 Lyon", vat_number="FR32842519373",
                                   invoice_note="Pénalités de retard : trois fois le taux légal ; indemnité forfaitaire de 40 €.")
    invoice = an_order("shipped").invoices.get()
    note = services.invoice_credit_in_full(invoice=invoice, reason="colis perdu")
    invoice_page = admin_client.get(reverse("admin:orders_invoice_change", args=[invoice.pk]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    printed_url = reverse("admin:orders_creditnote_print", args=[note.pk])
    assert printed_url in invoice_page
    assert printed_url in admin_client.get(reverse("admin:orders_creditnote_change", args=[note.pk]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    printed = admin_client.get(printed_url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f"Avoir {note.number}" in printed and f"corrige la facture {invoice.number}" in printed
    assert "Lumière SAS" in printed and "12 rue des Tilleuls<br>69003 Lyon" in printed and "FR32842519373" in printed
    assert "indemnité forfaitaire de 40 €" in printed and "colis perdu" in printed
    total = f"{note.total:.2f}".replace(".", ",")
    assert total in printed and "Invoice" not in printed


# --- No Delete for what the books and the ledger keep ------------------------------------------

def delete_offered(client, url) -> bool:
    return "/delete/" in client.get(url).content.decode()


@pytest.mark.parametrize("document", ["invoiced order", "invoice", "credit note", "stock movement"])
def test_documents_the_law_or_the_ledger_keep_cannot_be_deleted_even_by_a_superuser(document, admin_client):
    order = an_order("shipped")
    invoice = order.invoices.get()
    obj = {"invoiced order": order, "invoice": invoice, "stock movement": StockMovement.objects.first(),
           "credit note": document == "credit note" and services.credit_note_issue(invoice=invoice, lines=[
               {"description": "goodwill", "unit_price": "5.00", "tax_rate": "0.2"}], reason="late delivery")}[document]
    opts = type(obj)._meta
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    delete = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])
    assert not delete_offered(admin_client, change)
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()
    listing = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    offered = [name for name, _ in listing.context["action_form"].fields["action"].choices] if listing.context["action_form"] else []
    assert "delete_selected" not in offered


def test_an_order_never_invoiced_nor_shipped_can_still_be_deleted_from_its_page(admin_client):
    order = an_order("received")
    assert delete_offered(admin_client, order_page(order))
    admin_client.post(reverse("admin:orders_salesorder_delete", args=[order.pk]), {"post": "yes"})
    assert not SalesOrder.objects.filter(pk=order.pk).exists()


# --- Lists that fit, values for people ---------------------------------------------------------

@pytest.mark.parametrize(("model", "columns"), [
    ("orders_salesorder", ["number", "customer_short", "status_label", "payment_label", "total_amount", "created_on", "channel_code"]),
    ("orders_invoice", ["number", "customer_short", "issued_on", "due_on", "total_amount", "balance", "print_link"]),
    ("inventory_stocklevel", ["product_short", "warehouse_code", "on_hand", "reserved", "available_units", "movements_link", "updated_at"]),
])
def test_lists_show_their_essential_columns_and_no_more(model, columns, admin_client):
    listing = admin_client.get(reverse(f"admin:{model}_changelist"))
    assert [name for name in listing.context["cl"].list_display if name != "action_checkbox"] == columns


def test_a_long_hold_reason_stays_on_one_line_in_the_order_list_with_the_full_text_on_hover(admin_client):
    order = an_order("received")
    reason = "credit limit exceeded: 12 000.00 open + 900.00 > limit 12 500.00; price of LAMP-1 is 25.00, hub price 27.50 (tolerance 2 %)"
    services.order_hold(order=order, reason=reason)
    page = admin_client.get(reverse("admin:orders_salesorder_changelist")).content.decode()
    assert f'title="{escape(reason)}"' in page and f">{escape(reason)}<" not in page
    assert "On hold" in page and 'class="hub-badge hub-badge-danger"' in page


def test_an_order_page_shows_addresses_as_blocks_and_tax_rates_as_percentages_never_json(admin_client):
    order = an_order("received")
    page = admin_client.get(order_page(order)).content.decode()
    assert '<address class="hub-address">Camille Martin<br>3 rue des Lilas<br>69003 Lyon<br>France</address>' in page
    assert "20 %" in page and "0.2000" not in page
    assert "line1" not in page and "postcode" not in page


def test_a_sync_jobs_error_is_cut_in_the_list_and_its_payload_pretty_printed_on_its_page(admin_client):
    job = a_failed_job()
    error = "HTTP 422 from the shop: " + "the variant's option values do not match its product's option axes; " * 3
    SyncJob.objects.filter(pk=job.pk).update(last_error=error, attempts=3)
    page = admin_client.get(reverse("admin:connectors_syncjob_changelist")).content.decode()
    assert f'title="{" ".join(error.split())}"'.replace("'", "&#x27;") in page
    detail = admin_client.get(reverse("admin:connectors_syncjob_change", args=[job.pk])).content.decode()
    assert '<pre class="hub-json">{\n  &quot;sku&quot;: &quot;LAMP-1&quot;\n}</pre>' in detail


def test_a_webhook_body_is_pretty_printed_in_the_inbox(admin_client):
    message = InboxMessage.objects.create(endpoint=an_endpoint(), topic="orders/create", body=b'{"id":7,"lines":[1,2]}', body_size=22,
                                          signature_ok=True)
    page = admin_client.get(reverse("admin:connectors_inboxmessage_change", args=[message.pk])).content.decode()
    assert "&quot;id&quot;: 7,\n  &quot;lines&quot;: [" in page


def test_display_helpers_render_values_for_people():
    assert (percent(Decimal("0.2000")), percent(Decimal("0.055")), percent(Decimal("0")), percent(None)) == ("20 %", "5.5 %", "0 %", "—")
    assert str(chips({"colour": "blue", "length": "10 m"})) == \
        '<span class="hub-chips"><span class="hub-chip">colour: blue</span><span class="hub-chip">length: 10 m</span></span>'
    assert str(address_block({"first_name": "Ana", "last_name": "Lima", "address1": "1 Main St", "zip": "1000", "city": "Bruxelles",
                              "country_code": "BE"})) == '<address class="hub-address">Ana Lima<br>1 Main St<br>1000 Bruxelles<br>Belgium</address>'
    assert str(truncated("short")) == '<span class="hub-oneline">short</span>'
    assert str(truncated("x" * 80, 10)) == f'<span class="hub-oneline" title="{"x" * 80}">{"x" * 9}…</span>'


# --- Customer and product pages -----------------------------------------------------------------

def test_a_customers_page_shows_their_orders_open_balance_credit_use_and_returns(admin_client):
    rma = an_rma("requested")
    order = rma.order
    customer = order.customer
    customer.credit_limit = Decimal("100.00")
    customer.save()
    page = admin_client.get(reverse("admin:orders_customer_change", args=[customer.pk])).content.decode()
    assert 'id="customer-orders"' in page and order.number in page
    balance = services.invoice_balance(invoice=order.invoices.get())
    assert money_format(balance, "EUR") in page
    assert 'id="customer-credit-use"' in page and "of €100.00 used" in page
    assert 'id="customer-returns"' in page and rma.number in page


def test_a_products_page_shows_stock_per_warehouse_and_what_each_price_list_gives(admin_client):
    lamp = ProductFactory(sku="LAMP-1", name="Lampe")
    red = ProductFactory(sku="LAMP-1-RED", name="Lampe rouge", parent=lamp, option_values={"colour": "red"})
    stock_receive(product=lamp, warehouse=WarehouseFactory(code="LYON", name="Lyon"), quantity=12)
    stock_receive(product=red, warehouse=WarehouseFactory(code="PARIS", name="Paris"), quantity=3)
    public = PriceListFactory(code="PUBLIC", name="Public")
    PriceListFactory(code="PRO", name="Pro", base_price_list=public, base_adjustment_percent=Decimal("-10"))
    price_entry_set(price_list=public, product=lamp, unit_price="40.00")
    price_entry_set(price_list=public, product=lamp, unit_price="36.00", min_quantity=10)
    page = admin_client.get(reverse("admin:catalog_product_change", args=[lamp.pk])).content.decode()
    stock = page[page.index('id="product-stock"'):page.index("</table>", page.index('id="product-stock"'))]
    assert "LYON — Lyon" in stock and "PARIS — Paris" in stock and "LAMP-1-RED" in stock
    prices = page[page.index('id="product-prices"'):page.index("</table>", page.index('id="product-prices"'))]
    assert "<b>€40.00</b>" in prices and "<b>€36.00</b>" in prices  # PRO: public − 10 %
    assert "from 10: 36.00" in prices
    french = admin_client.get(reverse("admin:catalog_product_change", args=[lamp.pk]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<b>40,00\xa0€</b>" in french
    variant_page = admin_client.get(reverse("admin:catalog_product_change", args=[red.pk])).content.decode()
    assert '<span class="hub-chip">colour: red</span>' in variant_page


def test_a_price_the_list_lacks_reads_as_words_not_as_a_code(admin_client):
    lamp = ProductFactory(sku="LAMP-1")
    public = PriceListFactory(code="PUBLIC")
    ChannelCatalog.objects.create(channel=an_endpoint().channel, public_price_list=public)
    price_entry_set(price_list=public, product=lamp, unit_price="40.00", min_quantity=5)
    page = admin_client.get(reverse("admin:catalog_product_change", args=[lamp.pk])).content.decode()
    assert "No price for this customer" in page and "no_price" not in page


def test_staff_order_form_finds_customers_as_you_type(admin_client):
    CustomerFactory(code="HOTEL", name="Hôtel du Parc")
    CustomerFactory(code="SHOP", name="Boutique")
    form = admin_client.get(reverse("admin:orders_staff_order")).content.decode()
    assert 'data-field-name="customer"' in form and "admin/js/autocomplete.js" in form
    found = admin_client.get("/admin/autocomplete/", {"app_label": "orders", "model_name": "salesorder", "field_name": "customer", "term": "parc"})
    assert [row["text"] for row in found.json()["results"]] == ["Hôtel du Parc (HOTEL)"]


