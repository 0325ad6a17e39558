"""Which price lists apply to a customer on a channel: the tiers `catalog.pricing` resolves."""

import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from catalog.models import ChannelCatalog, Product
from catalog.pricing import (
    PriceCache, PricePlan, PricingRequest, Tier, list_infos_from_rows, list_rows_sql, price_line, price_lines, price_plan,
    sku_entries_from_rows, sku_rows_sql, store_skus,
)
from catalog.sql import (
    GENERATION_SQL, execute_prepared, fetch_numbered, prepared_statements_enabled, pricing_trigger_names,
)
from hub.api.auth import LAST_USED_RESOLUTION_SECONDS
from orders.models import Customer, CustomerGroup

CONTRACT = "contract"
CUSTOMER_LIST = "customer_list"
GROUP_LIST = "group_list"
PUBLIC_LIST = "public_list"


DEFAULT_PRICE_CACHE_SKUS = 200_000


@dataclass(frozen=True)
class CustomerPricing:
    customer_id: int
    customer_code: str
    request: PricingRequest
    plan: PricePlan | None = None

    @property
    def currency(self) -> str:
        return self.request.currency


def _customer_sql() -> str:
    """One row: the customer, the channel's public list, and its own and its group's list ids as
    comma-separated text (correlated subqueries plan and run in well under a millisecond)."""
    customer = Customer._meta.db_table
    channels = Customer.channels.through._meta.db_table
    customer_lists = Customer.price_lists.through._meta.db_table
    group_lists = CustomerGroup.price_lists.through._meta.db_table
    catalogs = ChannelCatalog._meta.db_table
    if connection.vendor == "postgresql":
        def aggregate(column):
            return f"string_agg(CAST({column} AS TEXT), ',')"
    else:
        def aggregate(column):
            return f"group_concat({column}, ',')"
    return f"""
        SELECT c.id, c.code, c.currency, c.contract_price_list_id,
               (SELECT pub.public_price_list_id FROM {catalogs} pub WHERE pub.channel_id = ch.saleschannel_id),
               (SELECT {aggregate("cl.pricelist_id")} FROM {customer_lists} cl WHERE cl.customer_id = c.id),
               (SELECT {aggregate("gl.pricelist_id")} FROM {group_lists} gl WHERE gl.customergroup_id = c.group_id)
          FROM {customer} c
          JOIN {channels} ch ON ch.customer_id = c.id AND ch.saleschannel_id = %s
         WHERE c.code = %s AND c.is_active = %s
    """


_CUSTOMER_SQL = None


def customer_pricing_for(*, customer_code: str, channel) -> CustomerPricing | None:
    """The tiers for an active customer attached to `channel`; None when there is no such customer
    for this channel (whether the code exists elsewhere or not — callers answer 404 either way).

    One query: the customer, the channel's public list, and its own and its group's lists.
    """
    global _CUSTOMER_SQL
    if _CUSTOMER_SQL is None:
        _CUSTOMER_SQL = _customer_sql()
    with connection.cursor() as cursor:
        if prepared_statements_enabled():
            execute_prepared(cursor, name="orders_customer_pricing", sql=_CUSTOMER_SQL.replace("%s", "$1", 1).replace("%s", "$2", 1).replace("%s", "$3", 1),
                             params=[channel.pk, customer_code, True], types=["bigint", "text", "boolean"])
        else:
            cursor.execute(_CUSTOMER_SQL, [channel.pk, customer_code, True])
        row = cursor.fetchone()
    if row is None:
        return None
    customer_id, code, currency, contract_id, public_id, own_lists, group_lists = row
    assigned = {CUSTOMER_LIST: _ids(own_lists), GROUP_LIST: _ids(group_lists)}
    return CustomerPricing(customer_id, code, _request(currency, contract_id, assigned, public_id))


def _ids(text) -> set[int]:
    return {int(part) for part in str(text).split(",")} if text else set()


def _request(currency, contract_id, assigned, public_id) -> PricingRequest:
    tiers = []
    if contract_id is not None:
        tiers.append(Tier(CONTRACT, (contract_id,)))
    tiers.append(Tier(CUSTOMER_LIST, tuple(sorted(assigned[CUSTOMER_LIST]))))
    tiers.append(Tier(GROUP_LIST, tuple(sorted(assigned[GROUP_LIST]))))
    if public_id is not None:
        tiers.append(Tier(PUBLIC_LIST, (public_id,)))
    return PricingRequest(tiers=tuple(t for t in tiers if t.list_ids), currency=currency, reference_list_id=public_id)


