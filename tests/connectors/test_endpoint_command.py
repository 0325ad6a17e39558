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
    with pytest.raises(CommandError, match="unknown kind 'nosuchshop'"):
        call_command("hub_endpoint", "add", "nosuchshop", "m", "--base-url", "https://x.example", "--channel", "c")
    with pytest.raises(CommandError, match="is not a URL"):
        call_command("hub_endpoint", "add", "shopify", "s", "--base-url", "nope", "--channel", "c")
    assert not Endpoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("arguments, message", [
    (["--base-url", "ftp://shop.example", "--credential", "access_token=t"], "--base-url: 'ftp://shop.example' is not a URL with an http or https scheme"),
    (["--base-url", "https://shop.example"], "--credential: shopify needs the credential(s): access_token"),
    (["--base-url", "https://shop.example", "--credential", "access_token="], "--credential: Empty credential: access_token"),
    (["--base-url", "https://shop.example", "--credential", "access_token=t", "--webhook-secret", "   "], "--webhook-secret: The webhook secret cannot be blank"),
    (["--base-url", "https://shop.example", "--credential", "shpat_no_name"], "Credential 1: write NAME=VALUE"),
])
def test_add_validates_everything_before_saving_anything(arguments, message):
    with pytest.raises(CommandError) as error:
        call_command("hub_endpoint", "add", "shopify", "shop-fr", "--channel", "new-channel", *arguments)
    assert message in str(error.value) and "nothing saved" in str(error.value)
    assert "shpat_no_name" not in str(error.value)
    assert not Endpoint.objects.exists() and not SalesChannel.objects.filter(code="new-channel").exists()


@pytest.mark.django_db
def test_add_refuses_a_channel_code_the_hub_cannot_use():
    with pytest.raises(CommandError, match="--channel 'bad code!'"):
        call_command("hub_endpoint", "add", "shopify", "shop-fr", "--channel", "bad code!", "--base-url", "https://shop.example",
                     "--credential", "access_token=t")
    assert not Endpoint.objects.exists() and not SalesChannel.objects.exists()


@pytest.mark.django_db
def test_settings_are_given_with_setting_and_validated_by_the_connectors_form(shop_url):
    from tests.inventory.factories import WarehouseFactory

    WarehouseFactory(code="LYON")
    common = ["shopify", "shop-fr", "--base-url", shop_url, "--channel", "shopify-fr", "--credential", "access_token=shpat_good"]
    with pytest.raises(CommandError, match=r"--setting: warehouse_map: Unknown warehouse code\(s\): PARIS"):
        call_command("hub_endpoint", "add", *common, "--setting", "warehouse_map=PARIS=1001")
    with pytest.raises(CommandError, match="Unknown setting.*colour"):
        call_command("hub_endpoint", "add", *common, "--setting", "colour=blue")
    assert not Endpoint.objects.exists()
    call_command("hub_endpoint", "add", *common, "--setting", "warehouse_map=LYON=1001")
    assert Endpoint.objects.get(code="shop-fr").config["warehouse_map"] == {"LYON": "1001"}


@pytest.mark.django_db
def test_a_storefront_needs_a_sales_channel(shop_url):
    with pytest.raises(CommandError, match="--channel: shopify sells on a sales channel"):
        call_command("hub_endpoint", "add", "shopify", "shop-fr", "--base-url", shop_url, "--credential", "access_token=shpat_good")
    assert not Endpoint.objects.exists()


@pytest.mark.django_db
def test_the_endpoint_page_edits_the_connectors_settings_and_its_schedules(admin_client, shop_url):
    from django.urls import reverse

    from connectors.models import EndpointSchedule
    from tests.inventory.factories import WarehouseFactory

    WarehouseFactory(code="LYON")
    call_command("hub_endpoint", "add", "shopify", "shop-fr", "--base-url", shop_url, "--channel", "shopify-fr", "--credential", "access_token=t")
    endpoint = Endpoint.objects.get(code="shop-fr")
    url = reverse("admin:connectors_endpoint_change", args=[endpoint.pk])
    page = admin_client.get(url)
    assert "setting_warehouse_map" in page.content.decode() and "every_minutes" in page.content.decode()
    data = {"kind": "shopify", "code": "shop-fr", "name": "Boutique", "base_url": shop_url, "channel": endpoint.channel_id,
            "concurrency_limit": 2, "rate_limit_per_second": "2", "is_active": "on", "alert_emails": "",
            "credentials": "", "webhook_secret": "", "setting_price_list": "", "setting_warehouse_map": "NOWHERE=1"}
    schedules = list(EndpointSchedule.objects.filter(endpoint=endpoint).order_by("flow"))
    data.update({"schedules-TOTAL_FORMS": len(schedules), "schedules-INITIAL_FORMS": len(schedules), "schedules-MIN_NUM_FORMS": 0,
                 "schedules-MAX_NUM_FORMS": 1000})
    for index, row in enumerate(schedules):
        data.update({f"schedules-{index}-id": row.pk, f"schedules-{index}-endpoint": endpoint.pk,
                     f"schedules-{index}-every_minutes": 3 if row.flow == "orders.poll" else row.every_minutes})
    refused = admin_client.post(url, data)
    assert refused.status_code == 200 and "Unknown warehouse code(s): NOWHERE" in refused.content.decode()
    assert Endpoint.objects.get(pk=endpoint.pk).settings.get("warehouse_map") in (None, {})
    accepted = admin_client.post(url, {**data, "setting_warehouse_map": "LYON=1001"})
    assert accepted.status_code == 302
    assert Endpoint.objects.get(pk=endpoint.pk).config["warehouse_map"] == {"LYON": "1001"}
    assert EndpointSchedule.objects.get(endpoint=endpoint, flow="orders.poll").every_minutes == 3

    french = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'type="checkbox" name="enabled_flows" value="stock.out"' in french and "Stock disponible envoyé" in french
    assert admin_client.post(url, {**data, "setting_warehouse_map": "LYON=1001", "enabled_flows": ["stock.out", "orders.poll"]}).status_code == 302
    assert Endpoint.objects.get(pk=endpoint.pk).enabled_flows == ["stock.out", "orders.poll"]
    refused = admin_client.post(url, {**data, "setting_warehouse_map": "LYON=1001", "enabled_flows": ["invoices.out"]})
    assert refused.status_code == 200 and Endpoint.objects.get(pk=endpoint.pk).enabled_flows == ["stock.out", "orders.poll"]


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
