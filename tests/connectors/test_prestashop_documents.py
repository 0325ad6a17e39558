"""The Webservice's XML and the pure mapping, without a shop."""

from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from connectors.prestashop import documents, mapping
from connectors.prestashop.documents import Languages
from orders.services import _computed_totals
from orders.validation import validate_order_payload


def test_a_pretty_printed_answer_reads_its_values_languages_and_associations():
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">
    <order>
        <id>
            <![CDATA[5]]>
        </id>
        <id_customer xlink:href="http://shop/api/customers/2"><![CDATA[2]]></id_customer>
        <note></note>
        <associations>
            <order_rows nodeType="order_row" virtualEntity="true">
                <order_row><id><![CDATA[9]]></id><product_reference><![CDATA[LAMP-1]]></product_reference></order_row>
            </order_rows>
            <taxes nodeType="tax" api="taxes"/>
        </associations>
        <name><language id="1"><![CDATA[Lampe]]></language><language id="2"><![CDATA[Lamp]]></language></name>
    </order>
</prestashop>"""
    order = documents.read_one(body, "order")
    assert order["id"] == "5" and order["id_customer"] == "2" and order["note"] == ""
    assert order["associations"] == {"order_rows": [{"id": "9", "product_reference": "LAMP-1"}], "taxes": []}
    assert order["name"] == {"1": "Lampe", "2": "Lamp"} and documents.language_value(order["name"], "2") == "Lamp"


def test_a_list_without_display_reads_the_ids_of_its_items():
    body = b'<prestashop xmlns:xlink="http://www.w3.org/1999/xlink"><orders><order id="1" xlink:href="x"/><order id="7" xlink:href="y"/></orders></prestashop>'
    assert documents.read_list(body, "orders") == [{"id": "1"}, {"id": "7"}]


def test_a_document_written_goes_out_in_cdata_without_formatting_and_without_characters_xml_cannot_carry():
    body = documents.document("product", {"reference": "A]]>B", "price": Decimal("20.833333"), "active": True, "skipped": None,
                                          "name": Languages({"1": "Lampe\x00 <b>", "2": "Lamp"}),
                                          "associations": {"categories": ("category", [{"id": 2}])}})
    assert b"\n" not in body and b"skipped" not in body
    product = documents.read_one(body, "product")
    assert product == {"reference": "A]]>B", "price": "20.833333", "active": "1", "name": {"1": "Lampe <b>", "2": "Lamp"},
                       "associations": {"categories": [{"id": "2"}]}}
    with pytest.raises(ValueError):
        documents.document("product", {"bad name": "x"})


@pytest.mark.parametrize("hostile", [
    b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><prestashop><order><id>&b;</id></order></prestashop>',
    b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><prestashop><order><id>&x;</id></order></prestashop>',
    b"<html><body>Bad gateway</body></html>", b"<prestashop><order>",
])
def test_an_answer_with_entity_declarations_or_that_is_not_the_webservices_is_refused(hostile):
    with pytest.raises(documents.DocumentError):
        documents.read_one(hostile, "order")


def test_error_answers_read_as_code_and_message():
    body = (b'<?xml version="1.0" encoding="UTF-8"?><prestashop xmlns:xlink="http://www.w3.org/1999/xlink"><errors><error>'
            b'<code><![CDATA[85]]></code><message><![CDATA[Validation error: "Property Product->price is not valid"]]></message>'
            b"</error></errors></prestashop>")
    assert documents.read_errors(body) == [("85", 'Validation error: "Property Product->price is not valid"')]
    assert documents.read_errors(b"<html>nginx</html>") == []


def _bundle(**order_changes):
    order = {"id": "12", "reference": "XKBKNABJK", "id_customer": "3", "id_carrier": "2", "current_state": "2", "module": "ps_checkout",
             "total_products": "92.000000", "total_products_wt": "110.400000", "total_shipping_tax_excl": "5.000000",
             "total_shipping_tax_incl": "6.000000", "total_wrapping_tax_excl": "2.000000", "total_wrapping_tax_incl": "2.400000",
             "total_discounts_tax_excl": "8.330000", "total_discounts_tax_incl": "10.000000", "total_paid_tax_excl": "90.670000",
             "total_paid_tax_incl": "108.800000", "gift": "1", "gift_message": "Joyeux anniversaire", **order_changes}
    details = [
        {"id": "30", "product_reference": "LAMP-1", "product_name": "Lampe", "product_quantity": "3", "total_price_tax_excl": "50.000000",
         "total_price_tax_incl": "60.000000", "associations": {"taxes": [{"id": "1"}]}},
        {"id": "31", "product_reference": "", "product_id": "8", "product_attribute_id": "0", "product_name": "Sans référence",
         "product_quantity": "1", "total_price_tax_excl": "42.000000", "total_price_tax_incl": "50.400000", "associations": {"taxes": [{"id": "1"}]}},
    ]
    address = {"firstname": "Léa", "lastname": "Martin", "address1": "3 rue des Lilas", "postcode": "69003", "city": "Lyon", "country_iso": "FR"}
    return {"order": order, "details": details, "taxes": {"1": "20.000"}, "state": {"paid": "1", "name": {"1": "Paiement accepté"}},
            "carrier": {"name": "Colissimo"}, "customer": {"email": "lea@example.com", "firstname": "Léa", "lastname": "Martin"},
            "invoice_address": address, "delivery_address": address, "currency": "EUR",
            "cart_rules": [{"name": "BIENVENUE", "value": "10.000000", "id_cart_rule": "1"}], "slips": [],
            "placed_at": "2025-01-10T09:00:00+00:00", "updated_at": "2025-01-10T09:00:00+00:00", "cancelled": ""}


def test_an_order_maps_to_a_payload_whose_totals_add_up_as_the_hub_computes_them():
    payload = mapping.order_payload(_bundle())
    data = validate_order_payload(payload)
    totals = _computed_totals(data)
    assert totals["total"] == data["total"] == Decimal("108.80")
    assert [(line["sku"], line["unit_price"], line["discount"], line["tax_rate"]) for line in payload["lines"]] == [
        ("LAMP-1", "16.6667", "0.00", "0.2000"), ("prestashop-8-0", "42.0000", "0.00", "0.2000")]
    assert [(s["title"], s["price"]) for s in payload["shipping_lines"]] == [("Colissimo", "5.00"), ("Gift wrapping", "2.00")]
    assert (payload["order_discount"], payload["tax_total"], payload["payment_status"]) == ("8.33", "18.13", "paid")
    assert payload["notes"] == "Joyeux anniversaire" and payload["shipping_address"]["country"] == "FR"


def test_a_line_whose_unit_price_does_not_divide_keeps_its_total_to_the_cent():
    line = mapping.order_line({"product_reference": "X", "product_quantity": "3", "total_price_tax_excl": "10.000000",
                               "total_price_tax_incl": "12.000000"}, {})
    assert (line["unit_price"], line["discount"], line["tax_rate"]) == ("3.3334", "0.00", "0.2000")


def test_an_order_in_a_state_the_endpoint_counts_as_cancelled_says_so_with_the_states_name():
    state = {"name": {"1": "Annulé"}}
    assert str(mapping.cancellation({"current_state": "6"}, state, {"6", "8"})) == "Annulé in PrestaShop"
    assert mapping.cancellation({"current_state": "2"}, state, {"6", "8"}) == ""


def test_a_credit_slip_maps_to_refund_lines_and_the_amount_given_back():
    slip = {"total_products_tax_incl": "30.000000", "total_shipping_tax_incl": "6.000000",
            "associations": {"order_slip_details": [{"id_order_detail": "30", "product_quantity": "1", "amount_tax_excl": "16.666667",
                                                     "amount_tax_incl": "20.000000"}]}}
    details = _bundle()["details"]
    assert mapping.refund_amount(slip) == Decimal("36.00")
    assert mapping.refund_lines(slip, details=details, prices_include_tax=False) == [
        {"sku": "LAMP-1", "quantity": 1, "amount": Decimal("16.67"), "line_ref": "30"}]


def test_shop_dates_have_no_offset_and_are_read_in_the_shops_time_zone():
    paris = ZoneInfo("Europe/Paris")
    assert mapping.shop_time("2025-07-01 14:00:00", paris) == datetime(2025, 7, 1, 12, 0, tzinfo=timezone.utc)
    assert mapping.shop_time("0000-00-00 00:00:00", paris) is None
    assert mapping.shop_time_text(datetime(2025, 1, 1, 23, 30, tzinfo=timezone.utc), paris) == "2025-01-02 00:30:00"


def test_names_and_friendly_urls_are_made_acceptable_to_the_shop():
    assert mapping.catalog_name("Lampe <LED> {20W}; #1") == "Lampe  LED   20W    1"
    assert mapping.link_rewrite("Chemise lin été") == "chemise-lin-ete"
    assert mapping.price_without_tax(Decimal("25.00"), includes_tax=True, tax_rate_percent=Decimal("20")) == Decimal("20.833333")
