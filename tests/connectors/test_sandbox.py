"""The Shopify sandbox speaks Shopify's protocol: auth, pagination, rate limits, signed webhooks, faults."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from connectors.shopify.sandbox import ShopifySandbox
from connectors.shopify.webhooks import signature_valid

TOKEN = "shpat_sandbox_test"
API = "admin/api/2025-01"


class WebhookCatcher:
    def __init__(self, answers=()):
        self.received, self.answers = [], list(answers)
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = catcher.answers.pop(0) if catcher.answers else 200
                catcher.received.append((status, dict(self.headers), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.received


@pytest.fixture
def catcher():
    server = WebhookCatcher()
    yield server
    server.server.shutdown()


@pytest.fixture
def shop(catcher):
    sandbox = ShopifySandbox(access_token=TOKEN, webhook_url=catcher.url, webhook_secret="s3cret", webhook_retry_delays=(0.2, 0.2)).start()
    yield sandbox
    sandbox.stop()


def api(shop, method, resource, token=TOKEN, **kwargs):
    return requests.request(method, f"{shop.url}/{API}/{resource}", headers={"X-Shopify-Access-Token": token}, timeout=10, **kwargs)


def make_product(shop, sku="LAMP-1", price="25.00"):
    return api(shop, "POST", "products.json", json={"product": {"title": "Lampe", "variants": [{"sku": sku, "price": price}]}}).json()["product"]


def test_a_wrong_access_token_is_refused_with_shopifys_error(shop):
    response = api(shop, "GET", "shop.json", token="nope")
    assert response.status_code == 401 and "Invalid API key or access token" in response.json()["errors"]


def test_products_get_variant_and_inventory_item_ids_and_a_blank_title_is_refused(shop):
    product = make_product(shop)
    assert product["variants"][0]["sku"] == "LAMP-1" and product["variants"][0]["inventory_item_id"]
    refused = api(shop, "POST", "products.json", json={"product": {"title": " "}})
    assert refused.status_code == 422 and refused.json() == {"errors": {"title": ["can't be blank"]}}


def test_lists_paginate_with_page_info_links_and_refuse_filters_beside_page_info(shop):
    for n in range(5):
        make_product(shop, sku=f"SKU-{n}")
    first = api(shop, "GET", "products.json", params={"limit": 2})
    next_url = first.links["next"]["url"]
    seen = [p["variants"][0]["sku"] for p in first.json()["products"]]
    while next_url:
        page = requests.get(next_url, headers={"X-Shopify-Access-Token": TOKEN}, timeout=10)
        seen += [p["variants"][0]["sku"] for p in page.json()["products"]]
        next_url = page.links.get("next", {}).get("url")
    assert seen == [f"SKU-{n}" for n in range(5)]
    token = first.links["next"]["url"].split("page_info=")[1]
    assert api(shop, "GET", "products.json", params={"page_info": token, "status": "active"}).status_code == 400


def test_the_rest_bucket_answers_429_with_retry_after_when_full_and_recovers(catcher):
    shop = ShopifySandbox(access_token=TOKEN, rest_bucket=4, rest_leak_per_second=4.0).start()
    try:
        answers = [api(shop, "GET", "shop.json") for _ in range(5)]
        assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
        assert answers[3].headers["X-Shopify-Shop-Api-Call-Limit"] == "4/4"
        wait = float(answers[4].headers["Retry-After"])
        assert 0 < wait <= 1
        time.sleep(wait)
        assert api(shop, "GET", "shop.json").status_code == 200
    finally:
        shop.stop()


def test_graphql_reports_its_cost_and_throttles_when_the_bucket_cannot_hold_the_query():
    shop = ShopifySandbox(access_token=TOKEN, graphql_maximum=20, graphql_restore=0.5).start()
    try:
        item = make_product(shop)["variants"][0]["inventory_item_id"]
        mutation = ("mutation S($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) "
                    "{ inventoryAdjustmentGroup { createdAt } userErrors { field message } } }")
        variables = {"input": {"name": "available", "reason": "correction", "ignoreCompareQuantity": True,
                               "quantities": [{"inventoryItemId": f"gid://shopify/InventoryItem/{item}", "locationId": "gid://shopify/Location/1001", "quantity": 7}]}}
        first = api(shop, "POST", "graphql.json", json={"query": mutation, "variables": variables}).json()
        assert first["data"]["inventorySetQuantities"]["userErrors"] == []
        assert first["extensions"]["cost"]["requestedQueryCost"] == 12
        assert first["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 8
        second = api(shop, "POST", "graphql.json", json={"query": mutation, "variables": variables}).json()
        assert second["errors"][0]["extensions"]["code"] == "THROTTLED" and "data" not in second
        levels = api(shop, "GET", "inventory_levels.json", params={"inventory_item_ids": item, "location_ids": "1001"}).json()
        assert levels["inventory_levels"][0]["available"] == 7
    finally:
        shop.stop()


def test_webhooks_are_signed_and_retried_until_accepted(shop, catcher):
    make_product(shop)
    catcher.answers = [500]
    order = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}], email="a@example.com")
    received = catcher.wait_for(4)
    topics = [(status, headers["X-Shopify-Topic"]) for status, headers, _ in received]
    assert topics[0][1] == "customers/create" and topics[0][0] == 500
    assert sum(1 for _, t in topics if t == "customers/create") == 2  # retried after the 500
    for _, headers, body in received:
        assert signature_valid(secret="s3cret", body=body, header_value=headers["X-Shopify-Hmac-Sha256"])
    created = next(json.loads(body) for _, h, body in received if h["X-Shopify-Topic"] == "orders/create")
    assert created["id"] == order["id"] and created["total_price"] == "29.90"


def test_a_duplicate_delivery_keeps_the_webhook_id(shop, catcher):
    make_product(shop)
    shop.set_faults(webhook_duplicate_rate=1.0)
    shop.create_customer(email="c@example.com")
    received = catcher.wait_for(2)
    assert [h["X-Shopify-Topic"] for _, h, _ in received] == ["customers/create", "customers/create"]
    assert received[0][1]["X-Shopify-Webhook-Id"] == received[1][1]["X-Shopify-Webhook-Id"]


def test_a_5xx_window_answers_server_errors_then_heals(shop):
    shop.set_faults(fail_5xx_for_seconds=0.5)
    assert api(shop, "GET", "shop.json").status_code in (500, 502, 503)
    time.sleep(0.6)
    assert api(shop, "GET", "shop.json").status_code == 200


def test_fulfilling_more_than_is_open_is_refused(shop):
    make_product(shop)
    order = shop.place_order(lines=[{"sku": "LAMP-1", "quantity": 1}], email="d@example.com")
    fulfillment_order = api(shop, "GET", f"orders/{order['id']}/fulfillment_orders.json").json()["fulfillment_orders"][0]
    line = fulfillment_order["line_items"][0]
    body = {"fulfillment": {"line_items_by_fulfillment_order": [{"fulfillment_order_id": fulfillment_order["id"],
                                                                  "fulfillment_order_line_items": [{"id": line["id"], "quantity": 2}]}]}}
    assert api(shop, "POST", "fulfillments.json", json=body).status_code == 422
    body["fulfillment"]["line_items_by_fulfillment_order"][0]["fulfillment_order_line_items"][0]["quantity"] = 1
    body["fulfillment"]["tracking_info"] = {"company": "Colissimo", "number": "6A1"}
    created = api(shop, "POST", "fulfillments.json", json=body)
    assert created.status_code == 201 and created.json()["fulfillment"]["tracking_number"] == "6A1"
    assert api(shop, "POST", f"orders/{order['id']}/cancel.json", json={}).status_code == 422


def test_a_handle_filter_holds_on_every_page_of_the_answer(shop):
    for n in range(4):
        api(shop, "POST", "products.json", json={"product": {"title": f"Lampe {n}", "handle": f"lampe-{n}", "variants": [{"sku": f"L-{n}"}]}})
    page = api(shop, "GET", "products.json", params={"handle": "lampe-1,lampe-3", "limit": 1})
    handles = [p["handle"] for p in page.json()["products"]]
    while "next" in page.links:
        page = requests.get(page.links["next"]["url"], headers={"X-Shopify-Access-Token": TOKEN}, timeout=10)
        handles += [p["handle"] for p in page.json()["products"]]
    assert handles == ["lampe-1", "lampe-3"]


def test_next_link_base_makes_list_answers_link_their_next_page_to_another_host(shop):
    make_product(shop)
    shop.set_faults(next_link_base="http://elsewhere.test:9/")
    linked = api(shop, "GET", "products.json")
    assert linked.links["next"]["url"].startswith("http://elsewhere.test:9/admin/api/2025-01/products.json?limit=50&page_info=")
    shop.set_faults(next_link_base=None)
    assert "next" not in api(shop, "GET", "products.json").links


def test_slow_after_ms_answers_writes_late_once_applied_and_reads_on_time(shop):
    shop.set_faults(slow_after_ms=800)
    assert api(shop, "GET", "shop.json").elapsed.total_seconds() < 0.5
    query = api(shop, "POST", "graphql.json", json={"query": "{ shop { name } }"})
    assert query.elapsed.total_seconds() < 0.5 and query.json()["data"]["shop"]["name"]
    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{shop.url}/{API}/products.json", headers={"X-Shopify-Access-Token": TOKEN}, timeout=0.3,
                      json={"product": {"title": "Lampe tardive", "variants": [{"sku": "LATE-1"}]}})
    shop.set_faults(slow_after_ms=0)
    assert [p["title"] for p in api(shop, "GET", "products.json").json()["products"]] == ["Lampe tardive"]


def test_forced_throttles_and_malformed_answers_come_in_shopifys_shapes(shop):
    shop.set_faults(throttle_next=2)
    rest = api(shop, "GET", "shop.json")
    assert rest.status_code == 429 and float(rest.headers["Retry-After"]) == 1.0 and "Exceeded" in rest.json()["errors"]
    graphql = api(shop, "POST", "graphql.json", json={"query": "{ shop { name } }"}).json()
    assert graphql["errors"][0]["extensions"]["code"] == "THROTTLED" and "throttleStatus" in graphql["extensions"]["cost"]
    shop.set_faults(malformed_next=1)
    with pytest.raises(ValueError):
        api(shop, "GET", "shop.json").json()
    assert api(shop, "GET", "shop.json").json()["shop"]["myshopify_domain"] == "hub-demo.myshopify.com"


def test_the_control_api_resets_the_shop_and_refuses_bad_fault_switches(shop):
    make_product(shop)
    assert requests.post(f"{shop.url}/_sandbox/faults", json={"slow_ms": "soon"}, timeout=5).status_code == 400
    assert requests.post(f"{shop.url}/_sandbox/faults", json={"no_such_switch": 1}, timeout=5).status_code == 400
    requests.post(f"{shop.url}/_sandbox/faults", json={"drop_webhooks": True}, timeout=5).raise_for_status()
    assert requests.post(f"{shop.url}/_sandbox/reset", timeout=5).json() == {"reset": True}
    state = requests.get(f"{shop.url}/_sandbox/state", timeout=5).json()
    assert state["products"] == 0 and state["skus"] == [] and state["faults"] == {}


def test_graphql_finds_variants_by_sku_with_shopifys_search_syntax(shop):
    lamp = make_product(shop, sku='LAMP "XL" 1')
    make_product(shop, sku="SHADE-1")
    make_product(shop, sku="OTHER")
    query = "query V($q: String!) { productVariants(first: 250, query: $q) { nodes { id sku product { id legacyResourceId } } } }"
    answer = api(shop, "POST", "graphql.json", json={"query": query, "variables": {"q": 'sku:"LAMP \\"XL\\" 1" OR sku:SHADE-1'}}).json()
    nodes = answer["data"]["productVariants"]["nodes"]
    assert [n["sku"] for n in nodes] == ['LAMP "XL" 1', "SHADE-1"]
    assert nodes[0]["id"] == f"gid://shopify/ProductVariant/{lamp['variants'][0]['id']}"
    assert nodes[0]["product"]["legacyResourceId"] == str(lamp["id"])
    assert answer["extensions"]["cost"]["requestedQueryCost"] == 3
    literal = api(shop, "POST", "graphql.json", json={"query": '{ productVariants(first: 5, query: "sku:OTHER") { nodes { sku } } }'}).json()
    assert [n["sku"] for n in literal["data"]["productVariants"]["nodes"]] == ["OTHER"]