def customer_quote(*, customer_code: str, channel, lines, on_date=None) -> tuple[CustomerPricing, list] | None:
    """Price `lines` for a customer of `channel` (already authenticated), uncached: None when the
    channel may not quote them. The price API uses `token_quote` instead."""
    on_date = on_date or timezone.localdate()
    pricing = customer_pricing_for(customer_code=customer_code, channel=channel)
    if pricing is None:
        return None
    return pricing, price_lines(lines=lines, request=pricing.request, on_date=on_date)


# --- The price API: token, customer and prices in one statement, with a per-process cache ---------

@dataclass(frozen=True, slots=True)
class ChannelToken:
    """An active token of an active channel, as the quote statement found it."""

    token_id: int
    channel_id: int
    channel_code: str
    channel_currency: str
    needs_stamp: bool  # last_used_at older than the kernel's resolution


@dataclass(frozen=True, slots=True)
class TokenQuote:
    token: ChannelToken | None  # None: no active token with this key (401)
    pricing: CustomerPricing | None  # None: no such customer for the token's channel (404)
    lines: list


_NOT_FOUND = object()
_CACHE = PriceCache()
_MAX_CONTEXTS = 50_000
# Every trigger migrations catalog 0003 and orders 0005 create; the cache is used only if all exist
# (a later migration that rebuilds one of these tables on SQLite would drop its triggers).
_ANY_WRITE_TABLES = ["catalog_pricelist", "catalog_priceentry", "catalog_channelcatalog",
                     "orders_customer_price_lists", "orders_customer_channels", "orders_customergroup_price_lists"]
EXPECTED_TRIGGERS = {
    "postgresql": {f"pricing_gen_{t}_{k}" for t in _ANY_WRITE_TABLES for k in ("write", "truncate")}
    | {"pricing_gen_catalog_product_insert_delete", "pricing_gen_catalog_product_update",
       "pricing_gen_orders_customer_delete", "pricing_gen_orders_customer_update"},
    "sqlite": {f"pricing_gen_{t}_{k}" for t in _ANY_WRITE_TABLES for k in ("insert", "update", "delete")}
    | {f"pricing_gen_catalog_product_{k}" for k in ("insert", "update", "delete")}
    | {"pricing_gen_orders_customer_delete", "pricing_gen_orders_customer_update"},
}
_triggers_checked: dict[str, bool] = {}

log = logging.getLogger(__name__)


def price_cache_size(db=None) -> int:
    """How many SKUs the per-process cache may hold (setting `HUB_PRICE_CACHE_SKUS`); 0 when the
    cache is off, by setting or because the database lacks the generation triggers."""
    size = getattr(settings, "HUB_PRICE_CACHE_SKUS", DEFAULT_PRICE_CACHE_SKUS)
    if not size:
        return 0
    vendor = (db or connection).vendor
    ok = _triggers_checked.get(vendor)
    if ok is None:
        missing = EXPECTED_TRIGGERS.get(vendor, {"?"}) - pricing_trigger_names()
        ok = _triggers_checked[vendor] = not missing
        if missing:
            log.warning("price cache off: pricing generation triggers missing: %s", ", ".join(sorted(missing)))
    return size if ok else 0


def price_cache_clear() -> None:
    _CACHE.clear()
    _triggers_checked.clear()


