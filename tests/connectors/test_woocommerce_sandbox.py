"""The WooCommerce sandbox speaks WooCommerce's REST API wc/v3 and webhooks as documented:
checked with plain `requests` and a webhook receiver, never with the hub's connector code."""

import base64
import hashlib
import hmac
import json
import random
from datetime import datetime, timezone
from urllib.parse import parse_qs

import pytest
import requests

from connectors.testing.harness import Clock
from connectors.testing.receiver import WebhookReceiver
from connectors.woocommerce.sandbox import WooCommerceSandbox
from connectors.woocommerce.traffic import traffic_step

KEY, SECRET = "ck_test_0123456789", "cs_test_9876543210"
API = "/wp-json/wc/v3"
START = datetime(2025, 1, 15, 10, 0, tzinfo=timezone.utc)  # 11:00 in Paris


class Woo:
    def __init__(self, sandbox, auth=(KEY, SECRET)):
        self.sandbox, self.auth = sandbox, auth

    def call(self, method, path, **kwargs):
        url = path if path.startswith("http") else f"{self.sandbox.url}{API}{path}"
        return requests.request(method, url, auth=self.auth, timeout=10, **kwargs)

    def get(self, path, **params):
        return self.call("GET", path, params=params)

    def post(self, path, body):
        return self.call("POST", path, json=body)

    def put(self, path, body):
        return self.call("PUT", path, json=body)


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def shop():
    with WooCommerceSandbox(consumer_key=KEY, consumer_secret=SECRET, clock=Clock(start=START)) as sandbox:
        yield sandbox


@pytest.fixture
def woo(shop):
    return Woo(shop)


