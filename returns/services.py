"""Returns: request → authorise (or reject) → in transit → receive → inspect → refund → close.

Status changes only here; each writes a timeline event. Refunds follow the channel's policy and
are computed from what the customer paid for the returned units (their share of order
discounts and taxes included), never more than was paid.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop

from hub.changes import change_record
from hub.money import Money, round_money
from hub.services import sequence_next, timeline_record
from hub.texts import Text, as_text, label_text
from inventory.services import StockError, stock_quarantine, stock_restock, stock_write_off
from inventory.models import Warehouse
from orders.models import OrderStatus, Payment, SalesOrder
from orders.services import OrderError, credit_notes_issue, order_import, payment_record
from returns.models import ChannelReturnPolicy, Rma, RmaCreditNote, RmaLine, RmaStatus
from returns.selectors import order_of_channel, return_policy_of, return_warehouse_for, return_window_end

R = RmaStatus
RETURNABLE_ORDER_STATUSES = {"partially_shipped", "shipped", "completed"}
# The payment method a refund is recorded with: the accounting journal books "store_credit" to
# the account assigned to that method (a gift-card liability), "refund" the way the order was paid.
REFUND_METHODS = {Rma.RefundMethod.ORIGINAL: "refund", Rma.RefundMethod.STORE_CREDIT: "store_credit"}
COUNTED_RMA_STATUSES = {R.REQUESTED, R.AUTHORISED, R.IN_TRANSIT, R.RECEIVED, R.INSPECTED, R.REFUNDED, R.CLOSED}


class ReturnError(ValueError):
    pass


def policy_for(channel) -> ChannelReturnPolicy:
    return return_policy_of(channel=channel)


def _transition(rma, status, *, event, message="", user=None, actor_label=""):
    previous = rma.status
    rma.status = status
    rma.save(update_fields=["status", "updated_at"])
    message = message or Text(gettext_noop("%(previous)s → %(status)s"), previous=label_text(R(previous).label), status=label_text(R(status).label))
    timeline_record(subject=rma, event=event, message=message, data={"from": previous, "to": status},
                    actor=user, actor_label=actor_label or ("" if getattr(user, "is_authenticated", False) else "system"))
    change_record(topic="returns.rma", object_id=rma.pk, data={"status": status})


def _locked(rma) -> Rma:
    return Rma.objects.select_for_update().get(pk=rma.pk)


def returnable_quantity(*, order_line, excluding_rma=None) -> int:
    """Shipped minus what other live returns already cover."""
    taken = (RmaLine.objects.filter(order_line=order_line, rma__status__in=COUNTED_RMA_STATUSES)
             .exclude(rma=excluding_rma).aggregate(s=Sum("quantity"))["s"] or 0)
    return order_line.quantity_shipped - taken


@transaction.atomic
def rma_request(*, order, lines, source=Rma.Source.STAFF, expected_warehouse=None, notes="", user=None, actor_label="",
                refund_method=Rma.RefundMethod.ORIGINAL) -> Rma:
    """`lines`: [{"order_line", "quantity", "reason", "replacement_sku"?}]; `refund_method`: money
    back the way the order was paid, or store credit."""
    order = SalesOrder.objects.select_for_update().get(pk=order.pk)
    if order.status not in RETURNABLE_ORDER_STATUSES:
        raise ReturnError(gettext("%(order)s is %(status)s: only shipped goods can be returned") % {"order": order.number, "status": order.get_status_display().lower()})
    if not lines:
        raise ReturnError(gettext("a return needs at least one line"))
    from catalog.models import Product

    checked, asked = [], {}
    for item in lines:
        line, quantity = item["order_line"], int(item["quantity"])
        if line.order_id != order.pk:
            raise ReturnError(gettext("line %(sku)s is not on %(order)s") % {"sku": line.sku, "order": order.number})
        available = returnable_quantity(order_line=line) - asked.get(line.pk, 0)
        asked[line.pk] = asked.get(line.pk, 0) + quantity
        if quantity < 1 or quantity > available:
            raise ReturnError(gettext("%(sku)s: %(quantity)s asked, %(available)s returnable (shipped "
                                      "%(quantity_shipped)s, others already returned)") % {"sku": line.sku, "quantity": quantity, "available": available, "quantity_shipped": line.quantity_shipped})
        replacement = None
        if item.get("replacement_sku"):
            replacement = Product.objects.filter(sku=item["replacement_sku"], status=Product.Status.ACTIVE).first()
            if replacement is None:
                raise ReturnError(gettext("replacement SKU %(replacement_sku)s is unknown or not active") % {"replacement_sku": repr(item['replacement_sku'])})
        checked.append(RmaLine(order_line=line, quantity=quantity, reason=item.get("reason") or RmaLine.Reason.OTHER,
                               replacement_product=replacement))
    warehouse = expected_warehouse or return_warehouse_for(order_line_ids=[line.order_line_id for line in checked])
    rma = Rma.objects.create(number=f"RMA-{sequence_next(series='RMA'):06d}", order=order, customer=order.customer, channel=order.channel,
                             source=source, expected_warehouse=warehouse, notes=notes, refund_method=refund_method)
    for line in checked:
        line.rma = rma
    RmaLine.objects.bulk_create(checked)
    timeline_record(subject=rma, event="requested",
                    message=Text(gettext_noop("%(units)s unit(s) from %(order)s via %(source)s"), units=sum(l.quantity for l in checked),
                                 order=order.number, source=label_text(Rma.Source(rma.source).label)),
                    actor=user, actor_label=actor_label)
    timeline_record(subject=order, event="return requested", message=rma.number, actor=user, actor_label=actor_label)
    return rma


@transaction.atomic
def rma_request_from_channel(*, channel, order_number: str = "", order_external_id: str = "", lines, notes: str = "",
                             source=Rma.Source.STOREFRONT, check_window: bool = True, authorise: bool = True,
                             actor_label: str = "", refund_method=Rma.RefundMethod.ORIGINAL) -> Rma:
    """A sales channel (storefront, portal, returns app) starts a return for one of its orders:
    `lines` name the SKUs ([{"sku", "quantity", "reason"?, "replacement_sku"?}]). Within the
    channel's return window and the returnable quantities the return is authorised at once
    (`check_window=False` for a returns app that applies the merchant's window itself;
    `authorise=False` leaves it requested, for a person)."""
    order = order_of_channel(channel=channel, number=order_number, external_id=order_external_id)
    if order is None:
        raise ReturnError(gettext("No order %(value)s on this channel.") % {"value": order_number or order_external_id})
    window_end = return_window_end(order=order)
    if check_window and window_end is not None and timezone.localdate() > window_end:
        days = policy_for(channel).return_window_days
        raise ReturnError(gettext("%(value)s: the return window of %(days)s days ended on %(end)s") % {"value": order_external_id or order_number, "days": days, "end": date_format(window_end, "SHORT_DATE_FORMAT")})
    order_lines = list(order.lines.all())
    wanted = []
    for item in lines:
        candidates = [line for line in order_lines if line.sku == item["sku"]]
        if not candidates:
            raise ReturnError(gettext("%(sku)s is not on order %(value)s") % {"sku": item['sku'], "value": order_external_id or order_number})
        quantity = int(item["quantity"])
        for index, line in enumerate(candidates):  # a SKU on several lines: fill them in order
            last = index == len(candidates) - 1
            take = quantity if last else min(quantity, max(returnable_quantity(order_line=line), 0))
            if take:
                wanted.append({"order_line": line, "quantity": take, "reason": item.get("reason") or RmaLine.Reason.OTHER,
                               "replacement_sku": item.get("replacement_sku") or ""})
            quantity -= take
    rma = rma_request(order=order, lines=wanted, source=source, notes=notes, actor_label=actor_label, refund_method=refund_method)
    return rma_authorise(rma=rma, actor_label=actor_label) if authorise else rma


@transaction.atomic
def rma_hold(*, rma, reason: str | Text, actor_label: str = "") -> Rma:
    """Leave a requested return for a person to decide (authorise or reject), saying why."""
    rma = _locked(rma)
    if rma.status != R.REQUESTED:
        raise ReturnError(gettext("%(rma)s is %(status)s; only requested returns are held for a decision") % {"rma": rma.number, "status": rma.get_status_display().lower()})
    timeline_record(subject=rma, event="needs a decision", message=reason, actor_label=actor_label)
    return rma


@transaction.atomic
def rma_label_set(*, rma, carrier: str, tracking_number: str, actor_label: str = "") -> Rma:
    """The return label's carrier and tracking number, known before the parcel moves."""
    rma = _locked(rma)
    if rma.status not in {R.REQUESTED, R.AUTHORISED, R.IN_TRANSIT}:
        raise ReturnError(gettext("%(rma)s is %(status)s; its label can no longer change") % {"rma": rma.number, "status": rma.get_status_display().lower()})
    if (rma.carrier, rma.tracking_number) != (carrier, tracking_number):
        rma.carrier, rma.tracking_number = carrier, tracking_number
        rma.save(update_fields=["carrier", "tracking_number", "updated_at"])
        timeline_record(subject=rma, event="label", message=f"{carrier} {tracking_number}".strip(), actor_label=actor_label)
        # connectors follow the label too (a 3PL's expected return gets the tracking number)
        change_record(topic="returns.rma", object_id=rma.pk, data={"status": rma.status, "tracking_number": tracking_number})
    return rma


