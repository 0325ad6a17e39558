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


WOO_KEY, WOO_SECRET = "ck_boutique", "cs_boutique_2026"


def woocommerce_shop():
    """A WooCommerce sandbox shop over real HTTP (the hub's task cluster calls it from its own process)."""
    from connectors.woocommerce.sandbox import WooCommerceSandbox

    return WooCommerceSandbox(consumer_key=WOO_KEY, consumer_secret=WOO_SECRET).start()


def shop_endpoint_with_a_failed_product(shop_url):
    """The shop's endpoint, whose key was renewed in WooCommerce but not yet in the hub: the lamp's
    last push was refused and waits for a person."""
    from decimal import Decimal

    from catalog.services import price_entry_set, price_list_create
    from connectors import sync
    from connectors.models import Endpoint, SyncJob
    from tests.catalog.factories import ChannelCatalogFactory

    scene = boutique()
    public = price_list_create(code="PUBLIC", name="Prix public TTC")
    ChannelCatalogFactory(channel=scene["channel"], public_price_list=public)
    price_entry_set(price_list=public, product=scene["lamp"], unit_price=Decimal("25.00"))
    endpoint = Endpoint.objects.create(kind="woocommerce", code="boutique-fr", name="Boutique WooCommerce", base_url=shop_url,
                                       channel=scene["channel"], credentials={"consumer_key": WOO_KEY, "consumer_secret": "cs_old_key"},
                                       settings={"stock_warehouses": "LYON"})
    sync.sync_job_enqueue(endpoint=endpoint, flow="products.out", record_key=str(scene["lamp"].pk), label=scene["lamp"].sku)
    sync.sync_run(endpoint_id=endpoint.pk, flow_name="products.out", budget_seconds=20)
    job = SyncJob.objects.get(endpoint=endpoint, flow="products.out")
    assert job.status == SyncJob.Status.FAILED, (job.status, job.last_error)
    return {**scene, "endpoint": endpoint, "job": job}
