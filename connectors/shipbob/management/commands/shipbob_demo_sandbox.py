"""Demo only: the ShipBob sandbox for `make run`, stocked as the hub's 3PL warehouse is, with the
items the hub sent it and the orders the hub has released to it and not seen shipped (its state
lives in memory: a restart of `make run` must not lose them)."""

from django.core.management.base import BaseCommand

from connectors.binder import Binder
from connectors.fulfilment.state import ITEM, RELEASE
from connectors.models import Endpoint
from connectors.shipbob.demo import DEMO_CHANNEL_ID, DEMO_ENDPOINT, DEMO_LOCATION, DEMO_TOKEN, DEMO_WAREHOUSE, DEMO_WEBHOOK_SECRET
from connectors.shipbob.sandbox import ShipBobSandbox
from inventory.selectors import stock_positions
from orders.models import SalesOrder
from orders.selectors import shipped_quantities


def demo_sandbox(*, port: int, hub_url: str, **options) -> ShipBobSandbox:
    sandbox = ShipBobSandbox(token=DEMO_TOKEN, channel_id=DEMO_CHANNEL_ID, locations={int(DEMO_LOCATION): "Nord (FR)"}, port=port,
                             webhook_url=f"{hub_url.rstrip('/')}/webhooks/{DEMO_ENDPOINT}/", webhook_secret=DEMO_WEBHOOK_SECRET,
                             seed=None, **options)
    for sku, position in stock_positions(warehouse_code=DEMO_WAREHOUSE).items():
        for lot, values in position["lots"].items():
            if values["on_hand"] > 0:
                sandbox.warehouse.receive(DEMO_LOCATION, sku, values["on_hand"], lot=lot, expiry=values["expiry"])
        if not position["lots"] and position["on_hand"] > 0:
            sandbox.warehouse.receive(DEMO_LOCATION, sku, position["on_hand"])
    endpoint = Endpoint.objects.filter(code=DEMO_ENDPOINT).first()
    if endpoint is not None:
        for item in Binder(endpoint).all(ITEM):
            if item.data.get("product_id") and item.data.get("inventory_id"):
                sandbox.restore_item(product_id=int(item.data["product_id"]), variant_id=int(item.external_id),
                                     inventory_id=int(item.data["inventory_id"]), sku=item.data["sku"], name=item.data["sku"],
                                     is_lot=bool(item.data.get("is_lot")))
        for binding in Binder(endpoint).all(RELEASE).filter(data__state__in=["open", "held"]):
            data = binding.data
            order = SalesOrder.objects.filter(pk=data["order"]).first()
            if order is None:
                continue
            shipped = shipped_quantities(order_ids=[order.pk], warehouse_code=data["warehouse"])
            left = {sku: units - shipped.get((order.pk, sku), 0) for sku, units in data["lines"].items()}
            left = {sku: units for sku, units in left.items() if units > 0}
            if not left:
                continue
            address = order.shipping_address or {}
            sandbox.warehouse.place(
                order_id=int(binding.external_id), reference=data["reference"], location=DEMO_LOCATION, lines=left, service="Standard",
                address={"name": address.get("name", ""), "email": order.customer.email, "phone_number": address.get("phone"),
                         "address": {"address1": address.get("line1"), "address2": address.get("line2"), "company_name": address.get("company"),
                                     "city": address.get("city"), "state": None, "country": address.get("country"), "zip_code": address.get("postcode")}},
                extra={"channel": DEMO_CHANNEL_ID, "order_number": order.number, "products": [
                    {"reference_id": sku, "sku": sku, "quantity": units} for sku, units in left.items()], "type": "DTC", "tags": []})
    return sandbox


class Command(BaseCommand):
    help = "Demo: run the ShipBob sandbox stocked as the hub's 3PL warehouse, its warehouse working by itself."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8020)
        parser.add_argument("--hub-url", default="http://127.0.0.1:8000")
        parser.add_argument("--pick-after", type=float, default=15.0)
        parser.add_argument("--ship-after", type=float, default=15.0)

    def handle(self, *args, port, hub_url, pick_after, ship_after, **options):
        sandbox = demo_sandbox(port=port, hub_url=hub_url, auto=True, pick_after=pick_after, ship_after=ship_after, partial_rate=0.1,
                               parcels_rate=0.15, drift_every=300, return_after=45)
        self.stdout.write(f"ShipBob sandbox (demo 3PL) on {sandbox.url}, {len(sandbox.warehouse.orders)} open orders restored")
        sandbox.serve_forever()