def lamp(woo, sku="LAMP-1", price="25.00", stock=10, **extra):
    response = woo.post("/products", {"name": "Lampe", "type": "simple", "sku": sku, "regular_price": price,
                                      "manage_stock": True, "stock_quantity": stock, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def expected_signature(secret, body):
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def subscribe(woo, receiver, topic, secret="hook-secret"):
    response = woo.post("/webhooks", {"name": topic, "topic": topic, "delivery_url": f"{receiver.url}/hooks", "secret": secret})
    assert response.status_code == 201, response.text
    return response.json()


# --- authentication and errors --------------------------------------------------------------------

def test_basic_auth_with_the_consumer_key_and_secret_is_required_and_errors_have_wordpress_shape(shop, woo):
    assert woo.get("/orders").status_code == 200
    anonymous = requests.get(f"{shop.url}{API}/orders", timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.json() == {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources.",
                                "data": {"status": 401}}
    wrong_secret = Woo(shop, (KEY, "cs_wrong")).get("/orders")
    assert wrong_secret.status_code == 401 and wrong_secret.json()["code"] == "woocommerce_rest_authentication_error"
    assert wrong_secret.json()["message"] == "Consumer secret is invalid."
    unknown_key = Woo(shop, ("ck_unknown", SECRET)).post("/products", {"name": "x"})
    assert unknown_key.status_code == 401 and unknown_key.json()["code"] == "woocommerce_rest_cannot_create"
    in_query = requests.get(f"{shop.url}{API}/orders", params={"consumer_key": KEY, "consumer_secret": SECRET}, timeout=5)
    assert in_query.status_code == 200


def test_a_read_only_key_cannot_write_and_nothing_is_created(shop, woo):
    key, secret = shop.add_key("read")
    reader = Woo(shop, (key, secret))
    assert reader.get("/products").status_code == 200
    refused = reader.post("/products", {"name": "Lampe"})
    assert refused.status_code == 401 and refused.json()["message"] == "The API key provided does not have write permissions."
    assert shop.products == {}


def test_unknown_routes_unknown_ids_and_broken_json_answer_wordpress_errors(shop, woo):
    no_route = woo.get("/nothing-here")
    assert no_route.status_code == 404 and no_route.json()["code"] == "rest_no_route"
    assert woo.get("/products/999").json()["code"] == "woocommerce_rest_product_invalid_id"
    assert woo.get("/orders/999").json() == {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.",
                                             "data": {"status": 404}}
    broken = woo.call("POST", "/products", data=b"{oops", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["code"] == "rest_invalid_json"


def test_a_host_limit_in_front_of_the_shop_answers_429_with_retry_after_until_the_window_ends():
    clock = Clock(start=START)
    with WooCommerceSandbox(consumer_key=KEY, consumer_secret=SECRET, host_limit=(2, 60), clock=clock) as shop:
        woo = Woo(shop)
        answers = [woo.get("/orders") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[2].headers["Retry-After"] == "60" and answers[2].headers["Content-Type"] == "text/html"
        clock.advance(60)
        assert woo.get("/orders").status_code == 200


def test_responses_are_json_encoded_as_php_does(shop, woo):
    product = woo.post("/products", {"name": "Lampe à poser", "sku": "LAMP-É"})
    assert b"http:\\/\\/" in product.content and b"\\u00e0" in product.content
    assert product.json()["name"] == "Lampe à poser"


# --- products -------------------------------------------------------------------------------------

def test_prices_are_strings_and_a_number_is_refused_with_rest_invalid_param(shop, woo):
    refused = woo.post("/products", {"name": "Lampe", "regular_price": 25})
    assert refused.status_code == 400 and refused.json()["code"] == "rest_invalid_param"
    assert refused.json()["data"]["params"] == {"regular_price": "regular_price is not of type string."}
    product = lamp(woo, price="25.00", sale_price="19.90")
    assert (product["regular_price"], product["sale_price"], product["price"], product["on_sale"]) == ("25.00", "19.90", "19.90", True)


def test_stock_is_counted_only_when_managed_and_drives_the_stock_status(shop, woo):
    product = lamp(woo, stock=2)
    assert (product["stock_quantity"], product["stock_status"]) == (2, "instock")
    emptied = woo.put(f"/products/{product['id']}", {"stock_quantity": 0}).json()
    assert (emptied["stock_quantity"], emptied["stock_status"]) == (0, "outofstock")
    unmanaged = woo.post("/products", {"name": "Carte", "sku": "CARD", "regular_price": "3.00", "stock_quantity": 7}).json()
    assert (unmanaged["manage_stock"], unmanaged["stock_quantity"], unmanaged["stock_status"]) == (False, None, "instock")


def test_a_duplicate_sku_is_refused_with_the_owner_and_a_free_suggestion(shop, woo):
    first = lamp(woo)
    refused = woo.post("/products", {"name": "Autre", "sku": "LAMP-1"})
    assert refused.status_code == 400
    assert refused.json() == {"code": "product_invalid_sku", "message": "Invalid or duplicated SKU.",
                              "data": {"status": 400, "resource_id": first["id"], "unique_sku": "LAMP-1-1"}}


def test_variable_products_have_variations_and_the_sku_filter_finds_simple_products_and_variations(shop, woo):
    lamp(woo)
    shirt = woo.post("/products", {"name": "T-shirt", "type": "variable", "sku": "TEE",
                                   "attributes": [{"name": "Taille", "variation": True, "options": ["S", "M"]}]}).json()
    small = woo.post(f"/products/{shirt['id']}/variations", {"sku": "TEE-S", "regular_price": "15.00", "manage_stock": True,
                                                              "stock_quantity": 4, "attributes": [{"name": "Taille", "option": "S"}]})
    assert small.status_code == 201
    assert woo.get(f"/products/{shirt['id']}").json()["variations"] == [small.json()["id"]]
    found = woo.get("/products", sku="TEE-S").json()
    assert [(p["id"], p["type"], p["parent_id"]) for p in found] == [(small.json()["id"], "variation", shirt["id"])]
    both = woo.get("/products", sku="LAMP-1,TEE-S").json()
    assert sorted(p["sku"] for p in both) == ["LAMP-1", "TEE-S"]
    assert woo.get(f"/products/{shirt['id']}").json()["price"] == "15.00"


def test_batch_accepts_at_most_100_items_and_reports_errors_per_item(shop, woo):
    too_many = woo.post("/products/batch", {"create": [{"name": f"P{n}", "sku": f"P{n}"} for n in range(60)],
                                            "update": [{"id": 1, "name": "x"}] * 41})
    assert too_many.status_code == 413
    assert too_many.json() == {"code": "woocommerce_rest_request_entity_too_large",
                               "message": "Unable to accept more than 100 items for this request.", "data": {"status": 413}}
    assert shop.products == {}
    existing = lamp(woo)
    batch = woo.post("/products/batch", {"create": [{"name": "A", "sku": "A-1", "regular_price": "5.00"},
                                                    {"name": "B", "sku": "LAMP-1"}],
                                         "update": [{"id": existing["id"], "regular_price": "27.00"}, {"id": 4242, "name": "?"}]})
    assert batch.status_code == 200
    answer = batch.json()
    assert answer["create"][0]["sku"] == "A-1"
    assert answer["create"][1]["id"] == 0 and answer["create"][1]["error"]["code"] == "product_invalid_sku"
    assert answer["update"][0]["regular_price"] == "27.00"
    assert answer["update"][1] == {"id": 4242, "error": {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.",
                                                         "data": {"status": 404}}}
    variations_cap = woo.post(f"/products/{existing['id']}/variations/batch", {"create": [{"sku": f"V{n}"} for n in range(101)]})
    assert variations_cap.status_code == 413


# --- orders ---------------------------------------------------------------------------------------

def test_orders_paginate_with_totals_in_headers_and_link_prev_next(shop, woo):
    lamp(woo, stock=500)
    placed = [shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}], customer="guest")["id"] for _ in range(25)]
    first = woo.get("/orders", orderby="id", order="asc")
    assert len(first.json()) == 10 and first.headers["X-WP-Total"] == "25" and first.headers["X-WP-TotalPages"] == "3"
    assert set(first.links) == {"next"}
    seen, response = [o["id"] for o in first.json()], first
    second = woo.call("GET", first.links["next"]["url"])
    assert set(second.links) == {"prev", "next"} and "orderby=id" in second.links["next"]["url"]
    while "next" in response.links:
        response = woo.call("GET", response.links["next"]["url"])
        seen += [o["id"] for o in response.json()]
    assert seen == placed
    big = woo.get("/orders", per_page=100)
    assert len(big.json()) == 25 and big.headers["X-WP-TotalPages"] == "1" and "Link" not in big.headers
    too_big = woo.get("/orders", per_page=101)
    assert too_big.status_code == 400
    assert too_big.json()["data"]["params"] == {"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"}
    assert woo.get("/orders", page=4).json() == []


def test_modified_after_reads_the_site_time_zone_unless_dates_are_gmt(shop, woo):
    lamp(woo)
    early = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}])
    shop.clock.advance(3600)
    late = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}])
    assert late["date_modified_gmt"] == "2025-01-15T11:00:00" and late["date_modified"] == "2025-01-15T12:00:00"
    in_gmt = woo.get("/orders", modified_after="2025-01-15T10:30:00", dates_are_gmt="true").json()
    assert [o["id"] for o in in_gmt] == [late["id"]]
    as_site_time = woo.get("/orders", modified_after="2025-01-15T10:30:00").json()  # 10:30 in Paris is 09:30 GMT
    assert sorted(o["id"] for o in as_site_time) == [early["id"], late["id"]]
    strictly_after = woo.get("/orders", modified_after="2025-01-15T11:00:00", dates_are_gmt="true").json()
    assert strictly_after == []
    assert woo.get("/orders", modified_after="yesterday").json()["code"] == "rest_invalid_param"


