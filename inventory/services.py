"""Every stock change goes through here: one movement in the ledger, levels updated atomically.

Concurrency: levels (and lots) of a product are locked with `select_for_update` in id order
before they are read for a decision, so concurrent reservations queue on PostgreSQL; on SQLite
the IMMEDIATE transaction mode already serialises writers.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from catalog.models import Product
from hub.changes import change_record
from hub.models import SalesChannel
from hub.texts import Text, text_stored
from inventory.models import ChannelStockPolicy, Reservation, StockLevel, StockLot, StockMovement, Warehouse

Kind = StockMovement.Kind


class StockError(ValueError):
    """A stock operation that would break a rule (negative stock, unknown lot, bad quantity…)."""


@dataclass
class ReservationResult:
    document: str
    line_ref: str
    sku: str
    requested: int
    reserved_by_warehouse: dict[str, int] = field(default_factory=dict)
    backordered: int = 0

    @property
    def reserved(self) -> int:
        return sum(self.reserved_by_warehouse.values())

    @property
    def shortfall(self) -> int:
        """Units neither reserved nor accepted as backorder."""
        return self.requested - self.reserved - self.backordered

    @property
    def complete(self) -> bool:
        return self.shortfall == 0


def _positive(quantity: int, what: str = "quantity") -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise StockError(gettext("%(what)s must be a positive whole number, got %(quantity)s") % {"what": what, "quantity": repr(quantity)})
    return quantity


def _locked_level(product: Product, warehouse: Warehouse) -> StockLevel:
    StockLevel.objects.get_or_create(product=product, warehouse=warehouse)
    return StockLevel.objects.select_for_update().get(product=product, warehouse=warehouse)


def _today() -> date:
    return timezone.localdate()


def _record(*, product, warehouse, kind, quantity, lot="", expiry=None, reason="", source="", reference="", user=None) -> StockMovement:
    """Append one movement and apply it to the level (and lot). Caller holds the transaction.
    `reason`: what a person typed, or a `Text` the hub writes (shown in the reader's language)."""
    if quantity == 0:
        raise StockError(gettext("a movement must change the quantity"))
    level = _locked_level(product, warehouse)
    if quantity < 0 and level.on_hand + quantity < 0 and not warehouse.allow_negative:
        raise StockError(
            gettext("%(sku)s @ %(code)s: %(value)s out but only %(on_hand)s on hand (this warehouse does not allow "
                    "negative stock)") % {"sku": product.sku, "code": warehouse.code, "value": -quantity, "on_hand": level.on_hand}
        )
    if product.track_expiry:
        if not lot:
            raise StockError(gettext("%(sku)s is tracked by lot and expiry: give the lot") % {"sku": product.sku})
        stock_lot, _ = StockLot.objects.select_for_update().get_or_create(
            product=product, warehouse=warehouse, lot=lot, defaults={"expiry": expiry}
        )
        if expiry and stock_lot.expiry and expiry != stock_lot.expiry:
            raise StockError(gettext("lot %(lot)s of %(sku)s already has expiry %(expiry)s, not %(expiry2)s") % {"lot": lot, "sku": product.sku, "expiry": stock_lot.expiry, "expiry2": expiry})
        if stock_lot.on_hand + quantity < 0:
            raise StockError(gettext("lot %(lot)s of %(sku)s @ %(code)s has only %(on_hand)s") % {"lot": lot, "sku": product.sku, "code": warehouse.code, "on_hand": stock_lot.on_hand})
        StockLot.objects.filter(pk=stock_lot.pk).update(on_hand=F("on_hand") + quantity, expiry=stock_lot.expiry or expiry)
        expiry = stock_lot.expiry or expiry
    StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + quantity, updated_at=timezone.now())
    movement = StockMovement.objects.create(
        product=product, warehouse=warehouse, kind=kind, quantity=quantity, lot=lot, expiry=expiry,
        reason=str(reason), reason_text=text_stored(reason),
        source=source, reference=reference, user=user if getattr(user, "pk", None) else None,
    )
    change_record(topic="inventory.stock", object_id=product.sku, data={"warehouse": warehouse.code})
    return movement