def rma_goods_value(*, rma) -> Decimal:
    """What the customer paid for every unit the return asks for (exchanged ones included),
    before any fee or shipping: the figure a returns app's own total should match."""
    currency = rma.order.currency
    return sum((round_money(_unit_paid(line.order_line) * line.quantity, currency)
                for line in rma.lines.select_related("order_line__order")), Decimal(0))


@transaction.atomic
def rma_authorise(*, rma, user=None, actor_label="") -> Rma:
    rma = _locked(rma)
    if rma.status != R.REQUESTED:
        raise ReturnError(gettext("%(rma)s is %(status)s; only requested returns are authorised") % {"rma": rma.number, "status": rma.get_status_display().lower()})
    _transition(rma, R.AUTHORISED, event="authorised", user=user, actor_label=actor_label)
    exchanges = [line for line in rma.lines.select_related("replacement_product") if line.replacement_product_id]
    if exchanges:
        order = rma.order
        address = order.shipping_address or None
        payload = {
            "external_id": f"{rma.number}-EXCHANGE", "currency": order.currency, "customer": {"code": order.customer.code},
            "lines": [{"sku": l.replacement_product.sku, "name": l.replacement_product.name, "quantity": l.quantity, "unit_price": "0"} for l in exchanges],
            "total": "0", "payment_status": "paid", "notes": f"Exchange for {rma.number} (order {order.number})",
        }
        if address:
            payload["shipping_address"] = address
        order.customer.channels.add(order.channel)
        replacement, _ = order_import(channel=order.channel, data=payload, user=user, actor_label=actor_label or "returns")
        rma.replacement_order = replacement
        rma.save(update_fields=["replacement_order", "updated_at"])
        timeline_record(subject=rma, event="exchange", actor=user,
                        message=Text(gettext_noop("replacement order %(order)s (%(status)s)"), order=replacement.number,
                                     status=label_text(OrderStatus(replacement.status).label)))
    return rma


