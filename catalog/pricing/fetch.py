"""The one statement that reads what pricing needs: the wanted lists (with their base lists) and
the requested SKUs' entries that may be valid on the date. Portable SQL (SQLite, PostgreSQL);
dates and decimals come back as text so both databases give the same values."""

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from catalog.pricing.rules import ListInfo, PricedLine, PricingRequest, price_line, price_plan

_SQL = """
WITH wanted AS (
    SELECT id FROM catalog_pricelist WHERE id IN ({lists})
    UNION SELECT base_price_list_id FROM catalog_pricelist WHERE id IN ({lists}) AND base_price_list_id IS NOT NULL
)
SELECT NULL, id, code, currency, priority, is_active, CAST(valid_from AS TEXT), CAST(valid_to AS TEXT),
       base_price_list_id, CAST(base_adjustment_percent AS TEXT)
  FROM catalog_pricelist WHERE id IN (SELECT id FROM wanted)
UNION ALL
SELECT p.sku, e.price_list_id, NULL, NULL, e.min_quantity, NULL, CAST(e.valid_from AS TEXT), CAST(e.valid_to AS TEXT),
       NULL, CAST(e.unit_price AS TEXT)
  FROM catalog_product p LEFT JOIN catalog_priceentry e
       ON e.product_id = p.id AND ({every_list} OR e.price_list_id IN (SELECT id FROM wanted))
       AND (e.valid_from IS NULL OR e.valid_from <= %s) AND (e.valid_to IS NULL OR e.valid_to >= %s)
 WHERE p.sku IN ({skus}) AND p.status = 'active'
"""


def _day(text):
    return date.fromisoformat(text[:10]) if text else None


def fetch(*, list_ids: Iterable[int], skus: Sequence[str], on_date: date, every_list: bool = False):
    """(lists by id, {sku: {list id: entries}} for each requested active SKU). The entries are in
    the wanted lists, or in every list with `every_list` (for a cache shared by all customers)."""
    list_ids = sorted(set(list_ids)) or [0]
    skus = list(dict.fromkeys(skus)) or [""]
    placeholders = ", ".join(["%s"] * len(list_ids))
    sql = _SQL.format(lists=placeholders, skus=", ".join(["%s"] * len(skus)), every_list="1 = 1" if every_list else "1 = 0")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*list_ids, *list_ids, on_date, on_date, *skus])
        rows = cursor.fetchall()
    lists, entries = {}, {}
    for sku, list_id, code, currency, number, active, valid_from, valid_to, base_id, amount in rows:
        if sku is None:
            lists[list_id] = ListInfo(list_id, code, currency, number, bool(active), _day(valid_from), _day(valid_to),
                                      base_id, Decimal(amount))
        else:
            by_list = entries.setdefault(sku, {})
            if list_id is not None:
                # Plain tuples (read as `Break`s by position), which the garbage collector stops tracking.
                by_list[list_id] = (*by_list.get(list_id, ()), (number, Decimal(amount), _day(valid_from), _day(valid_to)))
    return lists, entries


def price_lines(*, lines: Sequence[tuple[str, int]], request: PricingRequest, on_date: date | None = None) -> list[PricedLine]:
    """Read what the lines need in one statement and price them: for the admin, the staff order
    form, the order import and the connectors."""
    on_date = on_date or timezone.localdate()
    list_ids = [i for tier in request.tiers for i in tier.list_ids] + [request.reference_list_id or 0]
    lists, entries = fetch(list_ids=list_ids, skus=[sku for sku, _ in lines], on_date=on_date)
    plan = price_plan(request=request, on_date=on_date, lists=lists)
    return [price_line(plan, sku, quantity, entries.get(sku)) for sku, quantity in lines]
