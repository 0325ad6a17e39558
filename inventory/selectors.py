"""Reads: available-to-sell per channel, levels, and the ledger drift check."""

from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from inventory.models import StockLevel, StockLot, StockMovement
from inventory.services import channel_policy, channel_warehouses


def _free(on_hand: str, reserved: str):
    """Units free in one row, never below zero (a negative warehouse does not eat another's stock)."""
    return Case(When(**{f"{on_hand}__gt": F(reserved)}, then=F(on_hand) - F(reserved)), default=Value(0), output_field=IntegerField())


def available_to_sell(*, channel, skus=None, warehouse_codes=None) -> dict[str, int]:
    """Units a channel may sell per SKU: free stock in the warehouses feeding it (expired lots
    excluded), minus the channel's safety buffer, never below zero. Two aggregate queries,
    whatever the number of SKUs. With `skus`, every asked SKU is in the answer (0 if none).
    With `warehouse_codes`, only those of the channel's warehouses count (e.g. one shop location)."""
    warehouse_ids = [w.pk for w in channel_warehouses(channel) if warehouse_codes is None or w.code in warehouse_codes]
    buffer = channel_policy(channel).safety_buffer
    today = timezone.localdate()

    untracked = StockLevel.objects.filter(warehouse_id__in=warehouse_ids, product__track_expiry=False)
    tracked = StockLot.objects.filter(warehouse_id__in=warehouse_ids, product__track_expiry=True).filter(
        Q(expiry__isnull=True) | Q(expiry__gte=today)
    )
    if skus is not None:
        skus = list(dict.fromkeys(skus))
        untracked = untracked.filter(product__sku__in=skus)
        tracked = tracked.filter(product__sku__in=skus)
    totals: dict[str, int] = dict.fromkeys(skus or [], 0)
    for queryset in (untracked, tracked):
        rows = queryset.values_list("product__sku").annotate(free=Sum(_free("on_hand", "reserved"))).order_by()
        for sku, free in rows:
            totals[sku] = totals.get(sku, 0) + (free or 0)
    return {sku: max(0, free - buffer) for sku, free in totals.items()}


def stock_levels_for(*, product):
    return StockLevel.objects.filter(product=product).select_related("warehouse").order_by("-warehouse__priority", "warehouse__code")


def stock_by_warehouse(*, product) -> list[StockLevel]:
    """The product's stock levels, and its variants' when it has some, warehouse by warehouse
    (what the product's page shows)."""
    return list(StockLevel.objects.filter(Q(product=product) | Q(product__parent=product)).select_related("warehouse", "product")
                .order_by("product__sku", "-warehouse__priority", "warehouse__code"))


def ledger_drift():
    """Levels whose on-hand differs from the sum of their movements (should be none)."""
    ledger_sum = (
        StockMovement.objects.filter(product_id=OuterRef("product_id"), warehouse_id=OuterRef("warehouse_id"))
        .order_by()
        .values("product_id", "warehouse_id")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return (
        StockLevel.objects.annotate(ledger=Coalesce(Subquery(ledger_sum, output_field=IntegerField()), Value(0)))
        .exclude(on_hand=F("ledger"))
        .select_related("product", "warehouse")
    )


def stock_positions(*, warehouse_code: str, skus=None) -> dict[str, dict]:
    """What the ledger says one warehouse holds, per SKU: on hand, reserved and, for lot-tracked
    products, on hand per lot with its expiry. With `skus`, only those (absent ones are not listed)."""
    levels = StockLevel.objects.filter(warehouse__code=warehouse_code)
    lots = StockLot.objects.filter(warehouse__code=warehouse_code)
    if skus is not None:
        skus = list(dict.fromkeys(skus))
        levels, lots = levels.filter(product__sku__in=skus), lots.filter(product__sku__in=skus)
    positions: dict[str, dict] = {}
    for sku, product_id, track_expiry, on_hand, reserved in levels.values_list(
            "product__sku", "product_id", "product__track_expiry", "on_hand", "reserved"):
        positions[sku] = {"product_id": product_id, "track_expiry": track_expiry, "on_hand": on_hand, "reserved": reserved, "lots": {}}
    for sku, lot, expiry, on_hand in lots.values_list("product__sku", "lot", "expiry", "on_hand"):
        if sku in positions:
            positions[sku]["lots"][lot] = {"on_hand": on_hand, "expiry": expiry}
    return positions


# --- Levels by availability (the admin filter and the overview) -------------------------------

LOW_STOCK_THRESHOLD = 5
AVAILABILITY_Q = {
    # available = on hand - reserved
    "low": Q(on_hand__gt=F("reserved"), on_hand__lte=F("reserved") + LOW_STOCK_THRESHOLD),
    "out": Q(on_hand__lte=F("reserved")),
    "negative": Q(on_hand__lt=0),
    "reserved": Q(reserved__gt=0),
}


def stock_levels_by_availability(queryset, kind: str):
    """Stock levels (one product in one warehouse) that are low (1 to LOW_STOCK_THRESHOLD units
    available), out (none available), negative on hand, or that have reservations."""
    return queryset.filter(AVAILABILITY_Q[kind])


def stock_availability_counts() -> dict[str, int]:
    """How many stock levels are low and out of stock. One query."""
    return StockLevel.objects.aggregate(low=Count("id", filter=AVAILABILITY_Q["low"]), out=Count("id", filter=AVAILABILITY_Q["out"]))