def _token_quote_sql(vendor: str, *, with_customer: bool, with_skus: bool) -> str:
    """The price API's one statement. Parameters: $1 key hash; with SKUs (always with the
    customer) $2 the SKUs to read (PostgreSQL: a text[] literal; SQLite: a JSON array), $3 the
    date (ISO), $4 the active status; with the customer also $5 its code, $6 whether to read the
    SKUs' entries in every list (to cache them) rather than only the customer's lists.

    Rows (13 columns; kinds 0 and 1 as in catalog.pricing): kind 5 = the token (token id, channel
    code, channel currency, may-store flag, needs-stamp flag, -, -, channel id, -, -, pricing
    generation); 2 = the customer (id, code, currency); 3 = an assigned list (id, tier); 0 = a
    list; 1 = a SKU's entry. No kind-5 row when the key is not an active token."""
    if vendor == "postgresql":
        skus = "= ANY(CAST($2 AS text[]))"
        store_ok = "CASE WHEN txid_current_if_assigned() IS NULL THEN 1 ELSE 0 END"
        stale = f"now() - interval '{LAST_USED_RESOLUTION_SECONDS} seconds'"
    else:
        skus = "IN (SELECT value FROM json_each($2))"
        store_ok = "1"  # the caller refuses to store inside a transaction instead
        stale = f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-{LAST_USED_RESOLUTION_SECONDS} seconds')"
    on_date = "CAST($3 AS date)" if vendor == "postgresql" else "$3"
    ctes = """
    tok AS (
        SELECT t.id AS token_id, t.last_used_at, c.id AS channel_id, c.code AS channel_code, c.currency AS channel_currency
          FROM hub_apitoken t JOIN hub_saleschannel c ON c.id = t.channel_id
         WHERE t.key_hash = $1 AND t.revoked_at IS NULL AND c.is_active
    )"""
    if with_customer:
        ctes += f""",
    cust AS (
        SELECT c.id, c.code, c.currency, c.contract_price_list_id, c.group_id, tok.channel_id
          FROM orders_customer c
          JOIN orders_customer_channels ch ON ch.customer_id = c.id
          JOIN tok ON ch.saleschannel_id = tok.channel_id
         WHERE c.code = $5 AND c.is_active
    ),
    assigned AS (
        SELECT contract_price_list_id AS list_id, '{CONTRACT}' AS source FROM cust WHERE contract_price_list_id IS NOT NULL
        UNION ALL SELECT cl.pricelist_id, '{CUSTOMER_LIST}' FROM orders_customer_price_lists cl JOIN cust ON cl.customer_id = cust.id
        UNION ALL SELECT gl.pricelist_id, '{GROUP_LIST}' FROM orders_customergroup_price_lists gl JOIN cust ON gl.customergroup_id = cust.group_id
        UNION ALL SELECT pub.public_price_list_id, '{PUBLIC_LIST}' FROM catalog_channelcatalog pub JOIN cust ON pub.channel_id = cust.channel_id
         WHERE pub.public_price_list_id IS NOT NULL
    ),
    wanted AS (
        SELECT list_id AS id FROM assigned
        UNION SELECT l.base_price_list_id FROM catalog_pricelist l
         WHERE l.id IN (SELECT list_id FROM assigned) AND l.base_price_list_id IS NOT NULL
    )"""
    sql = f"""
    WITH {ctes}
    SELECT 5, token_id, channel_code, channel_currency, {store_ok}, (last_used_at IS NULL OR last_used_at < {stale}),
           NULL, NULL, channel_id, NULL, NULL, {GENERATION_SQL}, NULL FROM tok"""
    if with_customer:
        sql += f"""
    UNION ALL SELECT 2, id, code, currency, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM cust
    UNION ALL SELECT 3, list_id, source, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM assigned
    UNION ALL {list_rows_sql(ids="SELECT id FROM wanted")}
    UNION ALL {sku_rows_sql(skus=skus, on_date=on_date, status="$4", entry_filter="$6 OR e.price_list_id IN (SELECT id FROM wanted)")}
       AND EXISTS (SELECT 1 FROM tok)"""
    elif with_skus:
        sql += f"""
    UNION ALL {sku_rows_sql(skus=skus, on_date=on_date, status="$4")}
       AND EXISTS (SELECT 1 FROM tok)"""
    return sql


_TOKEN_QUOTE_SQL: dict[tuple[str, bool, bool], str] = {}
_TOKEN_QUOTE_TYPES = ["text", "text", "text", "text", "text", "boolean"]
_STATEMENT_NAMES = {(True, True): "orders_token_quote_full", (False, True): "orders_token_quote_skus",
                    (False, False): "orders_token_quote_head"}


def _pg_text_array(values) -> str:
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _token_quote_rows(*, db, key_hash, customer_code, want_customer, skus, on_date, all_lists) -> list:
    vendor = db.vendor
    variant = (vendor, want_customer, want_customer or bool(skus))
    sql = _TOKEN_QUOTE_SQL.get(variant)
    if sql is None:
        sql = _TOKEN_QUOTE_SQL[variant] = _token_quote_sql(vendor, with_customer=variant[1], with_skus=variant[2])
    params = [key_hash]
    if variant[2]:
        params += [_pg_text_array(skus) if vendor == "postgresql" else json.dumps(skus), on_date.isoformat(),
                   Product.Status.ACTIVE.value]
    if want_customer:
        params += [customer_code, all_lists]
    return fetch_numbered(name=_STATEMENT_NAMES[variant[1:]], sql=sql, params=params, types=_TOKEN_QUOTE_TYPES[:len(params)],
                          db=db)


