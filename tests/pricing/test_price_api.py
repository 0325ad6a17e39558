"""The storefront price API over real HTTP requests (Django test client), real database."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog import services
from catalog.models import Product
from hub.services import api_token_create, api_token_revoke
from tests.catalog.factories import ChannelCatalogFactory, PriceEntryFactory, PriceListFactory, ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.pricing.factories import CustomerFactory, CustomerGroupFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    """A channel with a public list, a B2B customer with group and own lists, and a token."""
    channel = SalesChannelFactory(code="b2b-portal")
    public = PriceListFactory(code="PUBLIC")
    ChannelCatalogFactory(channel=channel, public_price_list=public)
    group_list = PriceListFactory(code="PRO")
    own_list = PriceListFactory(code="ACME-LIST")
    group = CustomerGroupFactory(code="pros")
    group.price_lists.add(group_list)
    customer = CustomerFactory(code="ACME", group=group, channels=[channel])
    customer.price_lists.add(own_list)
    lamp, garland, chair = (ProductFactory(sku=s) for s in ("LAMP", "GARLAND", "CHAIR"))
    for product, price in ((lamp, "20.00"), (garland, "35.00"), (chair, "80.00")):
        PriceEntryFactory(price_list=public, product=product, unit_price=Decimal(price))
    PriceEntryFactory(price_list=group_list, product=lamp, unit_price=Decimal("16.00"))
    PriceEntryFactory(price_list=group_list, product=lamp, min_quantity=10, unit_price=Decimal("14.50"))
    PriceEntryFactory(price_list=own_list, product=garland, unit_price=Decimal("29.90"))
    _, key = api_token_create(channel=channel)
    return {"channel": channel, "customer": customer, "public": public, "group_list": group_list,
            "own_list": own_list, "key": key, "lamp": lamp, "garland": garland}


def auth(key):
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def get_prices(client, key, customer="ACME", skus=("LAMP",)):
    query = "&".join([f"customer={customer}"] + [f"sku={s}" for s in skus])
    return client.get(f"/api/v1/prices/?{query}", **auth(key))


def quote(client, key, body):
    return client.post("/api/v1/prices/quote/", body, content_type="application/json", **auth(key))


def test_get_prices_each_sku_from_the_right_list_with_the_public_reference(client, shop):
    response = get_prices(client, shop["key"], skus=("LAMP", "GARLAND", "CHAIR"))
    assert response.status_code == 200
    assert response.json() == {"customer": "ACME", "currency": "EUR", "lines": [
        {"sku": "LAMP", "quantity": 1, "unit_price": "16.00", "reference_price": "20.00", "price_list": "PRO", "source": "group_list"},
        {"sku": "GARLAND", "quantity": 1, "unit_price": "29.90", "reference_price": "35.00", "price_list": "ACME-LIST", "source": "customer_list"},
        {"sku": "CHAIR", "quantity": 1, "unit_price": "80.00", "reference_price": "80.00", "price_list": "PUBLIC", "source": "public_list"},
    ]}


def test_quote_applies_quantity_breaks_and_the_contract_list_first(client, shop):
    contract = PriceListFactory(code="ACME-CONTRACT")
    PriceEntryFactory(price_list=contract, product=shop["garland"], unit_price=Decimal("25.00"))
    shop["customer"].contract_price_list = contract
    shop["customer"].save()
    response = quote(client, shop["key"], {"customer": "ACME", "lines": [
        {"sku": "LAMP", "quantity": 12}, {"sku": "GARLAND", "quantity": 3}]})
    assert response.status_code == 200
    lamp, garland = response.json()["lines"]
    assert (lamp["unit_price"], lamp["price_list"], lamp["reference_price"]) == ("14.50", "PRO", "20.00")
    assert (garland["unit_price"], garland["source"]) == ("25.00", "contract")


def test_unknown_and_inactive_skus_error_on_their_line_while_others_price(client, shop):
    ProductFactory(sku="OLD", status=Product.Status.ARCHIVED)
    ProductFactory(sku="SOON", status=Product.Status.DRAFT)
    response = get_prices(client, shop["key"], skus=("NOPE", "LAMP", "OLD", "SOON"))
    lines = response.json()["lines"]
    assert response.status_code == 200
    assert lines[0] == {"sku": "NOPE", "error": "unknown_sku"}
    assert lines[1]["unit_price"] == "16.00"
    assert lines[2] == {"sku": "OLD", "error": "unknown_sku"}
    assert lines[3] == {"sku": "SOON", "error": "unknown_sku"}


def test_skus_with_quotes_commas_braces_and_backslashes_are_priced_as_given(client, shop):
    odd = ProductFactory(sku='LAMP,"X"\\{1}')
    PriceEntryFactory(price_list=shop["public"], product=odd, unit_price=Decimal("5.00"))
    response = quote(client, shop["key"], {"customer": "ACME", "lines": [{"sku": odd.sku, "quantity": 1},
                                                                         {"sku": "LAMP'", "quantity": 1}]})
    assert [line.get("unit_price", line.get("error")) for line in response.json()["lines"]] == ["5.00", "unknown_sku"]


def test_an_active_sku_without_any_applicable_price_says_no_price(client, shop):
    ProductFactory(sku="UNPRICED")
    assert get_prices(client, shop["key"], skus=("UNPRICED",)).json()["lines"] == [
        {"sku": "UNPRICED", "quantity": 1, "error": "no_price", "reference_price": None}]


def test_foreign_and_nonexistent_customers_get_the_same_404(client, shop):
    other_channel = SalesChannelFactory(code="web-fr")
    CustomerFactory(code="OTHER", channels=[other_channel])
    CustomerFactory(code="INACTIVE", channels=[shop["channel"]], is_active=False)
    answers = [get_prices(client, shop["key"], customer=code) for code in ("OTHER", "GHOST", "INACTIVE")]
    answers.append(quote(client, shop["key"], {"customer": "OTHER", "lines": [{"sku": "LAMP", "quantity": 1}]}))
    assert {r.status_code for r in answers} == {404}
    assert len({r.content for r in answers}) == 1


def test_missing_wrong_or_revoked_tokens_get_401(client, shop):
    assert client.get("/api/v1/prices/?customer=ACME&sku=LAMP").status_code == 401
    assert get_prices(client, "not-a-key").status_code == 401
    token, key = api_token_create(channel=shop["channel"])
    assert get_prices(client, key).status_code == 200
    api_token_revoke(token=token)
    assert get_prices(client, key).status_code == 401
    assert quote(client, key, {"customer": "ACME", "lines": [{"sku": "LAMP", "quantity": 1}]}).status_code == 401


def test_a_bad_token_gets_401_before_any_field_message(client, shop):
    assert client.get("/api/v1/prices/", HTTP_AUTHORIZATION="Token not-a-key").status_code == 401
    response = quote(client, "not-a-key", {"customer": "ACME", "lines": []})
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert quote(client, shop["key"], {"customer": "ACME", "lines": []}).status_code == 400


def test_a_tokens_use_is_stamped_at_most_every_few_minutes(client, shop):
    from hub.models import ApiToken

    token = ApiToken.objects.get(channel=shop["channel"])
    assert token.last_used_at is None
    assert get_prices(client, shop["key"]).status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    assert get_prices(client, shop["key"]).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=6))
    assert get_prices(client, shop["key"]).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > first


def test_a_deactivated_channels_tokens_get_401(client, shop):
    shop["channel"].is_active = False
    shop["channel"].save()
    assert get_prices(client, shop["key"]).status_code == 401


def test_staff_sessions_cannot_use_the_channel_price_api(client, shop, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("admin", "a@example.com", "pw"))
    assert client.get("/api/v1/prices/?customer=ACME&sku=LAMP").status_code == 401


@pytest.mark.parametrize("body, field", [
    ({"lines": [{"sku": "LAMP", "quantity": 1}]}, "customer"),
    ({"customer": "ACME"}, "lines"),
    ({"customer": "ACME", "lines": []}, "lines"),
    ({"customer": "ACME", "lines": [{"sku": "LAMP", "quantity": 0}]}, "lines"),
    ({"customer": "ACME", "lines": [{"sku": "LAMP", "quantity": "many"}]}, "lines"),
    ({"customer": "ACME", "lines": [{"quantity": 2}]}, "lines"),
    ({"customer": "ACME", "lines": "LAMP"}, "lines"),
    ({"customer": "ACME", "lines": [{"sku": "LAMP", "quantity": True}]}, "lines"),
    ({"customer": "ACME", "lines": [{"sku": "LAMP", "quantity": 1.5}]}, "lines"),
    ({"customer": "ACME", "lines": [{"sku": "", "quantity": 1}]}, "lines"),
    ({"customer": "ACME", "lines": [{"sku": "X" * 65, "quantity": 1}]}, "lines"),
    ({"customer": "ACME", "lines": [{"sku": "LAMP", "quantity": 1_000_001}]}, "lines"),
    ({"customer": ["ACME"], "lines": [{"sku": "LAMP", "quantity": 1}]}, "customer"),
    (["not", "an", "object"], "non_field_errors"),
])
def test_malformed_quotes_get_400_with_field_messages(client, shop, body, field):
    response = quote(client, shop["key"], body)
    assert response.status_code == 400
    assert field in response.json()


def test_field_messages_point_at_the_bad_line(client, shop):
    response = quote(client, shop["key"], {"customer": "ACME", "lines": [{"sku": "LAMP", "quantity": 1}, {"sku": "LAMP", "quantity": 0}]})
    assert response.status_code == 400
    assert response.json()["lines"][0] == {} and "quantity" in response.json()["lines"][1]


def test_a_quote_body_that_is_not_json_gets_400(client, shop):
    response = client.post("/api/v1/prices/quote/", "{nope", content_type="application/json", **auth(shop["key"]))
    assert response.status_code == 400


def test_malformed_gets_get_400_with_field_messages(client, shop):
    response = client.get("/api/v1/prices/", **auth(shop["key"]))
    assert response.status_code == 400
    assert set(response.json()) == {"customer", "sku"}


@pytest.mark.parametrize("query, answer", [
    ("customer=ACME&sku=LAMP", ("ACME", ["LAMP"])),
    ("sku=LA%4DP&customer=AC%4DE", ("ACME", ["LAMP"])),  # escapes
    ("customer=ACME&sku=+LAMP+&sku=%20GARLAND", ("ACME", ["LAMP", "GARLAND"])),  # spaces, stripped
    ("customer=NOPE&customer=ACME&sku=LAMP", ("ACME", ["LAMP"])),  # the last customer counts
    ("customer=ACME&sku=LAMP&page=2&sku=GARLAND", ("ACME", ["LAMP", "GARLAND"])),  # other parameters ignored
    ("customer=ACME&sku=LAMP&sku=", 400),
    ("customer=&sku=LAMP", 400),
    ("customer=ACME&&sku", 400),
])
def test_a_get_query_string_is_read_the_way_django_reads_it(client, shop, query, answer):
    response = client.get(f"/api/v1/prices/?{query}", **auth(shop["key"]))
    if answer == 400:
        assert response.status_code == 400
        return
    assert response.status_code == 200
    body = response.json()
    assert (body["customer"], [line["sku"] for line in body["lines"]]) == answer
    assert all("unit_price" in line for line in body["lines"])


def test_limits_are_100_skus_per_get_and_500_lines_per_quote(client, shop):
    assert get_prices(client, shop["key"], skus=[f"S{i}" for i in range(100)]).status_code == 200
    response = get_prices(client, shop["key"], skus=[f"S{i}" for i in range(101)])
    assert response.status_code == 400 and "sku" in response.json()
    lines = [{"sku": "LAMP", "quantity": 1}] * 500
    assert len(quote(client, shop["key"], {"customer": "ACME", "lines": lines}).json()["lines"]) == 500
    response = quote(client, shop["key"], {"customer": "ACME", "lines": lines + [{"sku": "LAMP", "quantity": 1}]})
    assert response.status_code == 400 and "lines" in response.json()


def test_a_changed_price_list_or_assignment_shows_on_the_very_next_call(client, shop):
    assert get_prices(client, shop["key"]).json()["lines"][0]["unit_price"] == "16.00"
    services.price_entry_set(price_list=shop["group_list"], product=shop["lamp"], unit_price="15.25")
    assert get_prices(client, shop["key"]).json()["lines"][0]["unit_price"] == "15.25"
    services.price_list_update(price_list=shop["group_list"], valid_to=timezone.localdate() - timedelta(days=1), valid_from=None)
    assert get_prices(client, shop["key"]).json()["lines"][0]["price_list"] == "PUBLIC"
    shop["customer"].price_lists.add(PriceListFactory(code="NEW"))
    services.price_entry_set(price_list=shop["customer"].price_lists.get(code="NEW"), product=shop["lamp"], unit_price="9")
    assert get_prices(client, shop["key"]).json()["lines"][0]["unit_price"] == "9.00"
    shop["customer"].channels.clear()
    assert get_prices(client, shop["key"]).status_code == 404


def test_a_derived_list_prices_from_its_base(client, shop):
    derived = services.price_list_create(code="PUBLIC-12", name="Public − 12 %", base_price_list=shop["public"],
                                         base_adjustment_percent=Decimal("-12"))
    shop["customer"].price_lists.add(derived)
    line = quote(client, shop["key"], {"customer": "ACME", "lines": [{"sku": "CHAIR", "quantity": 1}]}).json()["lines"][0]
    assert (line["unit_price"], line["price_list"], line["reference_price"]) == ("70.40", "PUBLIC-12", "80.00")


def test_the_one_sku_get_stays_within_a_small_query_budget(client, shop, django_assert_max_num_queries):
    get_prices(client, shop["key"])  # the first use of a token also stamps last_used_at
    # Inside this test's transaction nothing is cached: the token, the customer's lists, and
    # the lists and prices in one statement.
    with django_assert_max_num_queries(3):
        assert get_prices(client, shop["key"]).status_code == 200


@pytest.mark.parametrize("method", ["get", "quote"])
def test_a_negotiated_json_answer_is_byte_for_byte_the_plain_one(client, shop, method):
    """An Accept header with a quality gives the same bytes, down to how an echoed unknown SKU's
    non-ASCII and line-separator characters are escaped."""
    unknown = "NÖ\u2028PE"

    def call(**extra):
        if method == "get":
            return client.get("/api/v1/prices/", {"customer": "ACME", "sku": ["LAMP", unknown, "GARLAND"]},
                              **auth(shop["key"]), **extra)
        return client.post("/api/v1/prices/quote/", {"customer": "ACME", "lines": [{"sku": "LAMP", "quantity": 12},
                           {"sku": unknown, "quantity": 1}]}, content_type="application/json", **auth(shop["key"]), **extra)

    plain, negotiated = call(), call(HTTP_ACCEPT="application/json;q=0.9")
    assert plain.status_code == negotiated.status_code == 200
    assert plain.content == negotiated.content
    assert {"sku": unknown, "error": "unknown_sku"} in plain.json()["lines"]
    for header in ("Content-Type", "Allow", "Vary", "X-Frame-Options"):
        assert plain.get(header) == negotiated.get(header)


def test_the_schema_describes_the_price_and_product_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()
    for route in ("/api/v1/prices/", "/api/v1/prices/quote/", "/api/v1/products/", "/api/v1/products/{sku}/"):
        assert route in schema["paths"]
    assert "channelToken" in schema["components"]["securitySchemes"]


def test_the_order_import_entry_point_prices_a_customer_instance_like_the_api(shop):
    from catalog.pricing import price_lines
    from orders.pricing import customer_pricing_for_instance

    request = customer_pricing_for_instance(customer=shop["customer"], channel=shop["channel"])
    lamp, garland = price_lines(lines=[("LAMP", 10), ("GARLAND", 1)], request=request)
    assert (lamp.unit_price, lamp.source, lamp.reference_price) == (Decimal("14.50"), "group_list", Decimal("20.00"))
    assert (garland.price_list, garland.source) == ("ACME-LIST", "customer_list")
