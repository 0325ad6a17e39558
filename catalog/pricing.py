"""Price resolution: one pure function over plain data, plus a set-wise fetch of that data.

`resolve_prices` knows nothing of requests, customers or the ORM: it takes SKUs and quantities,
an ordered list of tiers (each tier = price lists with a reason label), a currency and a date,
and the price data (lists and their entries). The admin and the order import call it through
`price_lines`, which fetches the data for many SKUs in one query; the price API
(`orders.pricing.token_quote`) uses its two steps, `price_plan` (per customer) and `price_line`
(per line), over data it keeps per process for the current pricing generation (`PriceCache`).

Rules (docs/pricing.md has worked examples):
- tiers are tried in order (contract → customer lists → group lists → channel public list); the
  first tier with a price wins; within a tier, lists by priority (higher first), then code;
- a list counts only if active, in its validity window on the date and in the wanted currency;
- within a list, the applicable entry with the highest `min_quantity` ≤ quantity, among those
  valid on the date (ties: the most recent `valid_from`, then the lowest price);
- a derived list uses its own entry when it has one for the SKU, otherwise its base list's entry
  (same rules, base list must itself be usable) times (1 + adjustment %), rounded half-up to the
  currency's minor unit;
- the reference price is what the reference (public) list alone gives for the same quantity.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import NamedTuple

from hub.money import quantum

UNKNOWN_SKU = "unknown_sku"
NO_PRICE = "no_price"


def price_error_label(code: str | None) -> str:
    """What a person reads for a resolution's error code."""
    from django.utils.translation import gettext

    return {UNKNOWN_SKU: gettext("Unknown or inactive product"), NO_PRICE: gettext("No price for this customer")}.get(code, code or "")

_HUNDRED = Decimal(100)
_FAR_PAST = date.min


@dataclass(frozen=True, slots=True)
class ListInfo:
    id: int
    code: str
    currency: str
    priority: int = 0
    is_active: bool = True
    valid_from: date | None = None
    valid_to: date | None = None
    base_id: int | None = None
    adjustment_percent: Decimal = Decimal(0)


class Break(NamedTuple):
    """One price entry: from `min_quantity` units, `unit_price` each, within its validity window.
    Code that reads entries indexes them (0 to 3), so that plain tuples serve too: the price
    cache holds those, as the garbage collector stops tracking plain tuples of numbers and
    dates (its full passes over a million tracked entries showed as 200 ms latency spikes)."""

    min_quantity: int
    unit_price: Decimal
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True, slots=True)
class Tier:
    reason: str
    list_ids: tuple[int, ...]


@dataclass(frozen=True)
class PriceData:
    lists: dict[int, ListInfo]
    entries: dict[tuple[int, str], Sequence[Break]]
    known_skus: frozenset[str]


@dataclass(frozen=True, slots=True)
class PricedLine:
    sku: str
    quantity: int
    unit_price: Decimal | None = None
    reference_price: Decimal | None = None
    price_list: str | None = None
    source: str | None = None
    why: str = ""
    error: str | None = None


def _in_window(valid_from, valid_to, on_date: date) -> bool:
    return (valid_from is None or valid_from <= on_date) and (valid_to is None or on_date <= valid_to)


def _usable(info: ListInfo | None, currency: str, on_date: date) -> bool:
    return info is not None and info.is_active and info.currency == currency and _in_window(info.valid_from, info.valid_to, on_date)


def best_break(breaks: Sequence[Break], quantity: int, on_date: date) -> Break | None:
    if len(breaks) == 1:  # the usual case
        entry = breaks[0]
        if entry[0] <= quantity and (entry[2] is None or entry[2] <= on_date) and (entry[3] is None or on_date <= entry[3]):
            return entry
        return None
    best = None
    best_key = None
    for entry in breaks:
        min_quantity, unit_price, valid_from, valid_to = entry
        if min_quantity > quantity or not _in_window(valid_from, valid_to, on_date):
            continue
        key = (min_quantity, valid_from or _FAR_PAST, -unit_price)
        if best_key is None or key > best_key:
            best, best_key = entry, key
    return best


def derive_price(base_price: Decimal, adjustment_percent: Decimal, currency: str) -> Decimal:
    adjusted = base_price * (_HUNDRED + adjustment_percent) / _HUNDRED
    return max(adjusted, Decimal(0)).quantize(quantum(currency), rounding=ROUND_HALF_UP)


