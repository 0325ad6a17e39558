"""Which price lists apply to a customer on a channel: the tiers `catalog.pricing` resolves."""

from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from catalog.models import ChannelCatalog
from catalog.models import Product
from catalog.pricing import PricingRequest, Tier, pg_fetch_sql, price_data_from_rows, price_lines, resolve_prices
from catalog.sql import execute_prepared, prepared_statements_enabled
from orders.models import Customer, CustomerGroup

CONTRACT = "contract"
CUSTOMER_LIST = "customer_list"
GROUP_LIST = "group_list"
PUBLIC_LIST = "public_list"


@dataclass(frozen=True)
class CustomerPricing:
    customer_id: int
    customer_code: str
    request: PricingRequest

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


_PG_QUOTE_CTES = """
    cust AS (
        SELECT c.id, c.code, c.currency, c.contract_price_list_id, c.group_id
          FROM orders_customer c
          JOIN orders_customer_channels ch ON ch.customer_id = c.id AND ch.saleschannel_id = $1
         WHERE c.code = $2 AND c.is_active
    ),
    assigned AS (
        SELECT contract_price_list_id AS list_id, 'contract' AS source FROM cust WHERE contract_price_list_id IS NOT NULL
        UNION ALL SELECT cl.pricelist_id, 'customer_list' FROM orders_customer_price_lists cl JOIN cust ON cl.customer_id = cust.id
        UNION ALL SELECT gl.pricelist_id, 'group_list' FROM orders_customergroup_price_lists gl JOIN cust ON gl.customergroup_id = cust.group_id
        UNION ALL SELECT pub.public_price_list_id, 'public_list' FROM catalog_channelcatalog pub JOIN cust ON TRUE
         WHERE pub.channel_id = $1 AND pub.public_price_list_id IS NOT NULL
    )
"""


def _pg_quote_sql() -> str:
    fetch = pg_fetch_sql(ctes=_PG_QUOTE_CTES, wanted_lists="SELECT list_id FROM assigned", skus="$3", on_date="$4", status="$5")
    # Rows of kind 2 (the customer) and 3 (its lists with their tier) ride along with the prices.
    return fetch + """
    UNION ALL SELECT 2, id, code, currency, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM cust
    UNION ALL SELECT 3, list_id, source, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM assigned
    """


def customer_quote(*, customer_code: str, channel, lines, on_date=None) -> tuple[CustomerPricing, list] | None:
    """Price `lines` for a customer of `channel`: None when the channel may not quote them.

    On PostgreSQL one prepared statement finds the customer, its tiers, the lists and the entries
    of every SKU; elsewhere `customer_pricing_for` then `price_lines` (two queries)."""
    on_date = on_date or timezone.localdate()
    if not prepared_statements_enabled():
        pricing = customer_pricing_for(customer_code=customer_code, channel=channel)
        if pricing is None:
            return None
        return pricing, price_lines(lines=lines, request=pricing.request, on_date=on_date)
    skus = sorted({sku for sku, _ in lines})
    with connection.cursor() as cursor:
        execute_prepared(cursor, name="orders_customer_quote", sql=_pg_quote_sql(),
                         params=[channel.pk, customer_code, skus, on_date, Product.Status.ACTIVE.value],
                         types=["bigint", "text", "text[]", "date", "text"])
        rows = cursor.fetchall()
    customer = next((row for row in rows if row[0] == 2), None)
    if customer is None:
        return None
    assigned = {CONTRACT: set(), CUSTOMER_LIST: set(), GROUP_LIST: set(), PUBLIC_LIST: set()}
    for row in rows:
        if row[0] == 3:
            assigned[row[2]].add(row[1])
    public_id = next(iter(assigned[PUBLIC_LIST]), None)
    request = _request(customer[3], next(iter(assigned[CONTRACT]), None), assigned, public_id)
    results = resolve_prices(lines=lines, tiers=request.tiers, currency=request.currency, on_date=on_date,
                             data=price_data_from_rows(rows), reference_list_id=public_id)
    return CustomerPricing(customer[1], customer[2], request), results


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


__all__ = ["CustomerPricing", "customer_pricing_for", "customer_pricing_for_instance"]