@transaction.atomic
def rma_reject(*, rma, reason, user=None) -> Rma:
    rma = _locked(rma)
    if rma.status != R.REQUESTED:
        raise ReturnError(gettext("%(rma)s is %(status)s; only requested returns are rejected") % {"rma": rma.number, "status": rma.get_status_display().lower()})
    if not str(reason).strip():
        raise ReturnError(gettext("say why the return is rejected"))
    _transition(rma, R.REJECTED, event="rejected", message=reason, user=user)
    return rma


@transaction.atomic
def rma_cancel(*, rma, reason, user=None) -> Rma:
    rma = _locked(rma)
    if rma.status not in {R.REQUESTED, R.AUTHORISED, R.IN_TRANSIT}:
        raise ReturnError(gettext("%(rma)s is %(status)s; a return can be cancelled only before it is received") % {"rma": rma.number, "status": rma.get_status_display().lower()})
    _transition(rma, R.CANCELLED, event="cancelled", message=reason, user=user)
    return rma


@transaction.atomic
def rma_mark_in_transit(*, rma, carrier="", tracking_number="", user=None, actor_label="") -> Rma:
    rma = _locked(rma)
    if rma.status != R.AUTHORISED:
        raise ReturnError(gettext("%(rma)s is %(status)s; only authorised returns go in transit") % {"rma": rma.number, "status": rma.get_status_display().lower()})
    rma.carrier, rma.tracking_number = carrier, tracking_number
    rma.save(update_fields=["carrier", "tracking_number", "updated_at"])
    _transition(rma, R.IN_TRANSIT, event="in transit", message=f"{carrier} {tracking_number}".strip(), user=user, actor_label=actor_label)
    if policy_for(rma.channel).refund_trigger == ChannelReturnPolicy.RefundTrigger.CARRIER_SCAN:
        rma_refund(rma=rma, user=user)
    return rma


