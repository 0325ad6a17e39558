"""Which price lists a customer has, read in one statement for the tiers rule
(`catalog.pricing.tiers_for`), and the price API's quote over the per-process cache."""

import logging
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.db import connection
from django.utils import timezone

from catalog.pricing import (
    CONTRACT, CUSTOMER_LIST, GROUP_LIST, PUBLIC_LIST, PricePlan, PricingRequest, fetch, price_line, price_plan, tiers_for,
)
from catalog.pricing.cache import CUSTOMERS, SKUS, price_cache

log = logging.getLogger(__name__)
MIGRATION = "orders.migrations.0010_pricing_changes"
# Rows: (id, code, currency, tier, list id); the first row always comes, with a NULL contract.
_CUSTOMER_SQL = f"""
WITH cust AS (SELECT id, code, currency, contract_price_list_id, group_id FROM orders_customer c WHERE {{where}})
SELECT id, code, currency, '{CONTRACT}', contract_price_list_id FROM cust
UNION ALL SELECT cust.id, code, currency, '{CUSTOMER_LIST}', cl.pricelist_id
            FROM cust JOIN orders_customer_price_lists cl ON cl.customer_id = cust.id
UNION ALL SELECT cust.id, code, currency, '{GROUP_LIST}', gl.pricelist_id
            FROM cust JOIN orders_customergroup_price_lists gl ON gl.customergroup_id = cust.group_id
UNION ALL SELECT cust.id, code, currency, '{PUBLIC_LIST}', pub.public_price_list_id
            FROM cust JOIN catalog_channelcatalog pub ON pub.channel_id = %s
"""
_FOR_CHANNEL = ("c.code = %s AND c.is_active AND EXISTS (SELECT 1 FROM orders_customer_channels ch"
                " WHERE ch.customer_id = c.id AND ch.saleschannel_id = %s)")


@dataclass(frozen=True, slots=True)
class CustomerPricing:
    customer_code: str
    request: PricingRequest
    plan: PricePlan | None = None

    @property
    def currency(self) -> str:
        return self.request.currency


def customer_pricing(*, where: str, params: list, channel_id) -> CustomerPricing | None:
    with connection.cursor() as cursor:
        cursor.execute(_CUSTOMER_SQL.format(where=where), [*params, channel_id])
        rows = cursor.fetchall()
    if not rows:
        return None
    assigned = {}
    for _, _, _, tier, list_id in rows:
        if list_id is not None:
            assigned.setdefault(tier, set()).add(list_id)
    return CustomerPricing(rows[0][1], tiers_for(currency=rows[0][2], assigned=assigned))


def customer_pricing_for_instance(*, customer, channel=None) -> PricingRequest:
    """For the staff order form and the order import, which hold the customer (and maybe a channel)."""
    return customer_pricing(where="c.id = %s", params=[customer.pk], channel_id=getattr(channel, "pk", None)).request


def price_cache_size() -> int:
    """SKUs each process may keep (`HUB_PRICE_CACHE_SKUS`); 0 also when the change triggers of
    migration orders 0010 are missing (a later migration rebuilding a table on SQLite drops them)."""
    size = settings.HUB_PRICE_CACHE_SKUS
    if size and price_cache.triggers_ok is None:
        with connection.cursor() as cursor:
            table = "pg_trigger WHERE tgname" if connection.vendor == "postgresql" else "sqlite_master WHERE type = 'trigger' AND name"
            cursor.execute(f"SELECT COUNT(*) FROM {table} LIKE 'pricing_change_%%'")
            found = cursor.fetchone()[0]
        expected = sum(sql.startswith("CREATE TRIGGER") for sql in import_module(MIGRATION).triggers(connection.vendor)[0])
        price_cache.triggers_ok = bool(expected) and found == expected
        if not price_cache.triggers_ok:
            log.warning("price cache off: %s of %s pricing change triggers found", found, expected)
    return size if price_cache.triggers_ok else 0


def channel_quote(*, epoch, channel_id: int, customer_code: str, lines) -> tuple[CustomerPricing | None, list]:
    """Price `lines` for a customer of the channel: (None, []) when the channel may not quote
    them. Reads only what the cache (synced to `epoch`, None when unused) lacks."""
    on_date = timezone.localdate()
    by_channel = price_cache.get(epoch, CUSTOMERS, customer_code, {})
    pricing = by_channel.get(channel_id, False)
    skus = price_cache.maps[SKUS] if epoch is not None else {}
    missing = [sku for sku, _ in lines if sku not in skus]
    if pricing is False:
        pricing = customer_pricing(where=_FOR_CHANNEL, params=[customer_code, channel_id], channel_id=channel_id)
    if pricing is not None and pricing.plan is None:
        request = pricing.request
        lists, entries = fetch(list_ids=[i for t in request.tiers for i in t.list_ids], skus=missing, on_date=on_date,
                               every_list=epoch is not None)
        pricing = CustomerPricing(pricing.customer_code, request, price_plan(request=request, on_date=on_date, lists=lists))
    elif missing and pricing is not None:
        entries = fetch(list_ids=[], skus=missing, on_date=on_date, every_list=True)[1]
    else:
        entries = {}
    price_cache.keep(epoch, CUSTOMERS, customer_code, {**by_channel, channel_id: pricing})
    for sku in missing:
        price_cache.keep(epoch, SKUS, sku, entries.get(sku))
    if pricing is None:
        return None, []
    return pricing, [price_line(pricing.plan, sku, qty, entries[sku] if sku in entries else skus.get(sku)) for sku, qty in lines]
