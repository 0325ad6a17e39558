"""The pricing rules, pure (no database, no request); docs/pricing.md has worked examples.

- Tiers, in order: contract → customer lists → group lists → channel public list (`tiers_for`);
  the first tier with a price wins; inside a tier, lists by priority (higher first), then code.
- A list counts only if active, in its validity window on the date and in the wanted currency.
- Inside a list, among entries valid on the date with `min_quantity` ≤ quantity, the highest
  `min_quantity`; ties: the most recent `valid_from`, then the lowest price (`best_break`).
- A derived list uses its own entry when it has one, else its usable (not itself derived) base
  list's entry × (1 + adjustment %), rounded half-up to the currency's minor unit.
- The reference price is what the public list alone gives for the same quantity.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import NamedTuple

from hub.money import quantum

UNKNOWN_SKU, NO_PRICE = "unknown_sku", "no_price"


def price_error_label(code: str | None) -> str:
    """What a person reads for a resolution's error code."""
    from django.utils.translation import gettext

    return {UNKNOWN_SKU: gettext("Unknown or inactive product"), NO_PRICE: gettext("No price for this customer")}.get(code, code or "")


CONTRACT, CUSTOMER_LIST, GROUP_LIST, PUBLIC_LIST = TIERS = ("contract", "customer_list", "group_list", "public_list")


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
    """From `min_quantity` units, `unit_price` each, within its validity window."""

    min_quantity: int
    unit_price: Decimal
    valid_from: date | None = None
    valid_to: date | None = None


class Tier(NamedTuple):
    reason: str
    list_ids: tuple[int, ...]


@dataclass(frozen=True)
class PricingRequest:
    """Who is asking, as tiers of price-list ids (`tiers_for` builds them for a customer)."""

    tiers: tuple[Tier, ...]
    currency: str
    reference_list_id: int | None = None


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


def tiers_for(*, currency: str, assigned: dict[str, set[int]]) -> PricingRequest:
    """The customer → price-list tiers rule: `assigned` maps a tier name to the ids of its lists."""
    tiers = tuple(Tier(name, tuple(sorted(assigned[name]))) for name in TIERS if assigned.get(name))
    return PricingRequest(tiers, currency, next(iter(assigned.get(PUBLIC_LIST) or ()), None))


def _in_window(valid_from, valid_to, on_date: date) -> bool:
    return (valid_from is None or valid_from <= on_date) and (valid_to is None or on_date <= valid_to)


def best_break(breaks: Sequence[Break], quantity: int, on_date: date) -> Break | None:
    usable = [b for b in breaks if b[0] <= quantity and _in_window(b[2], b[3], on_date)]
    return max(usable, key=lambda b: (b[0], b[2] or date.min, -b[1]), default=None)


def derive_price(base_price: Decimal, adjustment_percent: Decimal, currency: str) -> Decimal:
    adjusted = base_price * (100 + adjustment_percent) / 100
    return max(adjusted, Decimal(0)).quantize(quantum(currency), rounding=ROUND_HALF_UP)


class Step(NamedTuple):
    reason: str
    list: ListInfo
    base: ListInfo | None  # a derived list's base, when usable and not itself derived


@dataclass(frozen=True, slots=True)
class PricePlan:
    """The usable lists in precedence order for one currency and date; prices any SKU."""

    currency: str
    on_date: date
    steps: tuple[Step, ...]
    reference: Step | None


def price_plan(*, request: PricingRequest, on_date: date, lists: dict[int, ListInfo]) -> PricePlan:
    usable = {i: info for i, info in lists.items()
              if info.is_active and info.currency == request.currency and _in_window(info.valid_from, info.valid_to, on_date)}

    def step(reason, info):
        base = usable.get(info.base_id)
        return Step(reason, info, base if base is not None and base.base_id is None else None)

    steps = tuple(step(tier.reason, info) for tier in request.tiers
                  for info in sorted((usable[i] for i in tier.list_ids if i in usable), key=lambda l: (-l.priority, l.code)))
    reference = usable.get(request.reference_list_id)
    return PricePlan(request.currency, on_date, steps, step("reference", reference) if reference else None)


def _price_in(step: Step, by_list: dict, quantity: int, plan: PricePlan):
    """(price, break, base list or None) that this list gives the SKU, or None."""
    own = best_break(by_list.get(step.list.id, ()), quantity, plan.on_date)
    if own is not None:
        return own[1], own, None
    if step.base is not None:
        inherited = best_break(by_list.get(step.base.id, ()), quantity, plan.on_date)
        if inherited is not None:
            return derive_price(inherited[1], step.list.adjustment_percent, plan.currency), inherited, step.base
    return None


def price_line(plan: PricePlan, sku: str, quantity: int, by_list: dict | None) -> PricedLine:
    """One line; `by_list` maps list id → the SKU's entries, None when the SKU is not active."""
    if by_list is None:
        return PricedLine(sku, quantity, error=UNKNOWN_SKU)
    found = _price_in(plan.reference, by_list, quantity, plan) if plan.reference else None
    reference = found[0] if found else None
    for step in plan.steps:
        found = _price_in(step, by_list, quantity, plan)
        if found is not None:
            price, used, base = found
            why = f"{step.reason} list {step.list.code}: break from {used[0]}"
            if base is not None:
                why += f" of base list {base.code} adjusted {step.list.adjustment_percent:+}%"
            return PricedLine(sku, quantity, price, reference, step.list.code, step.reason, why)
    return PricedLine(sku, quantity, reference_price=reference, error=NO_PRICE)


def resolve_prices(*, lines: Sequence[tuple[str, int]], tiers: Sequence[Tier], currency: str, on_date: date,
                   data: PriceData, reference_list_id: int | None = None) -> list[PricedLine]:
    """Price each (sku, quantity) line from plain data."""
    plan = price_plan(request=PricingRequest(tuple(tiers), currency, reference_list_id), on_date=on_date, lists=data.lists)
    by_sku: dict[str, dict] = {sku: {} for sku in data.known_skus}
    for (list_id, sku), breaks in data.entries.items():
        if sku in by_sku:
            by_sku[sku][list_id] = breaks
    return [price_line(plan, sku, quantity, by_sku.get(sku)) for sku, quantity in lines]


@lru_cache(maxsize=65536)
def format_price(value: Decimal | None, currency: str) -> str | None:
    """Decimal string with at least the currency's minor unit, at most 4 places."""
    if value is None:
        return None
    value, minimum = value.quantize(Decimal("0.0001")), quantum(currency)
    normalized = value.normalize()
    return str(value.quantize(minimum)) if normalized.as_tuple().exponent > minimum.as_tuple().exponent else str(normalized)