def _ordered(list_ids: Iterable[int], usable: dict[int, ListInfo]) -> list[ListInfo]:
    infos = [usable[i] for i in dict.fromkeys(list_ids) if i in usable]
    return sorted(infos, key=lambda info: (-info.priority, info.code))


class _Step(NamedTuple):
    reason: str
    list_id: int
    code: str
    adjustment_percent: Decimal
    base_id: int | None  # for a derived list: its base list, if usable and not itself derived
    base_code: str | None


@dataclass(frozen=True, slots=True)
class PricePlan:
    """Who-pays-what compiled for one currency and date: the usable lists in precedence order.
    Independent of SKUs, so one plan prices any number of lines (and may be cached)."""

    currency: str
    on_date: date
    steps: tuple[_Step, ...]
    reference: _Step | None


def _step(reason: str, info: ListInfo, usable: dict[int, ListInfo]) -> _Step:
    base = usable.get(info.base_id) if info.base_id is not None else None
    if base is not None and base.base_id is not None:
        base = None
    return _Step(reason, info.id, info.code, info.adjustment_percent, base.id if base else None, base.code if base else None)


def price_plan(*, tiers: Sequence[Tier], currency: str, on_date: date, lists: dict[int, ListInfo],
               reference_list_id: int | None = None) -> PricePlan:
    usable = {list_id: info for list_id, info in lists.items() if _usable(info, currency, on_date)}
    steps = tuple(_step(tier.reason, info, usable) for tier in tiers for info in _ordered(tier.list_ids, usable))
    reference = usable.get(reference_list_id) if reference_list_id is not None else None
    return PricePlan(currency, on_date, steps, _step("reference", reference, usable) if reference is not None else None)


def _price_in_step(step: _Step, by_list, quantity: int, on_date: date, currency: str):
    """(price, break, base list code or None) from this list for one SKU, or None.
    `by_list` maps list id → that SKU's entries in the list."""
    breaks = by_list.get(step.list_id)
    if breaks:
        own = best_break(breaks, quantity, on_date)
        if own is not None:
            return own[1], own, None
    if step.base_id is not None:
        breaks = by_list.get(step.base_id)
        if breaks:
            inherited = best_break(breaks, quantity, on_date)
            if inherited is not None:
                return derive_price(inherited[1], step.adjustment_percent, currency), inherited, step.base_code
    return None


def price_line(plan: PricePlan, sku: str, quantity: int, by_list) -> PricedLine:
    """Price one line. `by_list` maps list id → the SKU's entries (any lists; others are ignored);
    None when the SKU is unknown or not active."""
    if by_list is None:
        return PricedLine(sku=sku, quantity=quantity, error=UNKNOWN_SKU)
    if not by_list:
        return PricedLine(sku=sku, quantity=quantity, error=NO_PRICE)
    on_date, currency = plan.on_date, plan.currency
    reference = None
    if plan.reference is not None:
        found = _price_in_step(plan.reference, by_list, quantity, on_date, currency)
        if found is not None:
            reference = found[0]
    for step in plan.steps:
        # Most lists have nothing for a given SKU: look before calling.
        if step.list_id not in by_list and (step.base_id is None or step.base_id not in by_list):
            continue
        found = _price_in_step(step, by_list, quantity, on_date, currency)
        if found is not None:
            price, break_, derived_from = found
            why = f"{step.reason} list {step.code}: break from {break_[0]}"
            if derived_from:
                why += f" of base list {derived_from} adjusted {step.adjustment_percent:+}%"
            return PricedLine(sku=sku, quantity=quantity, unit_price=price, reference_price=reference,
                              price_list=step.code, source=step.reason, why=why)
    return PricedLine(sku=sku, quantity=quantity, reference_price=reference, error=NO_PRICE)


def resolve_prices(*, lines: Sequence[tuple[str, int]], tiers: Sequence[Tier], currency: str, on_date: date,
                   data: PriceData, reference_list_id: int | None = None) -> list[PricedLine]:
    """Price each (sku, quantity) line. Pure: same inputs, same answer; no database access."""
    plan = price_plan(tiers=tiers, currency=currency, on_date=on_date, lists=data.lists, reference_list_id=reference_list_id)
    by_sku: dict[str, dict[int, Sequence[Break]]] = {}
    for (list_id, sku), breaks in data.entries.items():
        by_sku.setdefault(sku, {})[list_id] = breaks
    known = data.known_skus
    return [price_line(plan, sku, quantity, by_sku.get(sku, _NO_ENTRIES) if sku in known else None) for sku, quantity in lines]