def test_orders_sort_by_date_descending_by_default_and_as_asked(shop, woo):
    lamp(woo)
    ids = []
    for _ in range(3):
        ids.append(shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}])["id"])
        shop.clock.advance(60)
    assert [o["id"] for o in woo.get("/orders").json()] == ids[::-1]
    assert [o["id"] for o in woo.get("/orders", orderby="id", order="asc").json()] == ids
    assert woo.get("/orders", orderby="price").json()["code"] == "rest_invalid_param"


def test_order_totals_are_built_per_line_as_in_the_vendors_order_727():
    with WooCommerceSandbox(consumer_key=KEY, consumer_secret=SECRET, prices_include_tax=False, tax_rate="7.5",
                            tax_shipping=False, shipping_cost="10.00") as shop:
        shop.seed_products([{"name": "Woo Single #1", "sku": "W1", "regular_price": "3.00"},
                            {"name": "Ship Your Idea", "sku": "Bar3", "regular_price": "12.00"}])
        order = shop.place_order(lines=[{"sku": "W1", "quantity": 2}, {"sku": "Bar3", "quantity": 1}])
    assert [(l["subtotal"], l["total_tax"], l["taxes"][0]["total"], l["price"]) for l in order["line_items"]] == [
        ("6.00", "0.45", "0.45", 3), ("12.00", "0.90", "0.9", 12)]
    assert (order["cart_tax"], order["shipping_total"], order["shipping_tax"], order["total"]) == ("1.35", "10.00", "0.00", "29.35")


