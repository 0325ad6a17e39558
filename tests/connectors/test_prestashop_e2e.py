"""PrestaShop end to end over real HTTP: the hub's flows against the PrestaShop sandbox's Webservice."""

from decimal import Decimal

from catalog.services import price_entry_set
from connectors.models import SyncJob
from inventory import services as stock
from tests.connectors.prestashop_world import publish, run_flows, shop_quantity


def test_a_simple_product_and_one_with_combinations_go_out_with_prices_and_stock(ps_world):
    publish(ps_world)
    shop = ps_world["shop"]
    assert not SyncJob.objects.exclude(status="done").exists(), list(SyncJob.objects.values("flow", "status", "last_error"))
    lamp = shop.list("products", **{"filter[reference]": "[LAMP-1]"})[0]
    assert (lamp["price"], lamp["name"][0]["value"], lamp["product_type"]) == ("20.833333", "Lampe Baladeuse", "standard")
    shirt = shop.list("products", **{"filter[reference]": "[SHIRT]"})[0]
    combinations = {c["reference"]: c for c in shop.list("combinations", **{"filter[id_product]": f"[{shirt['id']}]"})}
    assert shirt["price"] == "32.500000" and set(combinations) == {"SHIRT-S", "SHIRT-M"}
    assert {ref: Decimal(c["price"]) for ref, c in combinations.items()} == {"SHIRT-S": Decimal(0), "SHIRT-M": Decimal("2.5")}
    assert {ref: shop_quantity(ps_world, ref) for ref in ("LAMP-1", "SHIRT-S", "SHIRT-M")} == {"LAMP-1": 10, "SHIRT-S": 10, "SHIRT-M": 10}
    price_entry_set(price_list=ps_world["public"], product=ps_world["sizes"][1], unit_price=Decimal("45.00"))
    stock.stock_adjust(product=ps_world["lamp"], warehouse=ps_world["lyon"], quantity_delta=-3, reason="damaged")
    run_flows(ps_world["endpoint"], "products.out", "stock.out")
    shirt_m = shop.list("combinations", **{"filter[reference]": "[SHIRT-M]"})[0]
    assert Decimal(shirt_m["price"]) == Decimal("5")
    assert shop_quantity(ps_world, "LAMP-1") == 7
    assert len(shop.list("products")) == 2