@transaction.atomic
def rma_receive(*, rma, quantities: dict, user=None, actor_label="") -> Rma:
    """`quantities`: {rma_line_id: units received now}. Partial receipts add up."""
    rma = _locked(rma)
    if rma.status not in {R.AUTHORISED, R.IN_TRANSIT, R.RECEIVED}:
        raise ReturnError(gettext("%(rma)s is %(status)s; it cannot be received") % {"rma": rma.number, "status": rma.get_status_display().lower()})
    lines = {line.pk: line for line in rma.lines.all()}
    received = 0
    for line_id, quantity in quantities.items():
        line = lines.get(int(line_id))
        quantity = int(quantity)
        if line is None:
            raise ReturnError(gettext("line %(line_id)s is not on %(rma)s") % {"line_id": line_id, "rma": rma.number})
        if quantity < 0 or line.received_quantity + quantity > line.quantity:
            raise ReturnError(gettext("%(sku)s: %(quantity)s received, but only %(expected)s still expected") % {"sku": line.order_line.sku, "quantity": quantity, "expected": line.quantity - line.received_quantity})
        line.received_quantity += quantity
        line.save(update_fields=["received_quantity"])
        received += quantity
    if not received:
        raise ReturnError(gettext("nothing received"))
    outstanding = sum(l.quantity - l.received_quantity for l in lines.values())
    message = (Text(gettext_noop("%(received)s unit(s) received, %(outstanding)s still expected"), received=received, outstanding=outstanding)
               if outstanding else Text(gettext_noop("%(received)s unit(s) received, complete"), received=received))
    if rma.status == R.RECEIVED:
        timeline_record(subject=rma, event="received", message=message, actor=user, actor_label=actor_label)
    else:
        _transition(rma, R.RECEIVED, event="received", message=message, user=user, actor_label=actor_label)
    if policy_for(rma.channel).refund_trigger == ChannelReturnPolicy.RefundTrigger.RECEIVED:
        rma_refund(rma=rma, user=user)
    return rma