_NO_ENTRIES: dict = {}


# --- Fetching the data set-wise ------------------------------------------------------------------

@dataclass(frozen=True)
class PricingRequest:
    """Who is asking, as tiers of price-list ids; built by the caller (orders.pricing for customers)."""

    tiers: tuple[Tier, ...]
    currency: str
    reference_list_id: int | None = None
    extra: dict = field(default_factory=dict)


def _fetch_sql(n_lists: int, n_skus: int) -> str:
    """One statement, portable (SQLite and PostgreSQL): the wanted lists and their base lists,
    then every requested active SKU left-joined to its entries in those lists that may be valid
    on the date. Dates and decimals come back as text so both databases give the same values."""
    from catalog.models import PriceEntry, PriceList, Product

    lists_in = ", ".join(["%s"] * n_lists)
    skus_in = ", ".join(["%s"] * n_skus)
    pl, pe, pr = PriceList._meta.db_table, PriceEntry._meta.db_table, Product._meta.db_table
    return f"""
        WITH wanted AS (
            SELECT id FROM {pl} WHERE id IN ({lists_in})
            UNION SELECT base_price_list_id FROM {pl} WHERE id IN ({lists_in}) AND base_price_list_id IS NOT NULL
        )
        SELECT 0, l.id, l.code, l.currency, l.priority, l.is_active, CAST(l.valid_from AS TEXT), CAST(l.valid_to AS TEXT),
               l.base_price_list_id, CAST(l.base_adjustment_percent AS TEXT), NULL, NULL, NULL
          FROM {pl} l WHERE l.id IN (SELECT id FROM wanted)
        UNION ALL
        SELECT 1, e.price_list_id, NULL, NULL, NULL, NULL, CAST(e.valid_from AS TEXT), CAST(e.valid_to AS TEXT),
               NULL, NULL, p.sku, e.min_quantity, CAST(e.unit_price AS TEXT)
          FROM {pr} p LEFT JOIN {pe} e ON e.product_id = p.id AND e.price_list_id IN (SELECT id FROM wanted)
               AND (e.valid_from IS NULL OR e.valid_from <= %s) AND (e.valid_to IS NULL OR e.valid_to >= %s)
         WHERE p.sku IN ({skus_in}) AND p.status = %s
    """


def pg_fetch_sql(*, wanted_lists: str, skus: str, on_date: str, status: str, ctes: str = "") -> str:
    """The PostgreSQL form of the fetch, composable: `wanted_lists` is a subquery giving list ids
    (a caller may compute them in the same statement, given as extra `ctes`); the other
    arguments name parameters. Rows: kind 0 = a list, kind 1 = a requested active SKU and one of
    its entries (or NULLs). Callers may add rows of other kinds (see `price_data_from_rows`)."""
    return f"""
    WITH {ctes + "," if ctes else ""}
    chosen AS ({wanted_lists}),
    wanted AS (
        SELECT id FROM catalog_pricelist WHERE id IN (SELECT * FROM chosen)
        UNION SELECT base_price_list_id FROM catalog_pricelist WHERE id IN (SELECT * FROM chosen) AND base_price_list_id IS NOT NULL
    )
    SELECT 0, l.id, l.code, l.currency, l.priority, l.is_active, CAST(l.valid_from AS TEXT), CAST(l.valid_to AS TEXT),
           l.base_price_list_id, CAST(l.base_adjustment_percent AS TEXT), NULL, NULL, NULL
      FROM catalog_pricelist l WHERE l.id IN (SELECT id FROM wanted)
    UNION ALL
    SELECT 1, e.price_list_id, NULL, NULL, NULL, NULL, CAST(e.valid_from AS TEXT), CAST(e.valid_to AS TEXT),
           NULL, NULL, p.sku, e.min_quantity, CAST(e.unit_price AS TEXT)
      FROM catalog_product p LEFT JOIN catalog_priceentry e ON e.product_id = p.id AND e.price_list_id IN (SELECT id FROM wanted)
           AND (e.valid_from IS NULL OR e.valid_from <= {on_date}) AND (e.valid_to IS NULL OR e.valid_to >= {on_date})
     WHERE p.sku = ANY({skus}) AND p.status = {status}
    """


