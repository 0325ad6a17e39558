"""Bad input to the storefront API gets a 400 (or the documented 4xx) with a message, changes
nothing and never makes a 500, on SQLite and on PostgreSQL (which refuses NUL in text)."""

import pytest

from orders.models import IdempotencyKey, SalesOrder
from tests.orders.factories import order_payload

pytestmark = pytest.mark.django_db

QUOTE = "/api/v1/prices/quote/"
ORDERS = "/api/v1/orders/"


@pytest.fixture(autouse=True)
def _server_errors_raise(client):
    """A 500 fails the test with its traceback rather than an HTML page."""
    client.raise_request_exception = True


def valid_quote(**changes):
    return {"customer": "ACME", "lines": [{"sku": "LAMP-1", "quantity": 2}], **changes}


# --- Bodies that cannot be read ------------------------------------------------------------

@pytest.mark.parametrize("url", [QUOTE, ORDERS])
def test_json_nested_deeper_than_the_parser_can_follow_gets_400(api, url):
    response = api.post(url, b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
    assert not SalesOrder.objects.exists()


@pytest.mark.parametrize("url", [QUOTE, ORDERS])
def test_a_body_that_is_not_utf8_gets_400(api, url):
    response = api.post(url, b'{"customer": "AC\xffME"}')
    assert response.status_code == 400
    assert "utf-8" in response.json()["detail"]


@pytest.mark.parametrize("url", [QUOTE, ORDERS])
def test_a_body_that_is_not_json_gets_415(api, url):
    response = api.post(url, b"customer=ACME", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "detail" in response.json()


def test_a_body_over_the_upload_limit_gets_413_without_being_read(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 300_000  # above the price API's 256 kB lean limit
    lines = [{"sku": "LAMP-1", "quantity": 1}] * 20_000
    for url in (QUOTE, ORDERS):
        response = api.post(url, valid_quote(lines=lines))
        assert response.status_code == 413, url
        assert "detail" in response.json()


@pytest.mark.parametrize("url", ["/api/v1/stock/?", "/api/v1/prices/?customer=AC%4DE&", "/api/v1/products/?"])
def test_more_query_parameters_than_django_reads_get_a_json_400(api, settings, url):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 100
    response = api.get(url + "&".join(["sku=LAMP-1"] * 101))
    assert response.status_code == 400
    assert "Too many parameters" in response.json()["detail"]


# --- NUL and lone surrogates ---------------------------------------------------------------

@pytest.mark.parametrize("url, field", [
    ("/api/v1/prices/?customer=AC%00ME&sku=LAMP-1", "customer"),
    ("/api/v1/prices/?customer=ACME&sku=LAMP-1&sku=LA%00MP", "sku"),
    ("/api/v1/stock/?sku=LA%00MP", "sku"),
    ("/api/v1/products/?updated_since=2026-01-01%00", "updated_since"),
    ("/api/v1/products/?page_size=1%00", "page_size"),
    ("/api/v1/products/?unused=%00", "unused"),
    ("/api/v1/products/LAMP%00-1/", "sku"),
])
def test_nul_in_a_query_parameter_or_path_gets_400_naming_it(api, url, field):
    response = api.get(url)
    assert response.status_code == 400
    assert field in response.json()
    assert "Null characters are not allowed." in str(response.json()[field])


@pytest.mark.parametrize("method, url", [
    ("get", "/api/v1/products/"), ("get", "/api/v1/prices/?customer=ACME&sku=LAMP-1"), ("get", "/api/v1/stock/?sku=LAMP-1"),
    ("post", QUOTE), ("post", ORDERS),
])
def test_nul_in_a_header_gets_400_naming_it(api, method, url):
    if method == "get":
        response = api.get(url, HTTP_X_STOREFRONT="shop\x00one")
    else:
        response = api.post(url, valid_quote() if url == QUOTE else order_payload(), HTTP_X_STOREFRONT="shop\x00one")
    assert response.status_code == 400
    assert response.json() == {"X-Storefront": ["Null characters are not allowed."]}
    assert not SalesOrder.objects.exists()


@pytest.mark.parametrize("body, field", [
    (valid_quote(customer="AC\x00ME"), "customer"),
    (valid_quote(customer="AC\ud800ME"), "customer"),
    (valid_quote(lines=[{"sku": "LAMP-1", "quantity": 1}, {"sku": "LAMP\x00", "quantity": 1}]), "lines"),
    (valid_quote(lines=[{"sku": "LAMP\udfff", "quantity": 1}]), "lines"),
])
def test_nul_or_a_lone_surrogate_in_a_quote_gets_400_naming_the_field(api, body, field):
    import json

    # json.dumps escapes both as \u0000 / \ud800, as a storefront's JSON encoder would.
    response = api.post(QUOTE, json.dumps(body).encode())
    assert response.status_code == 400
    assert field in response.json()


def test_nul_and_surrogates_in_order_text_fields_get_400(api):
    payload = order_payload(notes="a\x00b", customer={"external_id": "c\ud800", "email": "camille@example.com"})
    response = api.post(ORDERS, payload)
    assert response.status_code == 400
    assert "notes" in response.json() and "external_id" in response.json()["customer"]
    assert not SalesOrder.objects.exists()


@pytest.mark.parametrize("url, status", [("/api/v1/products/", 401), ("/admin/", 302)])
def test_a_session_cookie_with_a_nul_is_no_session(client, storefront, url, status):
    """Django unquotes `"\\000…"` in a cookie to a NUL, which PostgreSQL cannot compare."""
    response = client.get(url, HTTP_COOKIE='sessionid="\\000abcdefghijklmnop"')
    assert response.status_code == status


# --- Idempotency-Key -----------------------------------------------------------------------

@pytest.mark.parametrize("key", ["k\x00y", "cl\u00e9", "k" * 101, "tab\tkey"])
def test_an_idempotency_key_must_be_1_to_100_printable_ascii_characters(api, key):
    response = api.post(ORDERS, order_payload(), HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not SalesOrder.objects.exists() and not IdempotencyKey.objects.exists()


def test_a_100_character_idempotency_key_is_kept_whole(api):
    key = "k" * 99 + "!"
    assert api.post(ORDERS, order_payload(), HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    assert IdempotencyKey.objects.get().key == key


# --- Numbers the database columns cannot hold ----------------------------------------------

def big_line(quantity, unit_price, **extra):
    return {"sku": "LAMP-1", "quantity": quantity, "unit_price": unit_price, **extra}


@pytest.mark.parametrize("changes, field", [
    # one line's quantity × unit price is over the line total column (14 digits, 2 decimals)
    ({"lines": [big_line(1_000_000, "9999999.9999")], "total": "0"}, "lines"),
    # each line fits, their sum does not fit the order's subtotal
    ({"lines": [big_line(100, "9999999999.9999"), big_line(100, "9999999999.9999")], "total": "0"}, "lines"),
    # each shipping line fits, their sum does not
    ({"shipping_lines": [{"title": "Freight", "price": "999999999999.99"}] * 2, "total": "0"}, "shipping_lines"),
    # each line's tax fits, the order's tax total does not
    ({"lines": [big_line(1, "1", tax_amount="999999999999.99")] * 2, "total": "2", "prices_include_tax": True}, "tax_total"),
    # more digits than the unit price column
    ({"lines": [big_line(1, "12345678901.5")], "total": "0"}, "lines"),
    ({"lines": [big_line(2_147_483_648, "1")], "total": "0"}, "lines"),
])
def test_amounts_the_order_columns_cannot_hold_get_400(api, changes, field):
    payload = {**order_payload(), **changes}
    if "shipping_lines" not in changes:
        payload["shipping_lines"] = []
    response = api.post(ORDERS, payload)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not SalesOrder.objects.exists()


def test_the_largest_amounts_the_columns_hold_are_accepted(api):
    payload = order_payload(lines=[big_line(100, "9999999999.9999")], shipping="0", total="999999999999.99")
    response = api.post(ORDERS, payload)
    assert response.status_code == 201, response.content
    assert str(SalesOrder.objects.get().subtotal) == "999999999999.99"


@pytest.mark.parametrize("changes, field", [
    ({"shipping_lines": [{"title": "Box", "price": "1"}] * 101}, "shipping_lines"),
    ({"discount_codes": [{"code": "X", "amount": "0"}] * 101}, "discount_codes"),
])
def test_lists_without_a_natural_bound_are_bounded(api, changes, field):
    response = api.post(ORDERS, {**order_payload(), **changes})
    assert response.status_code == 400
    assert field in response.json()


# --- Dates and cursors ---------------------------------------------------------------------

@pytest.mark.parametrize("value", ["0000-01-01", "9999-12-31T23:59:59-23:00", "0001-01-01T00:00:00+01:00", "2026-02-30"])
def test_an_updated_since_out_of_range_gets_400(api, value):
    from urllib.parse import quote

    response = api.get(f"/api/v1/products/?updated_since={quote(value)}")
    assert response.status_code == 400
    assert "updated_since" in response.json()


@pytest.mark.parametrize("position", ["2020\x00", "yesterday", "9999-12-31T23:59:59-23:00"])
def test_a_cursor_with_a_forged_position_is_an_invalid_cursor(api, position):
    from base64 import b64encode
    from urllib.parse import quote, urlencode

    cursor = b64encode(urlencode({"p": position}).encode()).decode()
    response = api.get(f"/api/v1/products/?cursor={quote(cursor)}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}


@pytest.mark.parametrize("page_size", ["0", "501", "ten", "false", "-1"])
def test_a_page_size_that_is_not_1_to_500_gets_400(api, page_size):
    response = api.get(f"/api/v1/products/?page_size={page_size}")
    assert response.status_code == 400
    assert "page_size" in response.json()


def test_a_cursor_the_api_gave_still_pages(api):
    from tests.catalog.factories import ProductFactory

    ProductFactory.create_batch(3)
    first = api.get("/api/v1/products/?page_size=2").json()
    second = api.get(first["next"]).json()
    assert len(first["results"]) == 2 and len(second["results"]) == 2
    assert not {p["sku"] for p in first["results"]} & {p["sku"] for p in second["results"]}