@transaction.atomic
def stock_receive(*, product, warehouse, quantity, lot="", expiry=None, source="", reference="", user=None) -> StockMovement:
    _positive(quantity)
    if product.track_expiry and not expiry:
        raise StockError(gettext("%(sku)s is tracked by lot and expiry: a receipt needs both") % {"sku": product.sku})
    return _record(product=product, warehouse=warehouse, kind=Kind.RECEIPT, quantity=quantity, lot=lot,
                   expiry=expiry, source=source, reference=reference, user=user)


ADJUSTMENT_KINDS = {Kind.ADJUSTMENT, Kind.THIRD_PARTY_CORRECTION}


@transaction.atomic
def stock_adjust(*, product, warehouse, quantity_delta, reason, source="", reference="", user=None, lot="",
                 expiry=None, kind=Kind.ADJUSTMENT) -> StockMovement:
    if kind not in ADJUSTMENT_KINDS:
        raise StockError(gettext("an adjustment is one of %(choices)s") % {"choices": sorted(ADJUSTMENT_KINDS)})
    if not reason or not str(reason).strip():
        raise StockError(gettext("an adjustment needs a reason"))
    if not isinstance(quantity_delta, int) or quantity_delta == 0:
        raise StockError(gettext("the adjustment must be a non-zero whole number"))
    return _record(product=product, warehouse=warehouse, kind=kind, quantity=quantity_delta, lot=lot, expiry=expiry,
                   reason=reason if isinstance(reason, Text) else reason.strip(), source=source, reference=reference, user=user)


def _lots_fefo(product, warehouse, *, lock=True, usable_only=True):
    lots = StockLot.objects.filter(product=product, warehouse=warehouse)
    if usable_only:
        lots = lots.exclude(expiry__lt=_today())
    if lock:
        lots = lots.select_for_update()
    return list(lots.order_by(F("expiry").asc(nulls_last=True), "lot", "id"))


@transaction.atomic
def stock_transfer(*, product, from_warehouse, to_warehouse, quantity, reference="", user=None, lot="") -> list[StockMovement]:
    _positive(quantity)
    if from_warehouse.pk == to_warehouse.pk:
        raise StockError(gettext("a transfer needs two different warehouses"))
    reference = reference or f"TR-{timezone.now():%Y%m%d%H%M%S}"
    level = _locked_level(product, from_warehouse)
    if level.available < quantity:
        raise StockError(gettext("%(sku)s @ %(code)s: only %(max)s available to transfer") % {"sku": product.sku, "code": from_warehouse.code, "max": max(level.available, 0)})
    movements = []
    if product.track_expiry:
        pieces = []
        remaining = quantity
        for stock_lot in _lots_fefo(product, from_warehouse, usable_only=False):
            if lot and stock_lot.lot != lot:
                continue
            take = min(remaining, stock_lot.on_hand - stock_lot.reserved)
            if take > 0:
                pieces.append((stock_lot.lot, stock_lot.expiry, take))
                remaining -= take
            if remaining == 0:
                break
        if remaining:
            raise StockError(gettext("%(sku)s @ %(code)s: not enough unreserved stock in lots") % {"sku": product.sku, "code": from_warehouse.code})
    else:
        pieces = [("", None, quantity)]
    for lot_code, expiry, qty in pieces:
        movements.append(_record(product=product, warehouse=from_warehouse, kind=Kind.TRANSFER_OUT, quantity=-qty,
                                 lot=lot_code, expiry=expiry, reference=reference, user=user))
        movements.append(_record(product=product, warehouse=to_warehouse, kind=Kind.TRANSFER_IN, quantity=qty,
                                 lot=lot_code, expiry=expiry, reference=reference, user=user))
    return movements


@transaction.atomic
def stock_count(*, product, warehouse, counted, lot="", expiry=None, source="", reference="", user=None) -> StockMovement | None:
    """A stocktake: on-hand becomes `counted`; the difference is recorded as a count variance."""
    if not isinstance(counted, int) or isinstance(counted, bool) or counted < 0:
        raise StockError(gettext("a count must be a whole number ≥ 0, got %(counted)s") % {"counted": repr(counted)})
    if product.track_expiry:
        if not lot:
            raise StockError(gettext("%(sku)s is tracked by lot: count each lot") % {"sku": product.sku})
        current_lot = StockLot.objects.filter(product=product, warehouse=warehouse, lot=lot).first()
        current = current_lot.on_hand if current_lot else 0
        if current_lot is None and counted > 0 and not expiry:
            raise StockError(gettext("lot %(lot)s of %(sku)s is new: give its expiry date") % {"lot": lot, "sku": product.sku})
    else:
        current = _locked_level(product, warehouse).on_hand
    variance = counted - current
    if variance == 0:
        return None
    return _record(product=product, warehouse=warehouse, kind=Kind.COUNT, quantity=variance, lot=lot, expiry=expiry,
                   reason=Text(gettext_noop("counted %(counted)s, ledger said %(current)s"), counted=counted, current=current),
                   source=source, reference=reference, user=user)


