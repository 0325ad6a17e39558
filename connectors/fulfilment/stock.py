"""Stock in: the 3PL's levels against the ledger.

The hub is the system of record; a 3PL's count never overwrites it. Each difference becomes one
`3pl_correction` movement (one per SKU, or per lot for lot-tracked products) with the 3PL's
reason. What is compared is what each side holds *free of orders*:

    3PL:  on hand − committed (units it holds for orders it has not shipped)
    hub:  on hand − awaiting shipment (units the hub released to that 3PL and has not seen shipped)

so a shipment the 3PL made that the hub has not heard of yet changes neither side (its on hand
and committed fall together; the hub's on hand and awaiting shipment fall together later), and
units reserved at the 3PL are not counted twice. Units in transit to the 3PL are on neither
side's hand. Returns the 3PL has processed are applied before and after the read; SKUs whose
orders were released or cancelled while the levels were read are left for the next check."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from catalog.models import Product
from connectors.fulfilment.models import ThirdPartyStock
from connectors.binder import Binder
from connectors.flows import texts_joined
from connectors.fulfilment.inbound import is_recorded
from connectors.fulfilment.state import ITEM, awaiting_shipment, busy_skus, served_locations
from connectors.sync import cursor_get, cursor_set
from hub.texts import Text
from inventory.models import StockMovement, Warehouse
from inventory.selectors import stock_positions
from inventory.services import StockError, stock_adjust

CURSOR = "stock.in"
REASON_LENGTH = 200  # a movement's English reason column


def _message(exc: Exception) -> "Text | str":
    return exc.args[0] if exc.args and isinstance(exc.args[0], Text) else str(exc)


def stock_compare(ctx, *, skus=None) -> Text:
    from connectors.fulfilment.flows import returns_catch_up

    endpoint, provider = ctx.endpoint, ctx.connector
    locations = served_locations(endpoint)
    by_location = {location: code for code, location in locations.items()}
    last_run = cursor_get(endpoint=endpoint, name=CURSOR)
    started = timezone.now()
    if provider.takes_returns:
        returns_catch_up(ctx)
    rows = list(provider.stock_levels(ctx, location_ids=sorted(by_location), skus=skus))
    late_returns = set()
    if provider.takes_returns:
        _, outcomes, _ = returns_catch_up(ctx)
        if any(is_recorded(outcome) for outcome in outcomes):
            late_returns = {row.sku for row in rows}  # a receipt landed during the read: check again next time
    reported: dict[str, dict[str, list]] = {}
    for row in rows:
        code = by_location.get(str(row.location_id))
        if code is not None:
            reported.setdefault(code, {}).setdefault(row.sku, []).append(row)
    corrected, checked, skipped, unknown = [], 0, 0, set()
    known_items = set(Binder(endpoint).all(ITEM).values_list("data__sku", flat=True))
    for code in sorted(locations):
        warehouse = Warehouse.objects.get(code=code)
        there = reported.get(code, {})
        positions = stock_positions(warehouse_code=code, skus=skus)
        awaiting = awaiting_shipment(endpoint, warehouse_code=code, as_of=started)
        busy = busy_skus(endpoint, warehouse_code=code, since=started) | late_returns
        names = sorted(set(there) | {sku for sku, p in positions.items() if p["on_hand"] or awaiting.get(sku)})
        if skus is not None:
            names = [sku for sku in names if sku in set(skus)]
        products = {p.sku: p for p in Product.objects.filter(sku__in=names)}
        reasons = None
        for sku in names:
            product = products.get(sku)
            if product is None:
                continue
            their_rows = there.get(sku, [])
            if not their_rows and sku not in known_items:
                unknown.add(sku)  # the 3PL has not been sent this item: its silence says nothing about the stock
                continue
            checked += 1
            position = positions.get(sku) or {"on_hand": 0, "reserved": 0, "lots": {}, "track_expiry": product.track_expiry}
            their_free = sum(r.on_hand - r.committed for r in their_rows)
            our_free = position["on_hand"] - awaiting.get(sku, 0)
            difference = their_free - our_free
            if difference and sku in busy:
                skipped += 1
                _snapshot(endpoint, warehouse, product, their_rows, position, awaiting.get(sku, 0), 0, None, started)
                continue
            reason = None
            applied = 0
            if difference:
                if reasons is None:
                    reasons = provider.stock_reasons(ctx, location_id=locations[code], skus=names,
                                                     since=datetime.fromisoformat(last_run) if last_run else None) or {}
                counted = Text(gettext_noop("%(system)s %(location)s: %(on_hand)s on hand, %(committed)s for orders; hub %(hub_on_hand)s, "
                                            "%(awaiting)s awaiting shipment"), system=provider.label, location=locations[code],
                               on_hand=sum(r.on_hand for r in their_rows), committed=sum(r.committed for r in their_rows),
                               hub_on_hand=position["on_hand"], awaiting=awaiting.get(sku, 0))
                if reasons.get(sku):
                    room = REASON_LENGTH - len(str(Text(gettext_noop("%(reason)s — %(counted)s"), reason="", counted=counted)))
                    reason = Text(gettext_noop("%(reason)s — %(counted)s"), reason=str(reasons[sku])[:max(room, 0)], counted=counted)
                else:
                    reason = Text(gettext_noop("count differs — %(counted)s"), counted=counted)
                try:
                    applied = _correct(endpoint, warehouse, product, difference, their_rows, position, reason, started)
                except StockError as exc:
                    reason = Text(gettext_noop("not corrected: %(error)s"), error=_message(exc))
                    applied = 0
                if applied:
                    corrected.append(f"{sku} {applied:+d}")
            _snapshot(endpoint, warehouse, product, their_rows, position, awaiting.get(sku, 0), applied, reason, started)
    cursor_set(endpoint=endpoint, name=CURSOR, value=started.isoformat())
    summary = [Text(gettext_noop("checked %(checked)s SKU(s) at %(warehouses)s warehouse(s)"), checked=checked, warehouses=len(locations))]
    if corrected:
        summary.append(Text(gettext_noop("corrected %(corrections)s"), corrections=", ".join(corrected[:20]) + ("…" if len(corrected) > 20 else "")))
    if skipped:
        summary.append(Text(gettext_noop("%(skipped)s changing during the read, checked next time"), skipped=skipped))
    if unknown:
        summary.append(Text(gettext_noop("%(count)s not known to %(system)s yet, not compared (%(skus)s: send the items)"), count=len(unknown),
                            system=provider.label, skus=", ".join(sorted(unknown)[:10]) + ("…" if len(unknown) > 10 else "")))
    return texts_joined(summary)


def _correct(endpoint, warehouse, product, difference, their_rows, position, reason, at) -> int:
    """Record the difference: one movement, or one per lot for lot-tracked products."""
    reference = f"{endpoint.code} count {timezone.localtime(at):%Y-%m-%d %H:%M}"
    kind = StockMovement.Kind.THIRD_PARTY_CORRECTION
    with transaction.atomic():
        if not product.track_expiry:
            stock_adjust(product=product, warehouse=warehouse, quantity_delta=difference, reason=reason, source=endpoint.code,
                         reference=reference, kind=kind)
            return difference
        applied = 0
        for lot, units, expiry in _lot_split(difference, their_rows, position):
            stock_adjust(product=product, warehouse=warehouse, quantity_delta=units, reason=reason, source=endpoint.code,
                         reference=reference, kind=kind, lot=lot, expiry=expiry)
            applied += units
        return applied


def _lot_split(difference, their_rows, position) -> list[tuple[str, int, object]]:
    """Spread a difference over lots: first where the 3PL's lot differs from the ledger's in the
    same direction, then (for a shortfall) the first-expiring lots the hub holds."""
    ours = {lot: (values["on_hand"], values["expiry"]) for lot, values in position["lots"].items()}
    theirs = {}
    for row in their_rows:
        on_hand, expiry = theirs.get(row.lot, (0, row.expiry))
        theirs[row.lot] = (on_hand + row.on_hand, row.expiry or expiry)
    pieces, left = [], difference
    gaps = sorted(((theirs.get(lot, (0, None))[0] - ours.get(lot, (0, None))[0], lot) for lot in set(ours) | set(theirs)),
                  key=lambda gap: -abs(gap[0]))
    for gap, lot in gaps:
        if not left or not lot:
            continue
        if (gap > 0) == (left > 0) and gap:
            take = min(abs(gap), abs(left)) * (1 if left > 0 else -1)
            pieces.append((lot, take, (theirs.get(lot) or ours.get(lot))[1]))
            left -= take
    if left < 0:
        for lot, (on_hand, expiry) in sorted(ours.items(), key=lambda item: (item[1][1] is None, item[1][1] or 0, item[0])):
            already = sum(units for name, units, _ in pieces if name == lot)
            take = max(left, -(on_hand + already))
            if take < 0:
                pieces.append((lot, take, expiry))
                left -= take
            if not left:
                break
    if left:
        raise StockError(Text(gettext_noop("%(units)s unit(s) of the difference cannot be placed on a lot (the 3PL reports no lot for them)"),
                              units=abs(left)))
    return pieces


def _snapshot(endpoint, warehouse, product, their_rows, position, awaiting, corrected, reason, at) -> None:
    by_lot = {}
    for row in their_rows or []:
        entry = by_lot.setdefault(row.lot or "", {"on_hand": 0, "committed": 0, "in_transit": 0, "expiry": row.expiry})
        entry["on_hand"] += row.on_hand
        entry["committed"] += row.committed
        entry["in_transit"] += row.in_transit
    totals = {"on_hand": sum(e["on_hand"] for e in by_lot.values()), "committed": sum(e["committed"] for e in by_lot.values()),
              "in_transit": sum(e["in_transit"] for e in by_lot.values())}
    ThirdPartyStock.objects.update_or_create(endpoint=endpoint, warehouse=warehouse, product=product, lot="", defaults={
        **totals, "expiry": None, "hub_on_hand": position["on_hand"], "awaiting_shipment": awaiting, "corrected": corrected,
        "reason": str(reason or "")[:200], "reason_text": reason.stored() if reason is not None else None, "counted_at": at})