_PG_FETCH_SQL = pg_fetch_sql(wanted_lists="SELECT unnest($1::bigint[])", skus="$2", on_date="$3", status="$4")


def _day(text):
    return date.fromisoformat(text[:10]) if text else None


def price_data_fetch(*, skus: Iterable[str], list_ids: Iterable[int], on_date: date) -> PriceData:
    """One query whatever the number of SKUs (see `_fetch_sql`)."""
    from django.db import connection

    from catalog.models import Product
    from catalog.sql import execute_prepared, prepared_statements_enabled

    list_ids = sorted(set(list_ids)) or [0]
    skus = sorted(set(skus))
    if not skus:
        return PriceData(lists={}, entries={}, known_skus=frozenset())
    params = [*list_ids, *list_ids, on_date, on_date, *skus, Product.Status.ACTIVE.value]
    with connection.cursor() as cursor:
        if prepared_statements_enabled():
            execute_prepared(cursor, name="catalog_price_fetch_v2", sql=_PG_FETCH_SQL,
                             params=[list_ids, skus, on_date, Product.Status.ACTIVE.value],
                             types=["bigint[]", "text[]", "date", "text"])
        else:
            cursor.execute(_fetch_sql(len(list_ids), len(skus)), params)
        rows = cursor.fetchall()
    return price_data_from_rows(rows)


def price_data_from_rows(rows) -> PriceData:
    """Build PriceData from fetch rows (kinds 0 and 1; rows of other kinds are the caller's)."""
    lists: dict[int, ListInfo] = {}
    entries: dict[tuple[int, str], list[Break]] = {}
    known = set()
    for kind, list_id, code, currency, priority, active, valid_from, valid_to, base_id, adjustment, sku, min_quantity, price in rows:
        if kind == 0:
            lists[list_id] = ListInfo(list_id, code, currency, priority, bool(active), _day(valid_from), _day(valid_to),
                                      base_id, Decimal(adjustment))
        elif kind == 1:
            known.add(sku)
            if list_id is not None:
                entries.setdefault((list_id, sku), []).append(Break(min_quantity, Decimal(price), _day(valid_from), _day(valid_to)))
    return PriceData(lists=lists, entries=entries, known_skus=frozenset(known))


def list_rows_sql(*, ids: str) -> str:
    """Kind-0 rows (see `price_data_from_rows`) for the lists whose ids the subquery `ids` gives.
    Portable SQL; compose it into a caller's statement."""
    return f"""
    SELECT 0, l.id, l.code, l.currency, l.priority, l.is_active, CAST(l.valid_from AS TEXT), CAST(l.valid_to AS TEXT),
           l.base_price_list_id, CAST(l.base_adjustment_percent AS TEXT), NULL, NULL, NULL
      FROM catalog_pricelist l WHERE l.id IN ({ids})"""


def sku_rows_sql(*, skus: str, on_date: str, status: str, entry_filter: str = "") -> str:
    """Kind-1 rows for each requested active SKU: one per entry that may be valid on the date (in
    every list, or those `entry_filter`, a SQL condition on `e`, lets through), or one row of
    NULLs. `skus` is a SQL condition on `p.sku`, e.g. `= ANY($4)`; the others name parameters."""
    in_lists = f" AND ({entry_filter})" if entry_filter else ""
    return f"""
    SELECT 1, e.price_list_id, NULL, NULL, NULL, NULL, CAST(e.valid_from AS TEXT), CAST(e.valid_to AS TEXT),
           NULL, NULL, p.sku, e.min_quantity, CAST(e.unit_price AS TEXT)
      FROM catalog_product p LEFT JOIN catalog_priceentry e ON e.product_id = p.id{in_lists}
           AND (e.valid_from IS NULL OR e.valid_from <= {on_date}) AND (e.valid_to IS NULL OR e.valid_to >= {on_date})
     WHERE p.sku {skus} AND p.status = {status}"""