@transaction.atomic
def stock_count_many(*, rows, source="import", reference="", user=None) -> list[StockMovement]:
    """A stocktake file: each row {product, warehouse, counted[, lot, expiry]}. All or nothing."""
    movements = []
    for row in rows:
        movement = stock_count(product=row["product"], warehouse=row["warehouse"], counted=row["counted"],
                               lot=row.get("lot", "") or "", expiry=row.get("expiry"), source=source,
                               reference=reference, user=user)
        if movement is not None:
            movements.append(movement)
    return movements


@transaction.atomic
def stock_restock(*, product, warehouse, quantity, reference, source="return", lot="", expiry=None, user=None) -> StockMovement:
    _positive(quantity)
    if product.track_expiry and not lot:
        raise StockError(gettext("%(sku)s is tracked by lot: say which lot comes back") % {"sku": product.sku})
    return _record(product=product, warehouse=warehouse, kind=Kind.RETURN_RESTOCK, quantity=quantity, lot=lot,
                   expiry=expiry, source=source, reference=reference, user=user)


@transaction.atomic
def stock_quarantine(*, product, warehouse, quantity, reason, reference="", source="return", lot="", expiry=None, user=None) -> StockMovement:
    """Units that came back but may not be sold: into a non-sellable warehouse."""
    _positive(quantity)
    if warehouse.is_sellable:
        raise StockError(gettext("%(code)s is sellable; quarantine goes to a non-sellable warehouse") % {"code": warehouse.code})
    return _record(product=product, warehouse=warehouse, kind=Kind.QUARANTINE, quantity=quantity, lot=lot, expiry=expiry,
                   reason=reason, source=source, reference=reference, user=user)


@transaction.atomic
def stock_write_off(*, product, warehouse, quantity, reason, reference="", source="", lot="", user=None) -> StockMovement:
    _positive(quantity)
    if not reason:
        raise StockError(gettext("a write-off needs a reason"))
    return _record(product=product, warehouse=warehouse, kind=Kind.WRITE_OFF, quantity=-quantity, lot=lot,
                   reason=reason, source=source, reference=reference, user=user)


# --- Reservations ----------------------------------------------------------------------------

def channel_policy(channel: SalesChannel) -> ChannelStockPolicy:
    policy = ChannelStockPolicy.objects.filter(channel=channel).first()
    return policy or ChannelStockPolicy(channel=channel, safety_buffer=0, allow_split=True)


def channel_warehouses(channel: SalesChannel, *, policy: ChannelStockPolicy | None = None) -> list[Warehouse]:
    """The active sellable warehouses the channel sells from (all of them unless its policy names
    some). `policy`: the channel's policy when the caller already has it (`channel_policy`)."""
    if policy is None:
        policy = ChannelStockPolicy.objects.filter(channel=channel).first()
    warehouses = Warehouse.objects.filter(is_active=True, is_sellable=True)
    if policy is not None and policy.pk is not None and policy.warehouses.exists():
        warehouses = warehouses.filter(pk__in=policy.warehouses.values("pk"))
    return list(warehouses)


def _allocation_order(warehouses, country: str):
    return sorted(warehouses, key=lambda w: (0 if country and w.country == country else 1, -w.priority, w.code))


@transaction.atomic
def stock_reserve(*, channel, product, quantity, document, line_ref, country="") -> ReservationResult:
    """Hold stock for an order line following the channel's policy.

    Warehouses are tried by shipping country, then priority. Without split, one warehouse must
    hold the whole line. Expiry-tracked products reserve first-expiring lots first (FEFO); expired
    lots are not available. What cannot be reserved is backordered when the product allows it,
    otherwise reported as shortfall. Running it twice for the same line changes nothing.
    """
    return stock_reserve_many(channel=channel, document=document, lines=[(product, quantity, line_ref)], country=country)[0]