def _context_from_rows(rows, on_date):
    """The customer's pricing (with its compiled plan) from kinds 2, 3 and 0, or _NOT_FOUND."""
    customer = next((row for row in rows if row[0] == 2), None)
    if customer is None:
        return _NOT_FOUND
    assigned = {CONTRACT: set(), CUSTOMER_LIST: set(), GROUP_LIST: set(), PUBLIC_LIST: set()}
    for row in rows:
        if row[0] == 3:
            assigned[row[2]].add(row[1])
    public_id = next(iter(assigned[PUBLIC_LIST]), None)
    request = _request(customer[3], next(iter(assigned[CONTRACT]), None), assigned, public_id)
    plan = price_plan(tiers=request.tiers, currency=request.currency, on_date=on_date, lists=list_infos_from_rows(rows),
                      reference_list_id=public_id)
    return CustomerPricing(customer[1], customer[2], request, plan)


def token_quote(*, key_hash: str, customer_code: str, lines, on_date=None) -> TokenQuote:
    """Check the token and price `lines` for a customer of its channel, in one statement.

    What this process already holds (the customer's compiled pricing, the SKUs' entries) is
    reused if the pricing generation the statement reads is the one it was read at; the
    statement reads only what is missing. When the generation moved, everything is read again
    in a second statement. Data read inside a transaction that has written is never kept."""
    on_date = on_date or timezone.localdate()
    db = connections[DEFAULT_DB_ALIAS]
    max_skus = price_cache_size(db)
    state = _CACHE.peek(on_date) if max_skus else None
    wanted = list(dict.fromkeys(sku for sku, _ in lines))
    while True:
        cached_skus = state.skus if state is not None else {}
        channel_id = state.extra.get(key_hash) if state is not None else None
        context = state.extra.get((channel_id, customer_code)) if channel_id is not None else None
        missing = [sku for sku in wanted if sku not in cached_skus]
        rows = _token_quote_rows(db=db, key_hash=key_hash, customer_code=customer_code, want_customer=context is None,
                                 skus=missing, on_date=on_date, all_lists=bool(max_skus))
        head = next((row for row in rows if row[0] == 5), None)
        if head is None:
            return TokenQuote(None, None, [])
        token = ChannelToken(head[1], head[8], head[2], head[3], bool(head[5]))
        generation = head[11]
        if state is None or (state.generation == generation and (context is None or channel_id == token.channel_id)):
            break
        state = None  # what this process holds was read at another generation: read it all
    fetched = sku_entries_from_rows(rows)
    if context is None:
        context = _context_from_rows(rows, on_date)
    if max_skus and head[4] and not (db.vendor == "sqlite" and db.in_atomic_block):
        target = _CACHE.adopt(generation, on_date)
        if target is not None:
            if len(target.extra) >= _MAX_CONTEXTS:
                target.extra = {}
            target.extra[key_hash] = token.channel_id
            target.extra[(token.channel_id, customer_code)] = context
            store_skus(target, fetched, missing, max_skus)
    if context is _NOT_FOUND:
        return TokenQuote(token, None, [])
    plan = context.plan
    priced = []
    for sku, quantity in lines:
        by_list = fetched.get(sku) if sku not in cached_skus else cached_skus[sku]
        priced.append(price_line(plan, sku, quantity, by_list))
    return TokenQuote(token, context, priced)


def customer_request(*, customer_id: int, currency: str, contract_list_id: int | None, group_id: int | None,
                     public_list_id: int | None) -> PricingRequest:
    assigned = {
        CUSTOMER_LIST: set(Customer.price_lists.through.objects.filter(customer_id=customer_id).values_list("pricelist_id", flat=True)),
        GROUP_LIST: set(CustomerGroup.price_lists.through.objects.filter(customergroup_id=group_id).values_list("pricelist_id", flat=True))
        if group_id is not None else set(),
    }
    return _request(currency, contract_list_id, assigned, public_list_id)


def customer_pricing_for_instance(*, customer, channel=None) -> PricingRequest:
    """For the admin and the order import, which already hold the customer (and maybe a channel)."""
    public_id = None
    if channel is not None:
        public_id = ChannelCatalog.objects.filter(channel_id=channel.pk).values_list("public_price_list_id", flat=True).first()
    return customer_request(customer_id=customer.pk, currency=customer.currency, contract_list_id=customer.contract_price_list_id,
                            group_id=customer.group_id, public_list_id=public_id)


__all__ = ["CustomerPricing", "TokenQuote", "customer_pricing_for", "customer_pricing_for_instance", "token_quote"]
