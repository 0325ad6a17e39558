"""The OpenAPI schema says what the API does: every error answer with its body, the bounds the
API enforces (non-blank strings, list sizes, non-negative decimals)."""

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        return Client().get("/api/schema/?format=json").json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", method, operation


def test_every_operation_documents_its_error_answers_with_their_bodies(schema):
    for name, method, operation in operations(schema):
        responses = operation["responses"]
        expected = {"400", "401", "406"} | ({"413", "415"} if method == "post" else set())
        assert expected <= set(responses), name
        for code, response in responses.items():
            if code >= "400":
                body = response["content"]["application/json"]["schema"]["$ref"]
                assert body == ("#/components/schemas/ValidationErrors" if code == "400" else "#/components/schemas/Error"), (name, code)


def test_answers_particular_to_an_endpoint_are_documented(schema):
    paths = schema["paths"]
    assert "404" in paths["/api/v1/prices/"]["get"]["responses"]  # a customer not of this channel
    assert "404" in paths["/api/v1/products/{sku}/"]["get"]["responses"]
    assert "404" in paths["/api/v1/products/"]["get"]["responses"]  # an invalid cursor
    assert {"403", "422"} <= set(paths["/api/v1/orders/"]["post"]["responses"])
    assert "403" in paths["/api/v1/stock/"]["get"]["responses"]
    assert {"201", "403", "422"} <= set(paths["/api/v1/returns/"]["post"]["responses"])
    assert {"200", "403", "404"} <= set(paths["/api/v1/returns/{number}/"]["get"]["responses"])


def test_the_error_bodies_are_described(schema):
    components = schema["components"]["schemas"]
    assert components["Error"]["required"] == ["detail"]
    assert components["ValidationErrors"]["minProperties"] == 1


def test_required_strings_have_a_minimum_length_and_lists_their_bounds(schema):
    components = schema["components"]["schemas"]
    order = components["OrderPayloadRequest"]["properties"]
    assert order["external_id"]["minLength"] == 1
    assert (order["lines"]["minItems"], order["lines"]["maxItems"]) == (1, 1000)
    assert order["shipping_lines"]["maxItems"] == 100
    quote = components["QuoteRequest"]["properties"]
    assert quote["customer"]["minLength"] == 1
    assert (quote["lines"]["minItems"], quote["lines"]["maxItems"]) == (1, 500)
    assert components["QuoteLineRequest"]["properties"]["sku"]["minLength"] == 1
    stock_sku = schema["paths"]["/api/v1/stock/"]["get"]["parameters"][0]["schema"]
    assert (stock_sku["minItems"], stock_sku["maxItems"], stock_sku["items"]["minLength"]) == (1, 500, 1)
    prices = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/prices/"]["get"]["parameters"]}
    assert (prices["customer"]["minLength"], prices["customer"]["maxLength"]) == (1, 50)
    assert (prices["sku"]["minItems"], prices["sku"]["maxItems"]) == (1, 100)


def test_decimal_patterns_accept_exactly_the_amounts_the_api_takes(schema):
    unit_price = re.compile(schema["components"]["schemas"]["LineRequest"]["properties"]["unit_price"]["pattern"])
    for accepted in ("0", "12.5", "9999999999.9999", ".5"):
        assert unit_price.match(accepted), accepted
    for refused in ("", ".", "-1", "12345678901", "1.23456", "1e3"):
        assert not unit_price.match(refused), refused


def test_price_lines_of_unknown_skus_have_no_quantity_in_the_schema_either(schema):
    assert "quantity" not in schema["components"]["schemas"]["PricedLine"]["required"]
