import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from connectors.models import Endpoint
from hub.models import SalesChannel


class ShopHandler(BaseHTTPRequestHandler):
    """Answers GET /admin/api/2025-01/shop.json as Shopify does: 401 without the right token."""

    def do_GET(self):
        if self.path != "/admin/api/2025-01/shop.json":
            self.send_response(404)
            self.end_headers()
            return
        if self.headers.get("X-Shopify-Access-Token") != "shpat_good":
            body = json.dumps({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}).encode()
            self.send_response(401)
        else:
            body = json.dumps({"shop": {"name": "Lumière", "myshopify_domain": "lumiere.myshopify.com"}}).encode()
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def shop_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), ShopHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.django_db
def test_add_list_and_test_an_endpoint(shop_url, capsys):
    call_command("hub_endpoint", "add", "shopify", "shop-fr", "--base-url", shop_url, "--webhook-secret", "s3cret",
                 "--channel", "shopify-fr", "--credential", "access_token=shpat_good")
    endpoint = Endpoint.objects.get(code="shop-fr")
    assert endpoint.credentials == {"access_token": "shpat_good"} and SalesChannel.objects.filter(code="shopify-fr").exists()
    call_command("hub_endpoint", "list")
    listing = capsys.readouterr().out
    assert "credentials: access_token; webhook secret set" in listing and "shpat_good" not in listing and "s3cret" not in listing
    call_command("hub_endpoint", "test", "shop-fr")
    assert "connected to Lumière (lumiere.myshopify.com), API 2025-01" in capsys.readouterr().out
    call_command("hub_endpoint", "add", "shopify", "shop-fr", "--base-url", shop_url, "--channel", "shopify-fr", "--credential", "access_token=bad")
    with pytest.raises(CommandError, match="refused the access token"):
        call_command("hub_endpoint", "test", "shop-fr")


@pytest.mark.django_db
def test_add_refuses_unknown_kinds_and_bad_urls():
    with pytest.raises(CommandError, match="unknown kind 'magento'"):
        call_command("hub_endpoint", "add", "magento", "m", "--base-url", "https://x.example", "--channel", "c")
    with pytest.raises(CommandError, match="is not a URL"):
        call_command("hub_endpoint", "add", "shopify", "s", "--base-url", "nope", "--channel", "c")
    assert not Endpoint.objects.exists()


@pytest.mark.django_db
def test_add_takes_settings_validated_by_the_connector_and_a_channel_only_when_the_kind_needs_one():
    from inventory.models import Warehouse
    from connectors.registry import CONNECTORS, Connector, register
    from connectors.options import ConnectorSettings, warehouse_map_field

    class MapSettings(ConnectorSettings):
        warehouse_map = warehouse_map_field()

    class NoChannel(Connector):
        kind = "nochannel-test"
        needs_channel = False
        settings_form = MapSettings

    register(NoChannel())
    try:
        Warehouse.objects.create(code="NORD", name="Nord")
        call_command("hub_endpoint", "add", "nochannel-test", "wh", "--base-url", "https://wh.example", "--setting", "warehouse_map=NORD=77")
        endpoint = Endpoint.objects.get(code="wh")
        assert endpoint.channel is None and endpoint.settings == {"warehouse_map": {"NORD": "77"}}
        with pytest.raises(CommandError, match="PARIS"):
            call_command("hub_endpoint", "add", "nochannel-test", "wh", "--base-url", "https://wh.example", "--setting", "warehouse_map=PARIS=1")
        with pytest.raises(CommandError, match="colour"):
            call_command("hub_endpoint", "add", "nochannel-test", "wh", "--base-url", "https://wh.example", "--setting", "colour=blue")
        with pytest.raises(CommandError, match="NAME=VALUE"):
            call_command("hub_endpoint", "add", "nochannel-test", "wh", "--base-url", "https://wh.example", "--setting", "nothing")
        assert Endpoint.objects.get(code="wh").settings == {"warehouse_map": {"NORD": "77"}}
        call_command("hub_endpoint", "list")
    finally:
        CONNECTORS.pop("nochannel-test", None)


@pytest.mark.django_db
def test_a_storefront_still_needs_its_channel():
    with pytest.raises(CommandError, match="--channel"):
        call_command("hub_endpoint", "add", "shopify", "s", "--base-url", "https://x.example")
    assert not Endpoint.objects.exists()
