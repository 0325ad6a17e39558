"""catalog.pricing.resolve_prices, case by case and against a brute-force reference."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings, strategies as st

from catalog.pricing import NO_PRICE, UNKNOWN_SKU, Break, ListInfo, PriceData, Tier, format_price, resolve_prices

TODAY = date(2026, 11, 22)
D = Decimal


def data(lists, entries, skus=("A", "B")):
    return PriceData(lists={l.id: l for l in lists}, entries=entries, known_skus=frozenset(skus))


def resolve(d, tiers, lines=(("A", 1),), currency="EUR", on_date=TODAY, reference=None):
    return resolve_prices(lines=list(lines), tiers=tiers, currency=currency, on_date=on_date, data=d, reference_list_id=reference)


PUBLIC = ListInfo(1, "PUBLIC", "EUR")
B2B = ListInfo(2, "B2B", "EUR")
CONTRACT = ListInfo(3, "CONTRACT", "EUR")


def test_the_highest_break_not_above_the_quantity_applies():
    d = data([B2B], {(2, "A"): [Break(1, D("10")), Break(10, D("9")), Break(50, D("8"))]})
    tiers = [Tier("customer_list", (2,))]
    prices = [resolve(d, tiers, [("A", q)])[0].unit_price for q in (1, 9, 10, 49, 50, 1000)]
    assert prices == [D("10"), D("10"), D("9"), D("9"), D("8"), D("8")]


def test_a_quantity_below_every_break_has_no_price_in_that_list():
    d = data([B2B, PUBLIC], {(2, "A"): [Break(10, D("9"))], (1, "A"): [Break(1, D("12"))]})
    line = resolve(d, [Tier("customer_list", (2,)), Tier("public_list", (1,))], [("A", 5)], reference=1)[0]
    assert (line.unit_price, line.price_list, line.source) == (D("12"), "PUBLIC", "public_list")


def test_entries_outside_their_validity_window_are_ignored():
    entries = {(2, "A"): [
        Break(1, D("10")),
        Break(1, D("7"), valid_from=TODAY + timedelta(days=1)),
        Break(1, D("6"), valid_to=TODAY - timedelta(days=1)),
        Break(1, D("8"), valid_from=TODAY - timedelta(days=3), valid_to=TODAY),
    ]}
    line = resolve(data([B2B], entries), [Tier("customer_list", (2,))])[0]
    assert line.unit_price == D("8")  # the dated promotion, valid today, beats the open-ended price


def test_a_list_outside_its_window_or_inactive_is_skipped():
    expired = ListInfo(2, "B2B", "EUR", valid_to=TODAY - timedelta(days=1))
    inactive = ListInfo(3, "CONTRACT", "EUR", is_active=False)
    entries = {(2, "A"): [Break(1, D("5"))], (3, "A"): [Break(1, D("4"))], (1, "A"): [Break(1, D("12"))]}
    tiers = [Tier("contract", (3,)), Tier("customer_list", (2,)), Tier("public_list", (1,))]
    line = resolve(data([expired, inactive, PUBLIC], entries), tiers)[0]
    assert line.price_list == "PUBLIC"


def test_lists_in_another_currency_are_ignored():
    gbp = ListInfo(2, "B2B-GBP", "GBP")
    entries = {(2, "A"): [Break(1, D("5"))], (1, "A"): [Break(1, D("12"))]}
    line = resolve(data([gbp, PUBLIC], entries), [Tier("customer_list", (2,)), Tier("public_list", (1,))])[0]
    assert line.price_list == "PUBLIC"
    assert resolve(data([gbp, PUBLIC], entries), [Tier("customer_list", (2,))], currency="GBP")[0].unit_price == D("5")


def test_precedence_is_contract_then_customer_then_group_then_public_even_when_dearer():
    group = ListInfo(4, "GROUP", "EUR")
    entries = {(3, "A"): [Break(1, D("11"))], (2, "A"): [Break(1, D("9"))], (4, "A"): [Break(1, D("8"))], (1, "A"): [Break(1, D("12"))]}
    tiers = [Tier("contract", (3,)), Tier("customer_list", (2,)), Tier("group_list", (4,)), Tier("public_list", (1,))]
    line = resolve(data([PUBLIC, B2B, CONTRACT, group], entries), tiers, reference=1)[0]
    assert (line.unit_price, line.reference_price, line.price_list, line.source) == (D("11"), D("12"), "CONTRACT", "contract")
    assert "contract list CONTRACT" in line.why
    line = resolve(data([PUBLIC, B2B, CONTRACT, group], entries), tiers[1:], reference=1)[0]
    assert line.source == "customer_list"
    line = resolve(data([PUBLIC, B2B, CONTRACT, group], entries), tiers[2:], reference=1)[0]
    assert (line.unit_price, line.source) == (D("8"), "group_list")


def test_within_a_tier_the_higher_priority_list_wins_then_the_code():
    low = ListInfo(5, "AAA", "EUR", priority=0)
    high = ListInfo(6, "ZZZ", "EUR", priority=5)
    entries = {(5, "A"): [Break(1, D("1"))], (6, "A"): [Break(1, D("2"))]}
    assert resolve(data([low, high], entries), [Tier("group_list", (5, 6))])[0].price_list == "ZZZ"
    same = ListInfo(6, "ZZZ", "EUR", priority=0)
    assert resolve(data([low, same], entries), [Tier("group_list", (6, 5))])[0].price_list == "AAA"


def test_a_derived_list_applies_its_percentage_to_the_base_and_rounds_half_up():
    derived = ListInfo(7, "PUBLIC-12", "EUR", base_id=1, adjustment_percent=D("-12"))
    entries = {(1, "A"): [Break(1, D("19.99")), Break(10, D("17.50"))]}
    tiers = [Tier("group_list", (7,)), Tier("public_list", (1,))]
    d = data([PUBLIC, derived], entries)
    line = resolve(d, tiers, reference=1)[0]
    assert (line.unit_price, line.reference_price, line.price_list) == (D("17.59"), D("19.99"), "PUBLIC-12")  # 17.5912
    assert "base list PUBLIC" in line.why
    assert resolve(d, tiers, [("A", 10)])[0].unit_price == D("15.40")


def test_a_derived_lists_own_entry_overrides_the_base():
    derived = ListInfo(7, "PUBLIC-12", "EUR", base_id=1, adjustment_percent=D("-12"))
    entries = {(1, "A"): [Break(1, D("20"))], (7, "A"): [Break(1, D("15"))]}
    assert resolve(data([PUBLIC, derived], entries), [Tier("group_list", (7,))])[0].unit_price == D("15")


def test_a_derived_list_gives_nothing_when_its_base_is_not_valid():
    base = ListInfo(1, "PUBLIC", "EUR", valid_from=TODAY + timedelta(days=1))
    derived = ListInfo(7, "PUBLIC-12", "EUR", base_id=1, adjustment_percent=D("-12"))
    line = resolve(data([base, derived], {(1, "A"): [Break(1, D("20"))]}), [Tier("group_list", (7,))])[0]
    assert line.error == NO_PRICE


def test_unknown_skus_and_unpriced_skus_are_reported_per_line():
    d = data([PUBLIC], {(1, "A"): [Break(1, D("12"))]}, skus=("A", "B"))
    lines = resolve(d, [Tier("public_list", (1,))], [("A", 1), ("ZZ", 1), ("B", 2)])
    assert [(l.sku, l.error) for l in lines] == [("A", None), ("ZZ", UNKNOWN_SKU), ("B", NO_PRICE)]


def test_prices_are_formatted_with_at_least_the_minor_unit_and_at_most_four_places():
    assert format_price(D("12"), "EUR") == "12.00"
    assert format_price(D("12.5000"), "EUR") == "12.50"
    assert format_price(D("0.0125"), "EUR") == "0.0125"
    assert format_price(D("100"), "JPY") == "100"
    assert format_price(None, "EUR") is None


# --- Property test against a brute-force reference ------------------------------------------------

def reference_resolve(sku, quantity, tiers, currency, on_date, d):
    """Enumerate every candidate price and pick the smallest sort key: a different formulation."""

    def valid(a, b):
        return (a is None or a <= on_date) and (b is None or on_date <= b)

    def usable(info):
        return info.is_active and info.currency == currency and valid(info.valid_from, info.valid_to)

    candidates = []
    for tier_index, tier in enumerate(tiers):
        for list_id in set(tier.list_ids):
            info = d.lists.get(list_id)
            if info is None or not usable(info):
                continue
            sources = [(0, list_id, None)]
            base = d.lists.get(info.base_id) if info.base_id is not None else None
            if base is not None and base.base_id is None and usable(base):
                sources.append((1, base.id, info.adjustment_percent))
            for own_rank, source_id, pct in sources:
                for e in d.entries.get((source_id, sku), []):
                    if e.min_quantity <= quantity and valid(e.valid_from, e.valid_to):
                        price = e.unit_price if pct is None else max(
                            (e.unit_price * (100 + pct) / 100), D(0)).quantize(D("0.01"), rounding=ROUND_HALF_UP)
                        key = (tier_index, -info.priority, info.code, own_rank, -e.min_quantity,
                               -(e.valid_from or date.min).toordinal(), e.unit_price)
                        candidates.append((key, price, info.code))
    if not candidates:
        return None
    _, price, code = min(candidates)
    return price, code


day = st.integers(min_value=-3, max_value=3).map(lambda n: TODAY + timedelta(days=n))
maybe_day = st.one_of(st.none(), day)
price = st.decimals(min_value=D("0.01"), max_value=D("500"), places=2)


@st.composite
def scenarios(draw):
    n_lists = draw(st.integers(1, 5))
    lists = []
    for i in range(1, n_lists + 1):
        start, end = sorted([draw(maybe_day) or date.min, draw(maybe_day) or date.max])
        base_id = draw(st.one_of(st.none(), st.integers(1, n_lists))) if i > 1 else None
        if base_id == i:
            base_id = None
        lists.append(ListInfo(
            id=i, code=f"L{draw(st.integers(0, 3))}{i}", currency=draw(st.sampled_from(["EUR", "EUR", "GBP"])),
            priority=draw(st.integers(0, 2)), is_active=draw(st.booleans()) or draw(st.booleans()),
            valid_from=None if start == date.min else start, valid_to=None if end == date.max else end,
            base_id=base_id, adjustment_percent=draw(st.sampled_from([D("-12"), D("-33.33"), D("5"), D("0")])),
        ))
    entries = {}
    for list_id in range(1, n_lists + 1):
        for sku in ("A", "B"):
            breaks = []
            for _ in range(draw(st.integers(0, 4))):
                start, end = sorted([draw(maybe_day) or date.min, draw(maybe_day) or date.max])
                breaks.append(Break(draw(st.sampled_from([1, 1, 5, 10, 50])), draw(price),
                                    None if start == date.min else start, None if end == date.max else end))
            if breaks:
                entries[(list_id, sku)] = breaks
    ids = list(range(1, n_lists + 1))
    tiers = [Tier(reason, tuple(draw(st.lists(st.sampled_from(ids), max_size=3))))
             for reason in ("contract", "customer_list", "group_list", "public_list")]
    return data(lists, entries), tiers


@settings(max_examples=300, deadline=None)
@given(scenario=scenarios(), quantity=st.integers(1, 60), currency=st.sampled_from(["EUR", "GBP"]))
def test_resolution_matches_a_brute_force_reference(scenario, quantity, currency):
    d, tiers = scenario
    for sku in ("A", "B"):
        line = resolve(d, tiers, [(sku, quantity)], currency=currency)[0]
        expected = reference_resolve(sku, quantity, tiers, currency, TODAY, d)
        if expected is None:
            assert line.error == NO_PRICE
        else:
            assert (line.unit_price, line.price_list) == expected