@transaction.atomic
def rma_inspect(*, rma, results: dict, user=None) -> Rma:
    """`results`: {rma_line_id: {"condition", "disposition", "warehouse"?}} for received lines.
    Sellable units go back to stock through the ledger; others to quarantine or written off."""
    rma = _locked(rma)
    if rma.status != R.RECEIVED:
        raise ReturnError(gettext("%(rma)s is %(status)s; only received returns are inspected") % {"rma": rma.number, "status": rma.get_status_display().lower()})
    lines = {line.pk: line for line in rma.lines.select_related("order_line__product")}
    missing = [line.order_line.sku for pk, line in lines.items() if pk not in {int(k) for k in results} and line.received_quantity]
    if missing:
        raise ReturnError(gettext("inspect every received line (missing: %(missing)s)") % {"missing": ', '.join(missing)})
    quarantine = Warehouse.objects.filter(is_active=True, is_sellable=False).order_by("code").first()
    for line_id, result in results.items():
        line = lines[int(line_id)]
        condition, disposition = result["condition"], result.get("disposition") or ""
        product, units = line.order_line.product, line.received_quantity
        warehouse = result.get("warehouse") or rma.expected_warehouse
        if condition not in RmaLine.Condition.values or (disposition and disposition not in RmaLine.Disposition.values):
            raise ReturnError(gettext("%(sku)s: unknown condition %(condition)s or disposition %(disposition)s") % {"sku": line.order_line.sku, "condition": repr(condition), "disposition": repr(disposition)})
        if condition == RmaLine.Condition.MISSING or not units:
            disposition, warehouse = "", None
        elif disposition == RmaLine.Disposition.RESTOCK:
            if condition != RmaLine.Condition.SELLABLE:
                raise ReturnError(gettext("%(sku)s is %(condition)s: only sellable units are restocked") % {"sku": line.order_line.sku, "condition": condition})
            stock_restock(product=product, warehouse=warehouse, quantity=units, reference=rma.number, user=user if getattr(user, "pk", None) else None)
        else:
            if quarantine is None:
                raise ReturnError(gettext("no quarantine (non-sellable) warehouse is set up"))
            warehouse = quarantine
            try:
                stock_quarantine(product=product, warehouse=quarantine, quantity=units, reference=rma.number,
                                 reason=Text(gettext_noop("%(rma)s: %(condition)s"), rma=rma.number, condition=label_text(RmaLine.Condition(condition).label)))
                if disposition in {RmaLine.Disposition.SCRAP, RmaLine.Disposition.RETURN_TO_VENDOR}:
                    stock_write_off(product=product, warehouse=quarantine, quantity=units, reference=rma.number,
                                    reason=Text(gettext_noop("%(rma)s: %(disposition)s (%(condition)s)"), rma=rma.number,
                                                disposition=label_text(RmaLine.Disposition(disposition).label),
                                                condition=label_text(RmaLine.Condition(condition).label)))
            except StockError as exc:
                raise ReturnError(str(exc)) from exc
        line.condition, line.disposition, line.disposition_warehouse = condition, disposition, warehouse
        line.save(update_fields=["condition", "disposition", "disposition_warehouse"])
    _transition(rma, R.INSPECTED, event="inspected", user=user, message=Text("%(texts)s", texts=[
        Text(gettext_noop("%(sku)s: %(quantity)s %(condition)s → %(disposition)s"), sku=l.order_line.sku, quantity=l.received_quantity,
             condition=_label(RmaLine.Condition, l.condition), disposition=_label(RmaLine.Disposition, l.disposition))
        for l in lines.values()]))
    failed = [Text(gettext_noop("%(quantity)s %(sku)s %(condition)s"), quantity=l.received_quantity, sku=l.order_line.sku,
                   condition=_label(RmaLine.Condition, l.condition))
              for l in lines.values() if l.received_quantity and l.condition != RmaLine.Condition.SELLABLE]
    change_record(topic="returns.inspected", object_id=rma.pk, data={"passed": not failed})
    if failed:
        timeline_record(subject=rma, event="needs a decision", actor=user,
                        message=Text(gettext_noop("not refunded automatically: %(units)s; refund or close it once decided"), units=failed))
    elif policy_for(rma.channel).refund_trigger == ChannelReturnPolicy.RefundTrigger.INSPECTED:
        rma_refund(rma=rma, user=user)
    return rma


def _label(choices, value):
    """A choice's label as a Text, "—" when there is none."""
    return label_text(choices(value).label) if value in choices.values else (value or "—")


