"""Demo warehouses (own DC, 3PL, shop, quarantine), channel stock policies and opening stock."""

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from catalog.models import Product
from hub.models import SalesChannel
from hub.registry import DemoSeeder, register_demo_seeder
from inventory.models import Warehouse
from inventory.services import channel_stock_policy_set, stock_receive_many

WAREHOUSES = [
    ("LYON-DC", "Entrepôt Lyon Saint-Priest", Warehouse.Kind.OWN, "FR", 30, True),
    ("3PL-NORD", "Logisticien Nord (3PL)", Warehouse.Kind.THIRD_PARTY, "FR", 20, True),
    ("SHOP-PARIS", "Magasin Paris 11e", Warehouse.Kind.SHOP, "FR", 5, True),
    ("QUARANTINE", "Quarantaine retours", Warehouse.Kind.OWN, "FR", 0, False),
]
# channel → (warehouse codes feeding it, safety buffer, split allowed)
POLICIES = {
    "web-fr": (["LYON-DC", "3PL-NORD"], 2, True),
    "b2b-portal": (["LYON-DC", "3PL-NORD"], 0, True),
    "shop-paris": (["SHOP-PARIS"], 0, False),
    "marketplace": (["3PL-NORD"], 5, False),
    "phone": (["LYON-DC", "3PL-NORD", "SHOP-PARIS"], 0, True),
}


def seed(*, scale, rng):
    warehouses = {}
    for code, name, kind, country, priority, sellable in WAREHOUSES:
        warehouses[code], _ = Warehouse.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "country": country, "priority": priority, "is_sellable": sellable}
        )
    channels = {c.code: c for c in SalesChannel.objects.filter(code__in=POLICIES)}
    for code, (warehouse_codes, buffer, split) in POLICIES.items():
        if code in channels:
            channel_stock_policy_set(channel=channels[code], warehouses=[warehouses[w] for w in warehouse_codes],
                                     safety_buffer=buffer, allow_split=split)
    sellable = (
        Product.objects.filter(status=Product.Status.ACTIVE)
        .exclude(Exists(Product.objects.filter(parent=OuterRef("pk"))))
        .order_by("pk")
    )
    today = timezone.localdate()
    rows = []
    for product in sellable.iterator(chunk_size=5000):
        for code, share in (("LYON-DC", 1.0), ("3PL-NORD", 0.6), ("SHOP-PARIS", 0.15)):
            quantity = int(rng.randint(0, 120) * share)
            if quantity == 0:
                continue
            row = {"product": product, "warehouse": warehouses[code], "quantity": quantity}
            if product.track_expiry:
                row["lot"] = f"L{today:%y%m}-{rng.randint(100, 999)}"
                row["expiry"] = today + timedelta(days=rng.randint(20, 400))
            rows.append(row)
    count = stock_receive_many(rows=rows, source="demo", reference="OPENING-STOCK")
    return f"{len(warehouses)} warehouses, {count} opening receipts"


register_demo_seeder(DemoSeeder(name="inventory", seed=seed, order=20))