def test_rounding_tax_at_subtotal_gives_a_total_that_does_not_add_up_as_in_the_vendors_order_728():
    with WooCommerceSandbox(consumer_key=KEY, consumer_secret=SECRET, prices_include_tax=False, tax_rate="7.5",
                            tax_shipping=False, shipping_cost="30.00", round_tax_at_subtotal=True) as shop:
        shop.seed_products([{"name": "Woo Logo", "sku": "LOGO", "regular_price": "15.00"},
                            {"name": "Woo Single #1", "sku": "W1", "regular_price": "3.00"},
                            {"name": "Ship Your Idea", "sku": "Bar3", "regular_price": "12.00"}])
        order = shop.place_order(lines=[{"sku": "LOGO", "quantity": 1}, {"sku": "W1", "quantity": 1}, {"sku": "Bar3", "quantity": 1}])
    line_taxes = [l["total_tax"] for l in order["line_items"]]
    assert line_taxes == ["1.13", "0.23", "0.90"]
    assert [l["taxes"][0]["total"] for l in order["line_items"]] == ["1.125", "0.225", "0.9"]
    assert (order["cart_tax"], order["total_tax"], order["tax_lines"][0]["tax_total"], order["total"]) == ("2.25", "2.25", "2.25", "62.25")
    assert sum(float(t) for t in line_taxes) == pytest.approx(2.26)  # a checker summing rounded line taxes is 0.01 off


def test_coupons_fees_and_shipping_lines_add_up_when_prices_include_tax(shop):
    shop.seed_products([{"name": "Lampe", "sku": "LAMP-1", "regular_price": "25.00"}])
    order = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 2}], coupon="BIENVENUE10", fee="2.00")
    line = order["line_items"][0]
    assert (line["subtotal"], line["subtotal_tax"], line["total"], line["total_tax"]) == ("41.67", "8.33", "37.50", "7.50")
    assert order["coupon_lines"][0] | {"id": 0} == {"id": 0, "code": "bienvenue10", "discount": "4.17", "discount_tax": "0.83",
                                                   "meta_data": []}
    assert (order["fee_lines"][0]["total"], order["fee_lines"][0]["total_tax"]) == ("2.00", "0.40")
    assert (order["discount_total"], order["cart_tax"], order["shipping_tax"], order["total"]) == ("4.17", "7.90", "1.00", "53.40")
    parts = (sum(float(l["total"]) for l in order["line_items"]) + float(order["shipping_total"]) + float(order["fee_lines"][0]["total"])
             + float(order["cart_tax"]) + float(order["shipping_tax"]))
    assert parts == pytest.approx(float(order["total"]))


def test_an_order_created_through_the_api_is_paid_with_set_paid_and_an_unknown_product_is_refused(shop, woo):
    product = lamp(woo, stock=5)
    created = woo.post("/orders", {"payment_method": "bacs", "set_paid": True, "billing": {"first_name": "Ana", "email": "ana@example.com"},
                                   "line_items": [{"product_id": product["id"], "quantity": 2}],
                                   "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat Rate", "total": "10.00"}]})
    assert created.status_code == 201
    order = created.json()
    assert (order["status"], order["created_via"], order["billing"]["email"], order["shipping_total"]) == (
        "processing", "rest-api", "ana@example.com", "10.00")
    assert order["total"] == "62.00" and order["date_paid"] is not None
    assert woo.get(f"/products/{product['id']}").json()["stock_quantity"] == 3
    refused = woo.post("/orders", {"line_items": [{"product_id": 999, "quantity": 1}]})
    assert refused.status_code == 400 and refused.json()["code"] == "woocommerce_rest_invalid_product_id"
    batch = woo.post("/orders/batch", {"update": [{"id": order["id"], "status": "completed"}]}).json()
    assert batch["update"][0]["status"] == "completed"