def _unit_paid(line) -> Decimal:
    """What the customer paid for one unit of an order line: line total after its discount,
    less its share of order-level discounts, plus its tax when prices exclude tax."""
    order = line.order
    share = (line.line_total / order.subtotal * order.discount_total) if order.subtotal else Decimal(0)
    paid = line.line_total - share + (Decimal(0) if order.prices_include_tax else line.tax_amount)
    return paid / line.quantity


def _units_due_now(line, trigger) -> int:
    if trigger == ChannelReturnPolicy.RefundTrigger.CARRIER_SCAN:
        return line.quantity
    if trigger == ChannelReturnPolicy.RefundTrigger.RECEIVED:
        return line.received_quantity
    return 0 if line.condition in {"", RmaLine.Condition.MISSING} else line.received_quantity


def refund_amount(*, rma, expected: bool = False) -> tuple[Decimal, list[dict]]:
    """The amount the return is worth now under its channel's policy, with credit-note lines;
    `expected=True`: what it will be worth once every requested unit is back and passes
    inspection (what a channel tells its customer when the return is requested)."""
    policy = policy_for(rma.channel)
    order, currency = rma.order, rma.order.currency
    items, goods = [], Decimal(0)
    for line in rma.lines.select_related("order_line__order"):
        units = line.quantity if expected else _units_due_now(line, policy.refund_trigger)
        if not units or line.replacement_product_id:  # an exchanged unit is replaced, not refunded
            continue
        value = round_money(_unit_paid(line.order_line) * units, currency)
        goods += value
        items.append({"description": Text(gettext_noop("Return %(rma)s: %(sku)s %(name)s"), rma=rma.number, sku=line.order_line.sku,
                                          name=line.order_line.name), "quantity": 1,
                      "unit_price": str(value), "tax_rate": str(line.order_line.tax_rate), "value": value, "order_line": line.order_line_id})
    fee = round_money(goods * policy.restocking_fee_percent / 100, currency)
    if fee:
        items.append({"description": Text(gettext_noop("Restocking fee %(percent)s %%"), percent=f"{policy.restocking_fee_percent:g}"),
                      "quantity": 1, "unit_price": str(-fee), "tax_rate": "0",
                      "kind": "fee", "value": -fee})
    order_lines = list(order.lines.all())
    returned = dict(RmaLine.objects.filter(order_line__order=order, rma__status__in=COUNTED_RMA_STATUSES)
                    .values_list("order_line").annotate(s=Sum("quantity")).values_list("order_line", "s"))
    everything_back = all(returned.get(l.pk, 0) == l.quantity for l in order_lines)
    if policy.refund_shipping and order.shipping_total and everything_back and goods:
        items.append({"description": Text(gettext_noop("Shipping refund")), "quantity": 1, "unit_price": str(order.shipping_total), "tax_rate": "0",
                      "kind": "shipping", "value": order.shipping_total})
    return sum((i["value"] for i in items), Decimal(0)), items


def refundable_on_order(*, order) -> Decimal | None:
    """What the order still has paid (payments − refunds), or None when no payment is recorded."""
    if not order.payments.exists():
        return None
    paid = order.payments.aggregate(p=Sum("amount", filter=Q(kind=Payment.Kind.PAYMENT)), r=Sum("amount", filter=Q(kind=Payment.Kind.REFUND)))
    return (paid["p"] or Decimal(0)) - (paid["r"] or Decimal(0))