@transaction.atomic
def stock_reserve_many(*, channel, document, lines, country="") -> list[ReservationResult]:
    """`stock_reserve` for the lines of one document at once — `lines`: [(product, quantity,
    line_ref)] — with the same rules, set-wise: the channel's policy, its warehouses and the
    levels are read once (the levels locked in id order, so concurrent documents queue without
    deadlocks), the reservations written in one insert. Lines of one product draw, in line
    order, from what the earlier ones left. Lines already reserved change nothing."""
    document = str(document)
    lines = [(product, _positive(quantity), str(line_ref)) for product, quantity, line_ref in lines]
    results = [ReservationResult(document=document, line_ref=line_ref, sku=product.sku, requested=quantity)
               for product, quantity, line_ref in lines]
    held: dict[str, list[Reservation]] = {}
    for reservation in Reservation.objects.filter(document=document, line_ref__in=[ref for _, _, ref in lines]).select_related("warehouse"):
        held.setdefault(reservation.line_ref, []).append(reservation)
    todo = []
    for (product, quantity, line_ref), result in zip(lines, results):
        if line_ref in held:
            for reservation in held[line_ref]:
                code = reservation.warehouse.code
                result.reserved_by_warehouse[code] = result.reserved_by_warehouse.get(code, 0) + reservation.quantity
            if product.allow_backorder:
                result.backordered = max(0, quantity - result.reserved)
        else:
            todo.append((product, quantity, line_ref, result))
    if not todo:
        return results

    policy = channel_policy(channel)
    warehouses = _allocation_order(channel_warehouses(channel, policy=policy), country)
    product_ids = sorted({product.pk for product, *_ in todo})

    def locked_levels():
        return {(level.product_id, level.warehouse_id): level for level in
                StockLevel.objects.select_for_update().filter(product_id__in=product_ids, warehouse__in=warehouses).order_by("id")}

    levels = locked_levels() if warehouses else {}
    missing = [(pk, w) for pk in product_ids for w in warehouses if (pk, w.pk) not in levels]
    if missing:
        for pk, warehouse in missing:
            StockLevel.objects.get_or_create(product_id=pk, warehouse=warehouse)
        levels = locked_levels()
    free = {key: level.available for key, level in levels.items()}
    lots: dict[tuple[int, int], list] = {}  # expiry-tracked: [lot, free units] in FEFO order, locked

    def usable_lots(product, warehouse):
        key = (product.pk, warehouse.pk)
        if key not in lots:
            lots[key] = [[lot, lot.on_hand - lot.reserved] for lot in _lots_fefo(product, warehouse) if lot.on_hand > lot.reserved]
        return lots[key]

    def available_in(product, warehouse) -> int:
        if product.track_expiry:
            return sum(free_units for _, free_units in usable_lots(product, warehouse))
        return max(0, free[(product.pk, warehouse.pk)])

    reservations: list[Reservation] = []
    reserved_by_level: dict[int, int] = {}
    for product, quantity, line_ref, result in todo:
        plan: list[tuple[Warehouse, int]] = []
        if policy.allow_split:
            remaining = quantity
            for warehouse in warehouses:
                take = min(remaining, available_in(product, warehouse))
                if take > 0:
                    plan.append((warehouse, take))
                    remaining -= take
                if remaining == 0:
                    break
        else:
            whole = next((w for w in warehouses if available_in(product, w) >= quantity), None)
            if whole is not None:
                plan.append((whole, quantity))
            elif product.allow_backorder and warehouses:
                best = max(warehouses, key=lambda w: available_in(product, w))
                if available_in(product, best) > 0:
                    plan.append((best, available_in(product, best)))
        for warehouse, take in plan:
            if product.track_expiry:
                remaining = take
                for entry in usable_lots(product, warehouse):
                    lot, free_units = entry
                    piece = min(remaining, free_units)
                    if piece <= 0:
                        continue
                    StockLot.objects.filter(pk=lot.pk).update(reserved=F("reserved") + piece)
                    reservations.append(Reservation(document=document, line_ref=line_ref, product=product, warehouse=warehouse,
                                                    lot=lot, quantity=piece))
                    entry[1] -= piece
                    remaining -= piece
                    if remaining == 0:
                        break
            else:
                reservations.append(Reservation(document=document, line_ref=line_ref, product=product, warehouse=warehouse, quantity=take))
            level = levels[(product.pk, warehouse.pk)]
            free[(product.pk, warehouse.pk)] -= take
            reserved_by_level[level.pk] = reserved_by_level.get(level.pk, 0) + take
            result.reserved_by_warehouse[warehouse.code] = result.reserved_by_warehouse.get(warehouse.code, 0) + take
        if product.allow_backorder:
            result.backordered = quantity - result.reserved
    Reservation.objects.bulk_create(reservations)
    if len(reserved_by_level) == 1:
        (pk, units), = reserved_by_level.items()
        StockLevel.objects.filter(pk=pk).update(reserved=F("reserved") + units)
    elif reserved_by_level:
        StockLevel.objects.filter(pk__in=list(reserved_by_level)).update(
            reserved=F("reserved") + Case(*[When(pk=pk, then=Value(units)) for pk, units in reserved_by_level.items()], default=Value(0)))
    for product, _, _, result in todo:
        if result.reserved:
            change_record(topic="inventory.stock", object_id=product.sku, data={"reserved": result.reserved})
    return results