def test_put_changes_an_order_status_with_a_note_and_an_invalid_status_is_refused(shop, woo):
    lamp(woo)
    order = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}])
    assert order["status"] == "processing" and order["date_paid_gmt"] == "2025-01-15T10:00:00"
    shop.clock.advance(120)
    completed = woo.put(f"/orders/{order['id']}", {"status": "completed"}).json()
    assert completed["status"] == "completed" and completed["date_completed_gmt"] == "2025-01-15T10:02:00"
    notes = woo.get(f"/orders/{order['id']}/notes").json()
    assert notes[0]["note"] == "Order status changed from Processing to Completed."
    refused = woo.put(f"/orders/{order['id']}", {"status": "shipped"})
    assert refused.status_code == 400 and refused.json()["code"] == "rest_invalid_param"
    assert woo.get(f"/orders/{order['id']}").json()["status"] == "completed"


def test_order_notes_can_be_for_the_customer_and_a_note_is_required(shop, woo):
    lamp(woo)
    order = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}])
    created = woo.post(f"/orders/{order['id']}/notes", {"note": "Expédié par Colissimo, suivi 6A123", "customer_note": True})
    assert created.status_code == 201 and created.json()["customer_note"] is True and created.json()["author"] == "system"
    customer_notes = woo.get(f"/orders/{order['id']}/notes", type="customer").json()
    assert [n["note"] for n in customer_notes] == ["Expédié par Colissimo, suivi 6A123"]
    missing = woo.post(f"/orders/{order['id']}/notes", {})
    assert missing.status_code == 400 and missing.json()["code"] == "rest_missing_callback_param"


def test_a_partial_refund_has_a_positive_amount_negative_lines_and_leaves_the_order_total_gross(shop, woo):
    lamp(woo, stock=5)
    order = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 2}])
    line = order["line_items"][0]
    refund = shop.refund_order(order["id"], lines=[{"line_item_id": line["id"], "quantity": 1}], reason="cassée")
    assert refund["amount"] == "25.00" and refund["reason"] == "cassée" and refund["refunded_payment"] is True
    refund_line = refund["line_items"][0]
    assert (refund_line["quantity"], refund_line["total"], refund_line["total_tax"]) == (-1, "-20.83", "-4.17")
    assert refund_line["meta_data"][0]["key"] == "_refunded_item_id" and refund_line["meta_data"][0]["value"] == str(line["id"])
    after = woo.get(f"/orders/{order['id']}").json()
    assert after["status"] == "processing" and after["total"] == order["total"]
    assert after["refunds"] == [{"id": refund["id"], "reason": "cassée", "total": "-25.00"}]
    assert woo.get(f"/products/{line['product_id']}").json()["stock_quantity"] == 4  # 5 - 2 sold + 1 restocked
    listed = woo.get(f"/orders/{order['id']}/refunds").json()
    assert [r["amount"] for r in listed] == ["25.00"]
    rest = woo.post(f"/orders/{order['id']}/refunds", {"amount": "31.00", "api_refund": False})
    assert rest.status_code == 201 and woo.get(f"/orders/{order['id']}").json()["status"] == "refunded"
    too_much = woo.post(f"/orders/{order['id']}/refunds", {"amount": "1.00"})
    assert too_much.status_code == 500 and too_much.json()["message"] == "Invalid refund amount."


def test_a_bank_transfer_order_waits_on_hold_and_cannot_be_refunded_through_the_gateway(shop, woo):
    lamp(woo)
    order = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}], payment_method="bacs")
    assert order["status"] == "on-hold" and order["date_paid"] is None
    paid = shop.pay_order(order["id"])
    assert paid["status"] == "processing" and paid["date_paid"] is not None
    refused = woo.post(f"/orders/{order['id']}/refunds", {"amount": "5.00"})
    assert refused.status_code == 500
    assert refused.json()["message"] == "The payment gateway for this order does not support automatic refunds."
    assert woo.post(f"/orders/{order['id']}/refunds", {"amount": "5.00", "api_refund": False}).status_code == 201


