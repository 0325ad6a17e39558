"""What the back office holds when a journey starts, written through the services like real data."""

from catalog.services import product_create
from inventory import services as stock
from orders import services as orders
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import order_payload

HOLD_REASON = "adresse de livraison à confirmer avec la cliente"


def boutique():
    """A French web shop selling a lamp kept in Lyon."""
    channel = SalesChannelFactory(code="boutique-fr", name="Boutique en ligne")
    lyon = WarehouseFactory(code="LYON", name="Entrepôt de Lyon")
    lamp = product_create(sku="LAMP-1", name="Lampe baladeuse", status="active")
    stock.stock_receive(product=lamp, warehouse=lyon, quantity=10)
    return {"channel": channel, "lyon": lyon, "lamp": lamp}


def order_on_hold(channel, external_id="1001"):
    """A paid order (2 lamps), held by a colleague until the address is checked."""
    lines = [{"sku": "LAMP-1", "name": "Lampe baladeuse", "quantity": 2, "unit_price": "25.00", "tax_rate": "0.2000", "tax_amount": "8.33"}]
    order, _ = orders.order_import(channel=channel, data=order_payload(external_id, lines=lines))
    return orders.order_hold(order=order, reason=HOLD_REASON)