def sku_entries_from_rows(rows) -> dict[str, dict[int, tuple]]:
    """Kind-1 rows → {sku: {list id: entries}}: every active SKU among the rows, with or without
    entries (rows of other kinds are ignored). Tuples throughout (see `Break`)."""
    out: dict[str, dict] = {}
    for row in rows:
        if row[0] != 1:
            continue
        by_list = out.get(row[10])
        if by_list is None:
            by_list = out[row[10]] = {}
        list_id = row[1]
        if list_id is not None:
            entry = (row[11], Decimal(row[12]), _day(row[6]), _day(row[7]))  # a Break, as a plain tuple
            breaks = by_list.get(list_id)
            by_list[list_id] = (entry,) if breaks is None else (*breaks, entry)
    return out


def list_infos_from_rows(rows) -> dict[int, ListInfo]:
    return {row[1]: ListInfo(row[1], row[2], row[3], row[4], bool(row[5]), _day(row[6]), _day(row[7]), row[8], Decimal(row[9]))
            for row in rows if row[0] == 0}


# --- The per-process cache -------------------------------------------------------------------

class PriceCacheState:
    """Price data read at one pricing generation for one date: SKU → {list id: entries} (None for
    a SKU that is unknown or not active), plus what callers keep (`extra`, e.g. compiled plans)."""

    __slots__ = ("generation", "on_date", "skus", "extra")

    def __init__(self, generation: int, on_date: date):
        self.generation = generation
        self.on_date = on_date
        self.skus: dict[str, dict[int, list[Break]] | None] = {}
        self.extra: dict = {}


class PriceCache:
    """Price data of this process, trusted only while the pricing generation is unchanged.

    Database triggers bump the generation in the same transaction as any write to the tables
    prices come from (migrations catalog 0003, orders 0005), so a reader that gets the
    generation in the same statement as the data it lacks knows whether what it holds is
    current. Callers: `peek` before querying (what may be reused), `adopt` after (with the
    generation the statement saw) to learn whether it was, and where to store what was read.
    """

    def __init__(self):
        self.current: PriceCacheState | None = None

    def peek(self, on_date: date) -> PriceCacheState | None:
        state = self.current
        return state if state is not None and state.on_date == on_date else None

    def adopt(self, generation: int, on_date: date) -> PriceCacheState | None:
        """The state for data read at `generation`: the current one if it matches, else a new
        current one; None if `generation` is older than the current one (a slow reader)."""
        state = self.current
        if state is not None and state.on_date == on_date:
            if state.generation == generation:
                return state
            if generation < state.generation:
                return None
        self.current = state = PriceCacheState(generation, on_date)
        return state

    def clear(self) -> None:
        self.current = None


def store_skus(state: PriceCacheState, entries: dict, missing: Iterable[str], max_skus: int) -> None:
    """Remember the entries read for `missing` SKUs (those absent from `entries` are unknown)."""
    skus = state.skus
    if len(skus) >= max_skus:
        skus = state.skus = {}  # crude bound: start over rather than track recency on every hit
    for sku in missing:
        skus[sku] = entries.get(sku)


def price_lines(*, lines: Sequence[tuple[str, int]], request: PricingRequest, on_date: date | None = None) -> list[PricedLine]:
    """Fetch what the lines need and resolve them: the entry point for API, admin and imports."""
    from django.utils import timezone

    on_date = on_date or timezone.localdate()
    list_ids = {i for tier in request.tiers for i in tier.list_ids}
    if request.reference_list_id is not None:
        list_ids.add(request.reference_list_id)
    data = price_data_fetch(skus=(sku for sku, _ in lines), list_ids=list_ids, on_date=on_date)
    return resolve_prices(lines=lines, tiers=request.tiers, currency=request.currency, on_date=on_date, data=data,
                          reference_list_id=request.reference_list_id)


def format_price(value: Decimal | None, currency: str) -> str | None:
    """Decimal string with at least the currency's minor unit, at most 4 places (no trailing noise)."""
    if value is None:
        return None
    return _format_price(value, currency)


@lru_cache(maxsize=65536)
def _format_price(value: Decimal, currency: str) -> str:
    value = value.quantize(Decimal("0.0001"))
    minimum = quantum(currency)
    normalized = value.normalize()
    if normalized.as_tuple().exponent > minimum.as_tuple().exponent:
        return str(value.quantize(minimum))
    return str(normalized)