def test_cancelling_restores_stock_and_trashing_hides_an_order_from_the_default_list(shop, woo):
    product = lamp(woo, stock=3)
    order = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 2}])
    assert woo.get(f"/products/{product['id']}").json()["stock_quantity"] == 1
    shop.cancel_order(order["id"])
    assert woo.get(f"/products/{product['id']}").json()["stock_quantity"] == 3
    shop.trash_order(order["id"])
    assert woo.get("/orders").json() == [] and woo.get("/orders", status="trash").json()[0]["id"] == order["id"]
    assert shop.restore_order(order["id"])["status"] == "cancelled"


# --- shipment tracking ----------------------------------------------------------------------------

def test_the_shipment_tracking_endpoint_exists_only_when_the_extension_is_installed(shop, woo):
    lamp(woo)
    order = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}])
    url = f"{shop.url}/wp-json/wc-shipment-tracking/v3/orders/{order['id']}/shipment-trackings"
    missing = woo.call("POST", url, json={"tracking_provider": "Colissimo", "tracking_number": "6A123"})
    assert missing.status_code == 404 and missing.json()["code"] == "rest_no_route"
    assert requests.get(url, timeout=5).json()["code"] == "rest_no_route"
    requests.post(f"{shop.url}/_sandbox/settings", json={"shipment_tracking": True}, timeout=5).raise_for_status()
    created = woo.call("POST", url, json={"tracking_provider": "Colissimo", "tracking_number": "6A123", "date_shipped": "2025-01-16"})
    assert created.status_code == 201
    item = created.json()
    assert (item["tracking_provider"], item["tracking_number"], item["date_shipped"]) == ("Colissimo", "6A123", "2025-01-16")
    assert item["tracking_link"].endswith("code=6A123") and len(item["tracking_id"]) == 32
    custom = woo.call("POST", url, json={"custom_tracking_provider": "Coursier Lyon", "custom_tracking_link": "https://c.example/1",
                                         "tracking_number": "C1"}).json()
    assert (custom["tracking_provider"], custom["tracking_link"]) == ("Coursier Lyon", "https://c.example/1")
    assert [t["tracking_number"] for t in woo.call("GET", url).json()] == ["6A123", "C1"]
    assert woo.call("POST", url, json={"tracking_provider": "UPS"}).json()["code"] == "rest_missing_callback_param"


# --- webhooks -------------------------------------------------------------------------------------

def test_creating_a_webhook_sends_an_unsigned_form_encoded_ping(shop, woo, receiver):
    hook = subscribe(woo, receiver, "order.created")
    assert (hook["status"], hook["resource"], hook["event"], hook["hooks"]) == ("active", "order", "created", ["woocommerce_new_order"])
    assert "secret" not in hook
    ping = receiver.wait_for(1)[0]
    assert ping.body == f"webhook_id={hook['id']}".encode()
    assert parse_qs(ping.body.decode()) == {"webhook_id": [str(hook["id"])]}
    assert ping.header("Content-Type") == "application/x-www-form-urlencoded"
    assert ping.header("X-WC-Webhook-Signature") is None and ping.header("X-WC-Webhook-Topic") is None
    assert ping.header("User-Agent").startswith("WooCommerce/") and "Hookshot" in ping.header("User-Agent")


def test_a_webhook_needs_a_valid_topic_and_delivery_url(shop, woo, receiver):
    bad_topic = woo.post("/webhooks", {"topic": "order.shipped", "delivery_url": f"{receiver.url}/hooks"})
    assert bad_topic.status_code == 400 and bad_topic.json()["code"] == "woocommerce_rest_webhook_invalid_topic"
    bad_url = woo.post("/webhooks", {"topic": "order.created", "delivery_url": "ftp://nope"})
    assert bad_url.status_code == 400 and bad_url.json()["code"] == "woocommerce_rest_webhook_invalid_delivery_url"
    assert shop.hooks == {}


