"""An endpoint's credentials are sent only to its own host (scheme, host and port), and changing
that host requires entering them again."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from catalog.services import product_update
from connectors import sync
from connectors.vault import seal
from connectors.models import Endpoint, SyncJob
from tests.catalog.factories import ProductFactory
from tests.connectors.shopify_world import run_flows


class Witness:
    """A server on another port that records whatever reaches it, and can redirect elsewhere."""

    def __init__(self, redirect_to: str = ""):
        self.requests: list[dict] = []
        witness = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                witness.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers)})
                if redirect_to:
                    self.send_response(307)
                    self.send_header("Location", f"{redirect_to}{self.path}")
                else:
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def elsewhere():
    server = Witness()
    yield server
    server.stop()


def test_a_next_page_link_to_another_host_is_refused_and_that_host_receives_nothing(world, elsewhere):
    world["sandbox"].set_faults(next_link_base=elsewhere.url)
    endpoint = world["endpoint"]
    sync.sync_job_enqueue(endpoint=endpoint, flow="orders.poll", record_key="*", label="poll")
    run_flows(endpoint, "orders.poll")
    job = SyncJob.objects.get(flow="orders.poll")
    assert job.status == "failed" and job.error_class == "permanent"
    assert "not the endpoint's host" in job.last_error and "127.0.0.1:" in job.last_error
    assert elsewhere.requests == []


def test_a_redirect_to_another_host_is_not_followed(echo_endpoint, elsewhere):
    redirector = Witness(redirect_to=elsewhere.url)
    try:
        Endpoint.objects.filter(pk=echo_endpoint.pk).update(base_url=redirector.url, credentials_sealed=seal({"token": "secret"}))
        product_update(product=ProductFactory(sku="LAMP-1"), name="Lampe")
        sync.sync_run(endpoint_id=echo_endpoint.pk, flow_name="products.echo", budget_seconds=5)
    finally:
        redirector.stop()
    job = SyncJob.objects.get()
    assert job.status == "failed" and "not the endpoint's host" in job.last_error
    assert [r["method"] for r in redirector.requests] == ["POST"]
    assert elsewhere.requests == []


def change_form(endpoint, **changes) -> dict:
    from connectors.sync import schedules_ensure

    schedules = sorted(schedules_ensure(endpoint=endpoint).values(), key=lambda row: row.flow)
    data = {"kind": endpoint.kind, "code": endpoint.code, "name": endpoint.name, "base_url": endpoint.base_url,
            "channel": endpoint.channel_id, "concurrency_limit": endpoint.concurrency_limit,
            "rate_limit_per_second": str(endpoint.rate_limit_per_second), "setting_warehouse_map": "", "setting_price_list": "",
            "is_active": "on", "alert_emails": "", "credentials": "", "webhook_secret": "",
            "schedules-TOTAL_FORMS": len(schedules), "schedules-INITIAL_FORMS": len(schedules), "schedules-MIN_NUM_FORMS": 0,
            "schedules-MAX_NUM_FORMS": 1000}
    for index, row in enumerate(schedules):
        data.update({f"schedules-{index}-id": row.pk, f"schedules-{index}-endpoint": endpoint.pk, f"schedules-{index}-every_minutes": row.every_minutes})
    return {**data, **changes}


@pytest.fixture
def shop_endpoint(db):
    from tests.hub.factories import SalesChannelFactory

    return Endpoint.objects.create(kind="shopify", code="shop-fr", name="Boutique", base_url="https://lumiere.myshopify.com",
                                   channel=SalesChannelFactory(code="shopify-fr"), credentials={"access_token": "shpat_real"},
                                   webhook_secret="whsec-real")


def test_changing_the_host_in_the_admin_without_the_secrets_is_refused_and_changes_nothing(admin_client, shop_endpoint):
    url = reverse("admin:connectors_endpoint_change", args=[shop_endpoint.pk])
    response = admin_client.post(url, change_form(shop_endpoint, base_url="https://attacker.example"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "enter the credentials and the webhook secret again" in str(errors["base_url"])
    assert "shpat_real" not in response.content.decode() and "whsec-real" not in response.content.decode()
    shop_endpoint.refresh_from_db()
    assert shop_endpoint.base_url == "https://lumiere.myshopify.com" and shop_endpoint.credentials == {"access_token": "shpat_real"}
    # another port is another host too
    response = admin_client.post(url, change_form(shop_endpoint, base_url="https://lumiere.myshopify.com:8443"))
    assert "base_url" in response.context["adminform"].form.errors


def test_changing_the_host_in_the_admin_with_new_secrets_saves_them(admin_client, shop_endpoint):
    url = reverse("admin:connectors_endpoint_change", args=[shop_endpoint.pk])
    response = admin_client.post(url, change_form(shop_endpoint, base_url="https://boutique-2.myshopify.com",
                                                  credentials="access_token=shpat_new", webhook_secret="whsec-new"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    shop_endpoint.refresh_from_db()
    assert shop_endpoint.base_url == "https://boutique-2.myshopify.com"
    assert shop_endpoint.credentials == {"access_token": "shpat_new"} and shop_endpoint.webhook_secret == "whsec-new"


def test_the_same_host_keeps_its_secrets_when_the_form_leaves_them_empty(admin_client, shop_endpoint):
    url = reverse("admin:connectors_endpoint_change", args=[shop_endpoint.pk])
    response = admin_client.post(url, change_form(shop_endpoint, base_url="https://LUMIERE.myshopify.com:443/", name="Renamed"))
    assert response.status_code == 302
    shop_endpoint.refresh_from_db()
    assert shop_endpoint.name == "Renamed" and shop_endpoint.credentials == {"access_token": "shpat_real"}
    assert shop_endpoint.webhook_secret == "whsec-real"


def test_hub_endpoint_add_refuses_a_new_host_without_the_credentials(shop_endpoint):
    with pytest.raises(CommandError, match="enter the credentials and the webhook secret again"):
        call_command("hub_endpoint", "add", "shopify", "shop-fr", "--base-url", "https://attacker.example", "--channel", "shopify-fr")
    shop_endpoint.refresh_from_db()
    assert shop_endpoint.base_url == "https://lumiere.myshopify.com"
    call_command("hub_endpoint", "add", "shopify", "shop-fr", "--base-url", "https://boutique-2.myshopify.com", "--channel", "shopify-fr",
                 "--credential", "access_token=shpat_new", "--webhook-secret", "whsec-new")
    shop_endpoint.refresh_from_db()
    assert (shop_endpoint.base_url, shop_endpoint.credentials) == ("https://boutique-2.myshopify.com", {"access_token": "shpat_new"})