def _unreserve(reservation: Reservation, quantity: int) -> None:
    StockLevel.objects.filter(product_id=reservation.product_id, warehouse_id=reservation.warehouse_id).update(
        reserved=F("reserved") - quantity
    )
    if reservation.lot_id:
        StockLot.objects.filter(pk=reservation.lot_id).update(reserved=F("reserved") - quantity)
    if quantity == reservation.quantity:
        reservation.delete()
    else:
        Reservation.objects.filter(pk=reservation.pk).update(quantity=F("quantity") - quantity)


@transaction.atomic
def stock_release(*, document, line_ref=None) -> int:
    """Give back what a document (or one of its lines) holds; returns the units released."""
    reservations = Reservation.objects.select_for_update(of=("self",)).filter(document=str(document)).select_related("product")
    if line_ref is not None:
        reservations = reservations.filter(line_ref=str(line_ref))
    released = 0
    skus = set()
    for reservation in list(reservations.order_by("id")):
        released += reservation.quantity
        skus.add(reservation.product.sku)
        _unreserve(reservation, reservation.quantity)
    for sku in sorted(skus):
        change_record(topic="inventory.stock", object_id=sku, data={"released": document})
    return released


@transaction.atomic
def stock_ship(*, document, line_ref, quantity, warehouse=None, product=None, reference="", user=None, source="") -> list[StockMovement]:
    """Ship units of a document line: consumes its reservation and records the sale movements.

    Units shipped beyond what was reserved (a backorder now in stock) come from available stock.
    """
    _positive(quantity)
    document, line_ref = str(document), str(line_ref)
    reservations = list(
        Reservation.objects.select_for_update(of=("self",)).filter(document=document, line_ref=line_ref).select_related("product", "warehouse", "lot").order_by("id")
    )
    if warehouse is not None:
        reservations = [r for r in reservations if r.warehouse_id == warehouse.pk]
    if product is None:
        if not reservations:
            raise StockError(gettext("%(document)s/%(line_ref)s: nothing reserved; say which product ships") % {"document": document, "line_ref": line_ref})
        product = reservations[0].product
    if warehouse is None:
        if not reservations:
            raise StockError(gettext("%(document)s/%(line_ref)s: nothing reserved; say which warehouse ships") % {"document": document, "line_ref": line_ref})
        warehouse = reservations[0].warehouse
        reservations = [r for r in reservations if r.warehouse_id == warehouse.pk]
    reference = reference or document
    movements = []
    remaining = quantity
    for reservation in sorted(reservations, key=lambda r: (r.lot.expiry if r.lot and r.lot.expiry else date.max, r.id)):
        take = min(remaining, reservation.quantity)
        lot_code = reservation.lot.lot if reservation.lot else ""
        _unreserve(reservation, take)
        movements.append(_record(product=product, warehouse=warehouse, kind=Kind.SHIPMENT, quantity=-take, lot=lot_code,
                                 reference=reference, source=source, user=user))
        remaining -= take
        if remaining == 0:
            break
    if remaining:
        level = _locked_level(product, warehouse)
        if level.available < remaining and not warehouse.allow_negative:
            raise StockError(
                gettext("%(document)s/%(line_ref)s: %(remaining)s × %(sku)s not reserved and only %(max)s available "
                        "at %(code)s") % {"document": document, "line_ref": line_ref, "remaining": remaining, "sku": product.sku, "max": max(level.available, 0), "code": warehouse.code}
            )
        if product.track_expiry:
            for stock_lot in _lots_fefo(product, warehouse):
                take = min(remaining, stock_lot.on_hand - stock_lot.reserved)
                if take > 0:
                    movements.append(_record(product=product, warehouse=warehouse, kind=Kind.SHIPMENT, quantity=-take,
                                             lot=stock_lot.lot, reference=reference, source=source, user=user))
                    remaining -= take
                if remaining == 0:
                    break
            if remaining:
                raise StockError(gettext("%(document)s/%(line_ref)s: not enough unexpired lots of %(sku)s at %(code)s") % {"document": document, "line_ref": line_ref, "sku": product.sku, "code": warehouse.code})
        else:
            movements.append(_record(product=product, warehouse=warehouse, kind=Kind.SHIPMENT, quantity=-remaining,
                                     reference=reference, source=source, user=user))
    return movements