def test_deliveries_carry_the_wc_headers_and_a_signature_verifiable_with_the_documented_algorithm(shop, woo, receiver):
    lamp(woo)
    hook = subscribe(woo, receiver, "order.created", secret="s3cr3t")
    order = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}])
    delivery = receiver.wait_for(2)[1]
    assert delivery.header("X-WC-Webhook-Topic") == "order.created"
    assert (delivery.header("X-WC-Webhook-Resource"), delivery.header("X-WC-Webhook-Event")) == ("order", "created")
    assert delivery.header("X-WC-Webhook-ID") == str(hook["id"])
    assert delivery.header("X-WC-Webhook-Source") == f"{shop.url}/"
    assert len(delivery.header("X-WC-Webhook-Delivery-ID")) == 32
    assert delivery.header("X-WC-Webhook-Signature") == expected_signature("s3cr3t", delivery.body)
    assert json.loads(delivery.body) == woo.get(f"/orders/{order['id']}").json()  # the payload is the REST resource
    assert b"\\/" in delivery.body  # PHP's escaping: re-serialising the JSON would break the signature


def test_the_secret_is_entity_decoded_before_signing(shop, woo, receiver):
    lamp(woo)
    subscribe(woo, receiver, "order.created", secret="a&amp;b")
    shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}])
    delivery = receiver.wait_for(2)[1]
    assert delivery.header("X-WC-Webhook-Signature") == expected_signature("a&b", delivery.body)


def test_a_deleted_resource_is_sent_as_its_id_only(shop, woo, receiver):
    lamp(woo)
    order = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}])
    subscribe(woo, receiver, "order.deleted")
    shop.trash_order(order["id"])
    delivery = receiver.wait_for(2)[1]
    assert delivery.header("X-WC-Webhook-Topic") == "order.deleted" and json.loads(delivery.body) == {"id": order["id"]}


def test_the_delivery_id_is_a_hash_of_webhook_and_second_so_it_is_not_a_stable_event_id(shop, woo, receiver):
    lamp(woo)
    order = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}])
    subscribe(woo, receiver, "order.updated")
    shop.set_order_status(order["id"], "completed")
    shop.webhooks.wait_idle()
    shop.clock.advance(1)
    shop.set_faults(webhook_duplicate_rate=1.0)
    shop.set_order_status(order["id"], "processing")
    received = receiver.wait_for(4)
    ids = [r.header("X-WC-Webhook-Delivery-ID") for r in received[1:]]
    assert len(ids) == 3 and ids[0] != ids[1]  # another second: another id
    assert ids[1] == ids[2] and received[2].body == received[3].body  # same second: a duplicate shares it


def test_a_failing_webhook_is_not_retried_and_is_disabled_after_more_than_five_failures_in_a_row(shop, woo, receiver):
    lamp(woo)
    order = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}])
    hook = subscribe(woo, receiver, "order.updated")
    receiver.wait_for(1)
    receiver.answer(*[500] * 20)
    for n in range(9):
        shop.set_order_status(order["id"], "completed" if n % 2 == 0 else "processing")
        assert shop.webhooks.wait_idle()
    assert len(receiver.received) == 1 + 7  # the ping, then 7 deliveries: the 7th failure in a row disabled it
    assert all(record.attempt == 0 for record in shop.webhooks.records(topic="order.updated"))
    assert woo.get(f"/webhooks/{hook['id']}").json()["status"] == "disabled"
    assert woo.get("/webhooks", status="disabled").json()[0]["id"] == hook["id"]
    receiver.answers.clear()
    reenabled = woo.put(f"/webhooks/{hook['id']}", {"status": "active"})
    assert reenabled.json()["status"] == "active"
    shop.set_order_status(order["id"], "completed")
    assert shop.webhooks.wait_idle()
    assert len(receiver.received) == 9 and receiver.received[-1].header("X-WC-Webhook-Topic") == "order.updated"
    assert shop.webhooks.failures(hook["id"]) == 0