@transaction.atomic
def rma_refund(*, rma, user=None) -> Decimal:
    """Refund what the return is worth now and was not refunded yet, capped at what the order
    still has paid; issues a credit note and records the refund payment. Returns the amount."""
    rma = _locked(rma)
    if rma.status not in {R.IN_TRANSIT, R.RECEIVED, R.INSPECTED}:
        raise ReturnError(gettext("%(rma)s is %(status)s; it cannot be refunded") % {"rma": rma.number, "status": rma.get_status_display().lower()})
    order = SalesOrder.objects.select_for_update().get(pk=rma.order_id)
    worth, items = refund_amount(rma=rma)
    due = worth - rma.refunded_total
    refundable = refundable_on_order(order=order)
    amount = due if refundable is None else min(due, refundable)
    if amount <= 0:
        if rma.status == R.INSPECTED and due <= 0:
            _transition(rma, R.REFUNDED, event="refunded", message=Text(gettext_noop("nothing due (exchanged or already refunded)")), user=user)
        return Decimal(0)
    store_credit = rma.refund_method == Rma.RefundMethod.STORE_CREDIT
    scale = amount / worth if worth else Decimal(1)
    lines = [{k: v for k, v in i.items() if k != "value"} | {"unit_price": str(round_money(i["value"] * scale, order.currency))} for i in items]
    try:
        reason = (Text(gettext_noop("Return %(rma)s (store credit)"), rma=rma.number) if store_credit
                  else Text(gettext_noop("Return %(rma)s"), rma=rma.number))
        notes = credit_notes_issue(order=order, lines=lines, reason=reason, user=user)
    except OrderError as exc:
        raise ReturnError(str(exc)) from exc
    RmaCreditNote.objects.bulk_create(RmaCreditNote(rma=rma, credit_note=note) for note in notes)
    if notes:
        amount = sum((note.total for note in notes), Decimal(0))
    if order.payments.filter(kind=Payment.Kind.PAYMENT).exists():
        payment_record(order=order, amount=amount, method=REFUND_METHODS[rma.refund_method], reference=rma.number,
                       kind=Payment.Kind.REFUND, user=user)
    rma.refunded_total += amount
    rma.save(update_fields=["refunded_total", "updated_at"])
    refunded = {"amount": Money(amount, order.currency), "total": Money(rma.refunded_total, order.currency)}
    timeline_record(subject=rma, event="refund", actor=user,
                    message=(Text(gettext_noop("%(amount)s refunded as store credit (total %(total)s)"), **refunded) if store_credit
                             else Text(gettext_noop("%(amount)s refunded (total %(total)s)"), **refunded)))
    change_record(topic="returns.refund", object_id=rma.pk, data={"amount": str(amount), "order": order.number})
    if rma.status == R.INSPECTED:
        _transition(rma, R.REFUNDED, event="refunded", user=user)
    return amount


@transaction.atomic
def rma_close(*, rma, user=None) -> Rma:
    rma = _locked(rma)
    if rma.status not in {R.INSPECTED, R.REFUNDED}:
        raise ReturnError(gettext("%(rma)s is %(status)s; only inspected or refunded returns are closed") % {"rma": rma.number, "status": rma.get_status_display().lower()})
    if rma.status == R.INSPECTED:
        worth, _ = refund_amount(rma=rma)
        if worth - rma.refunded_total > 0 and rma.order.payments.exists():
            rma_refund(rma=rma, user=user)
            rma.refresh_from_db()
        if rma.status == R.INSPECTED:
            _transition(rma, R.REFUNDED, event="refunded", user=user,
                        message=Text(gettext_noop("%(total)s refunded in all"), total=Money(rma.refunded_total, rma.order.currency)))
    _transition(rma, R.CLOSED, event="closed", user=user)
    return rma


OPEN_RMA_STATUSES = {R.REQUESTED, R.AUTHORISED, R.IN_TRANSIT, R.RECEIVED, R.INSPECTED}


def _matching_open_rma(order, wanted: dict) -> Rma | None:
    for rma in Rma.objects.filter(order=order, status__in=OPEN_RMA_STATUSES, refunded_total=0).order_by("pk"):
        have = dict(rma.lines.values_list("order_line_id").annotate(q=Sum("quantity")).values_list("order_line_id", "q"))
        if all(have.get(line_id, 0) >= quantity for line_id, quantity in wanted.items()):
            return rma
    return None