@transaction.atomic
def channel_stock_policy_set(*, channel, warehouses=None, safety_buffer=0, allow_split=True) -> ChannelStockPolicy:
    if safety_buffer < 0:
        raise StockError(gettext("the safety buffer cannot be negative"))
    policy, _ = ChannelStockPolicy.objects.update_or_create(
        channel=channel, defaults={"safety_buffer": safety_buffer, "allow_split": allow_split}
    )
    if warehouses is not None:
        policy.warehouses.set(warehouses)
    return policy


@transaction.atomic
def stock_receive_many(*, rows, source="", reference="", user=None, batch_size=5000) -> int:
    """Bulk receipts (opening stock, 3PL receipt files): rows of {product, warehouse, quantity[, lot, expiry]}.

    Same rules as `stock_receive`, written set-wise: existing levels and lots are locked and
    updated, missing ones created, one movement per row. Returns the number of movements.
    """
    rows = list(rows)
    for row in rows:
        _positive(row["quantity"])
        if row["product"].track_expiry and not (row.get("lot") and row.get("expiry")):
            raise StockError(gettext("%(sku)s is tracked by lot and expiry: a receipt needs both") % {"sku": row['product'].sku})
    pairs = {(r["product"].pk, r["warehouse"].pk) for r in rows}
    product_ids = {p for p, _ in pairs}
    existing = {
        (level.product_id, level.warehouse_id): level
        for level in StockLevel.objects.select_for_update().filter(product_id__in=product_ids)
        if (level.product_id, level.warehouse_id) in pairs
    }
    new_levels = [StockLevel(product_id=p, warehouse_id=w) for p, w in pairs if (p, w) not in existing]
    StockLevel.objects.bulk_create(new_levels, batch_size=batch_size)
    levels = {**existing, **{(lv.product_id, lv.warehouse_id): lv for lv in new_levels}}
    lots = {
        (lot.product_id, lot.warehouse_id, lot.lot): lot
        for lot in StockLot.objects.select_for_update().filter(product_id__in=product_ids)
    }
    new_lots = []
    movements = []
    for row in rows:
        product, warehouse, quantity = row["product"], row["warehouse"], row["quantity"]
        levels[(product.pk, warehouse.pk)].on_hand += quantity
        lot_code = row.get("lot", "") if product.track_expiry else ""
        if lot_code:
            key = (product.pk, warehouse.pk, lot_code)
            if key not in lots:
                lots[key] = StockLot(product=product, warehouse=warehouse, lot=lot_code, expiry=row["expiry"])
                new_lots.append(lots[key])
            lots[key].on_hand += quantity
        movements.append(StockMovement(product=product, warehouse=warehouse, kind=Kind.RECEIPT, quantity=quantity,
                                       lot=lot_code, expiry=row.get("expiry") if lot_code else None, source=source,
                                       reference=reference, user=user if getattr(user, "pk", None) else None))
    StockLevel.objects.bulk_update(list(levels.values()), ["on_hand"], batch_size=batch_size)
    StockLot.objects.bulk_create(new_lots, batch_size=batch_size)
    StockLot.objects.bulk_update([lot for lot in lots.values() if lot.pk and lot not in new_lots], ["on_hand"], batch_size=batch_size)
    StockMovement.objects.bulk_create(movements, batch_size=batch_size)
    from hub.changes import change_record_many

    change_record_many(topic="inventory.stock", object_ids=sorted({r["product"].sku for r in rows}))
    return len(movements)