def test_a_webhook_reenabled_without_a_success_is_disabled_again_by_its_next_failure(shop, woo, receiver):
    lamp(woo)
    order = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}])
    hook = subscribe(woo, receiver, "order.updated")
    receiver.wait_for(1)
    receiver.answer(*[500] * 20)
    for n in range(7):
        shop.set_order_status(order["id"], "completed" if n % 2 == 0 else "processing")
        assert shop.webhooks.wait_idle()
    woo.put(f"/webhooks/{hook['id']}", {"status": "active"})
    shop.set_order_status(order["id"], "cancelled")
    assert shop.webhooks.wait_idle()
    assert woo.get(f"/webhooks/{hook['id']}").json()["status"] == "disabled"


# --- the control API for shoppers and the merchant ------------------------------------------------

def test_shoppers_buy_one_to_five_published_products_as_new_returning_or_guest_customers(shop):
    shop.seed_products([{"name": f"Produit {n}", "sku": f"SKU-{n}", "regular_price": "10.00", "manage_stock": True,
                         "stock_quantity": 50} for n in range(8)]
                       + [{"name": "Brouillon", "sku": "DRAFT", "regular_price": "10.00", "status": "draft"},
                          {"name": "Épuisé", "sku": "GONE", "regular_price": "10.00", "manage_stock": True, "stock_quantity": 0}])
    control = f"{shop.url}/_sandbox/orders"
    first = requests.post(control, json={"customer": "new"}, timeout=5)
    assert first.status_code == 201
    new = first.json()
    assert 1 <= len(new["line_items"]) <= 5 and new["customer_id"] and new["status"] == "processing"
    assert {l["sku"] for l in new["line_items"]} <= {f"SKU-{n}" for n in range(8)}
    returning = requests.post(control, json={"customer": "returning"}, timeout=5).json()
    assert returning["customer_id"] == new["customer_id"] and returning["billing"]["email"] == new["billing"]["email"]
    guest = requests.post(control, json={"customer": "guest", "line_count": 2}, timeout=5).json()
    assert guest["customer_id"] == 0 and len(guest["line_items"]) == 2
    state = requests.get(f"{shop.url}/_sandbox/state", timeout=5).json()
    assert state["orders"] == 3 and state["customers"] == 1 and "DRAFT" not in state["skus"] and "GONE" not in state["skus"]
    refused = requests.post(control, json={"lines": [{"sku": "GONE", "quantity": 1}]}, timeout=5)
    assert refused.status_code == 400 and "cannot be bought" in refused.json()["error"]


def test_the_merchant_changes_status_pays_cancels_and_refunds_through_the_control_api(shop, woo):
    lamp(woo, stock=20)
    base = f"{shop.url}/_sandbox/orders"
    waiting = requests.post(base, json={"lines": [{"sku": "LAMP-1", "quantity": 2}], "payment_method": "bacs"}, timeout=5).json()
    assert requests.post(f"{base}/{waiting['id']}/pay", timeout=5).json()["status"] == "processing"
    refund = requests.post(f"{base}/{waiting['id']}/refunds", json={"lines": [{"sku": "LAMP-1", "quantity": 1}]}, timeout=5)
    assert refund.status_code == 201 and refund.json()["refunded_payment"] is False  # a bank transfer is refunded by hand
    assert requests.post(f"{base}/{waiting['id']}/status", json={"status": "completed"}, timeout=5).json()["status"] == "completed"
    other = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}])
    assert requests.post(f"{base}/{other['id']}/cancel", timeout=5).json()["status"] == "cancelled"
    again = requests.post(f"{base}/{other['id']}/cancel", timeout=5)
    assert again.status_code == 400 and "cannot be cancelled" in again.json()["error"]
    bad = requests.post(f"{base}/{waiting['id']}/status", json={"status": "lost"}, timeout=5)
    assert bad.status_code == 400


def test_traffic_places_orders_and_now_and_then_pays_cancels_or_refunds(shop):
    shop.seed_products([{"name": f"Produit {n}", "sku": f"SKU-{n}", "regular_price": "12.00", "manage_stock": True,
                         "stock_quantity": 500} for n in range(5)])
    rng = random.Random(3)
    outcomes = [traffic_step(sandbox_url=shop.url, rng=rng) for _ in range(40)]
    assert sum(1 for line in outcomes if line.startswith("order")) >= 20
    assert {line.split()[0] for line in outcomes} > {"order"}
    assert all(": 20" in line for line in outcomes), outcomes
    assert len(shop.orders) >= 20