@transaction.atomic
def refund_record_external(*, order, amount, lines, reference: str, source_label: str, actor_label: str = "") -> tuple[Rma | None, Decimal]:
    """A refund a sales channel already paid out (e.g. in Shopify). It is linked to the open
    return that covers the refunded lines, or to a new authorised one (the goods are expected
    back; stock returns when they are received); a credit note of exactly `amount` is issued
    against the invoice and the refund is recorded as a payment. `lines`: [{"order_line",
    "quantity", "amount"}] with amounts as on the invoice. Returns (the return or None, amount)."""
    amount = round_money(Decimal(str(amount)), order.currency)
    if amount <= 0:
        raise ReturnError(gettext("a refund amount must be positive"))
    order = SalesOrder.objects.select_for_update().get(pk=order.pk)
    wanted: dict[int, int] = {}
    for item in lines:
        if item["order_line"].order_id != order.pk:
            raise ReturnError(gettext("line %(sku)s is not on %(order)s") % {"sku": item['order_line'].sku, "order": order.number})
        wanted[item["order_line"].pk] = wanted.get(item["order_line"].pk, 0) + int(item["quantity"])
    rma = _matching_open_rma(order, wanted) if wanted else None
    order_lines = {item["order_line"].pk: item["order_line"] for item in lines}
    returnable = order.status in RETURNABLE_ORDER_STATUSES and all(
        wanted[pk] <= returnable_quantity(order_line=line) for pk, line in order_lines.items())
    if rma is None and wanted and returnable:
        rma = rma_request(order=order, lines=[{"order_line": item["order_line"], "quantity": item["quantity"]} for item in lines],
                          source=Rma.Source.STOREFRONT, notes=f"Refunded in {source_label} ({reference}).", actor_label=actor_label)
        rma = rma_authorise(rma=rma, actor_label=actor_label)
    note_lines = [{"description": Text(gettext_noop("Refund %(reference)s: %(sku)s %(name)s"), reference=reference, sku=item["order_line"].sku,
                                       name=item["order_line"].name), "quantity": 1,
                   "unit_price": str(round_money(Decimal(str(item["amount"])), order.currency)), "tax_rate": str(item["order_line"].tax_rate),
                   "order_line": item["order_line"].pk}
                  for item in lines]
    rest = amount - sum((Decimal(line["unit_price"]) for line in note_lines), Decimal(0))
    if rest:
        note_lines.append({"description": Text(gettext_noop("Refund %(reference)s: shipping and adjustments"), reference=reference), "quantity": 1, "unit_price": str(rest), "tax_rate": "0",
                           "kind": "shipping"})
    try:
        notes = credit_notes_issue(order=order, lines=note_lines,
                                   reason=Text(gettext_noop("Refund %(reference)s in %(source)s"), reference=reference, source=source_label))
    except OrderError as exc:
        raise ReturnError(str(exc)) from exc
    if rma is not None:
        RmaCreditNote.objects.bulk_create(RmaCreditNote(rma=rma, credit_note=note) for note in notes)
    if not order.payments.filter(kind=Payment.Kind.PAYMENT).exists() and order.payment_status in {"paid", "partially_refunded"}:
        payment_record(order=order, amount=order.total, method=source_label, reference=f"collected by {source_label}")
    if order.payments.filter(kind=Payment.Kind.PAYMENT).exists():
        try:
            payment_record(order=order, amount=amount, method=source_label, reference=reference, kind=Payment.Kind.REFUND)
        except OrderError as exc:
            raise ReturnError(str(exc)) from exc
    if rma is not None:
        rma.refunded_total += amount
        rma.save(update_fields=["refunded_total", "updated_at"])
    refunded = Text(gettext_noop("%(amount)s refunded in %(source)s (%(reference)s)"), amount=Money(amount, order.currency),
                    source=source_label, reference=reference)
    if rma is not None:
        timeline_record(subject=rma, event="refund", message=refunded, actor_label=actor_label)
    timeline_record(subject=order, event="refunded", message=refunded, actor_label=actor_label)
    change_record(topic="returns.refund", object_id=rma.pk if rma else f"order:{order.pk}", data={"amount": str(amount), "order": order.number})
    return rma, amount
