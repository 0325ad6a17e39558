import pytest

from hub.services import api_token_create
from inventory import services
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory

pytestmark = pytest.mark.django_db


def test_stock_api_answers_available_to_sell_for_the_tokens_channel(client):
    channel = SalesChannelFactory()
    _, key = api_token_create(channel=channel)
    product, draft = ProductFactory(), ProductFactory(status="draft")
    services.stock_receive(product=product, warehouse=WarehouseFactory(), quantity=9)
    services.channel_stock_policy_set(channel=channel, safety_buffer=2)
    response = client.get(f"/api/v1/stock/?sku={product.sku}&sku={draft.sku}&sku=NOPE", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert response.json() == {"channel": channel.code, "lines": [
        {"sku": product.sku, "available": 7},
        {"sku": draft.sku, "error": "unknown_sku"},
        {"sku": "NOPE", "error": "unknown_sku"},
    ]}


def test_stock_api_requires_a_token_and_at_least_one_sku(client):
    assert client.get("/api/v1/stock/?sku=A").status_code == 401
    _, key = api_token_create(channel=SalesChannelFactory())
    response = client.get("/api/v1/stock/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 400
    assert "sku" in response.json()
