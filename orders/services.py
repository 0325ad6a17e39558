"""Orders: import from any channel, lifecycle, shipments, invoices, credit notes, payments.

Status changes only here. Each transition records a timeline event (who, when, why).
"""

import calendar
import hashlib
import json
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from catalog.models import Product
from hub.changes import change_batch, change_record
from hub.money import Money, round_money
from hub.services import sequence_next, timeline_batch, timeline_record
from hub.texts import Text, as_text, label_text, text_restored, text_stored, texts_english
from inventory.services import StockError, stock_release, stock_reserve_many, stock_ship
from orders.models import (
    Address, ChannelOrderSettings, CreditNote, CreditNoteLine, Customer, CustomerChannelEmail, CustomerChannelIdentity, CustomerMatch,
    IdempotencyKey, Invoice, InvoiceLine, LineKind, OrderLine, OrderStatus, Payment, PaymentStatus, PaymentTerms, SalesOrder, Shipment,
    ShipmentLine, ShippingLine,
)
from orders.selectors import (  # noqa: F401  (customer_exposure: read here, kept importable from services)
    channel_settings, channel_settings_memo, customer_exposure, invoice_settlement, order_payment_allows_fulfilment, order_reserved_lines,
)
from orders.validation import validate_order_payload

S = OrderStatus
OPEN_STATUSES = {S.RECEIVED, S.CONFIRMED, S.ALLOCATED, S.PARTIALLY_SHIPPED, S.ON_HOLD}
# Lines, prices and addresses may change on a re-sent order only before stock is held.
EDITABLE_STATUSES = {S.RECEIVED, S.ON_HOLD, S.CONFIRMED}


class OrderError(ValueError):
    """A transition that the order's state does not allow, with the reason."""


def _actor_kwargs(user, actor_label):
    return {"actor": user, "actor_label": actor_label or ("" if getattr(user, "is_authenticated", False) else "system")}


def _status_change(previous, status) -> Text:
    return Text(gettext_noop("%(previous)s → %(status)s"), previous=label_text(S(previous).label), status=label_text(S(status).label))


def _joined(texts) -> Text:
    """Several sentences as one (a timeline message), each in the reader's language."""
    return Text("%(texts)s", texts=[as_text(text) for text in texts])


def _transition(order, status, *, event, message="", user=None, actor_label="", hold=()):
    """`hold`: why the order is held (Texts, or what a person typed), when `status` is on hold."""
    previous = order.status
    order.status = status
    held = status == S.ON_HOLD
    order.hold_reason = texts_english(hold)[:300] if held else ""
    order.hold_text = [as_text(reason).stored() for reason in hold] if held else []
    order.save(update_fields=["status", "hold_reason", "hold_text", "updated_at"])
    timeline_record(subject=order, event=event, message=message or (_joined(hold) if held and hold else _status_change(previous, status)),
                    data={"from": previous, "to": status}, **_actor_kwargs(user, actor_label))
    change_record(topic="orders.order", object_id=order.pk, data={"status": status})


# --- Customers -------------------------------------------------------------------------------

def customer_resolve(*, channel, data: dict) -> tuple[Customer, bool]:
    """The channel's own customer for `data` ({code} or {external_id, email, name, company, phone}),
    and whether it was created.

    A channel reaches only customers that are its own: by code, those attached to it; by its id,
    the customer it gave that id to; by e-mail, the one it knows under that e-mail or one attached
    to it. Anyone else, even with the same e-mail, becomes a new customer of this channel, flagged
    for staff as a possible duplicate (`CustomerMatch`): sharing a customer between channels gives
    access to its prices and terms, so only a person links them (`customer_match_link`).

    Concurrent orders for the same new person make one customer: the channel's ids and e-mails are
    unique per channel, and a create that loses the race takes the winner's customer."""
    if data.get("code"):
        customer = Customer.objects.filter(code=data["code"], channels=channel).first()
        if customer is None:
            raise OrderError(gettext("customer %(code)s is not a customer of channel %(channel)s") % {"code": repr(data['code']), "channel": channel.code})
        return customer, False
    external_id, email = data.get("external_id", ""), _normalised_email(data.get("email"))
    if external_id:  # a returning customer, the common case: one read, nothing to write
        identity = CustomerChannelIdentity.objects.select_related("customer").filter(channel=channel, external_id=external_id).first()
        if identity is not None:
            return identity.customer, False
    for attempt in range(3):
        try:
            with transaction.atomic():
                # The id was just looked up; after a lost race it is looked up again.
                customer, by_id = _channel_customer(channel, external_id=external_id if attempt else "", email=email)
                if customer is None:
                    return _customer_create(channel, data, external_id=external_id, email=email), True
                if external_id and not by_id:
                    CustomerChannelIdentity.objects.create(channel=channel, external_id=external_id, customer=customer)
                return customer, False
        except IntegrityError:
            if attempt == 2:
                raise
            # A concurrent order created this customer or gave it this id first: use theirs.
    raise AssertionError("unreachable")


def _normalised_email(value) -> str:
    return (value or "").strip().lower()


def _channel_customer(channel, *, external_id: str, email: str) -> tuple[Customer | None, bool]:
    """The channel's own customer with this id, else with this e-mail; and whether found by id."""
    if external_id:
        identity = CustomerChannelIdentity.objects.select_related("customer").filter(channel=channel, external_id=external_id).first()
        if identity is not None:
            return identity.customer, True
    if email:
        known = CustomerChannelEmail.objects.select_related("customer").filter(channel=channel, email=email).first()
        if known is not None:
            return known.customer, False
        return Customer.objects.filter(channels=channel, email__iexact=email, is_active=True).order_by("pk").first(), False
    return None, False


MAX_MATCHES = 10  # possible duplicates recorded per new customer


def _customer_create(channel, data, *, external_id: str, email: str) -> Customer:
    code = _unused_customer_code(f"{channel.code.upper()}-{external_id or hashlib.sha1(email.encode()).hexdigest()[:10]}")
    customer = Customer.objects.create(
        code=code, name=data.get("name") or data.get("company") or email or code, company=data.get("company", ""),
        email=email, phone=data.get("phone", ""), type=Customer.Type.B2C,
    )
    Customer.channels.through.objects.create(customer=customer, saleschannel=channel)  # new: nothing to look up first
    if email:
        CustomerChannelEmail.objects.create(channel=channel, email=email, customer=customer)
        matches = []
        for other in Customer.objects.filter(email__iexact=email).exclude(channels=channel).order_by("pk")[:MAX_MATCHES]:
            reason = Text(gettext_noop("same e-mail as %(customer)s"), customer=other.code)
            matches.append(CustomerMatch(customer=customer, existing=other, reason=str(reason), reason_text=reason.stored()))
        CustomerMatch.objects.bulk_create(matches)
    if external_id:
        CustomerChannelIdentity.objects.create(channel=channel, external_id=external_id, customer=customer)
    return customer


def _unused_customer_code(wanted: str) -> str:
    """`wanted` (cut to 50), or it with a numeric suffix when another customer has it: a generated
    code must never land on an existing customer (an id can be chosen to spell any code)."""
    base = code = wanted[:50]
    number = 1
    while Customer.objects.filter(code=code).exists():
        number += 1
        suffix = f"-{number}"
        code = base[:50 - len(suffix)] + suffix
    return code


def _require_permission(user, permission: str, action: str) -> None:
    if user is None or not user.has_perm(permission):
        raise PermissionDenied(gettext("%(action)s needs the %(permission)s permission") % {"action": action, "permission": repr(permission)})


@transaction.atomic
def customer_match_link(*, match, user) -> Customer:
    """A person confirms that a channel's new customer is the existing one: the channel's ids and
    e-mails for it now lead to the existing customer, which becomes a customer of that channel (its
    prices, terms and credit limit apply to the channel's next orders); the new customer, whose
    past orders and invoices stay as they were, is deactivated."""
    _require_permission(user, "orders.link_customermatch", "linking customers across channels")
    match = CustomerMatch.objects.select_for_update().select_related("customer", "existing").get(pk=match.pk)
    if match.status != CustomerMatch.Status.OPEN:
        raise OrderError(gettext("this match was already %(status)s") % {"status": match.get_status_display().lower()})
    duplicate, existing = match.customer, match.existing
    channels = list(duplicate.channels.all())
    CustomerChannelIdentity.objects.filter(customer=duplicate).update(customer=existing)
    CustomerChannelEmail.objects.filter(customer=duplicate).update(customer=existing)
    existing.channels.add(*channels)
    Customer.objects.filter(pk=duplicate.pk).update(is_active=False, updated_at=timezone.now())
    now = timezone.now()
    CustomerMatch.objects.filter(pk=match.pk).update(status=CustomerMatch.Status.LINKED, decided_by=user, decided_at=now)
    CustomerMatch.objects.filter(customer=duplicate, status=CustomerMatch.Status.OPEN).update(
        status=CustomerMatch.Status.DISMISSED, decided_by=user, decided_at=now)
    names = ", ".join(c.code for c in channels)
    timeline_record(subject=existing, event="linked", actor=user,
                    message=Text(gettext_noop("%(customer)s linked: now also a customer of %(channels)s"), customer=duplicate.code, channels=names))
    timeline_record(subject=duplicate, event="linked", actor=user,
                    message=Text(gettext_noop("linked to %(customer)s and deactivated"), customer=existing.code))
    change_record(topic="orders.customer", object_id=existing.pk, data={"code": existing.code, "fields": ["channels"]})
    return existing


@transaction.atomic
def customer_match_dismiss(*, match, user) -> None:
    """A person says the two customers are not the same person: nothing is shared."""
    _require_permission(user, "orders.link_customermatch", "reviewing possible duplicate customers")
    updated = CustomerMatch.objects.filter(pk=match.pk, status=CustomerMatch.Status.OPEN).update(
        status=CustomerMatch.Status.DISMISSED, decided_by=user, decided_at=timezone.now())
    if not updated:
        raise OrderError(gettext("this match was already decided"))


# --- Import ----------------------------------------------------------------------------------

def _fingerprint(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _computed_totals(data: dict) -> dict:
    currency = data["currency"]
    lines = [round_money(line["quantity"] * line["unit_price"] - line["discount"], currency) for line in data["lines"]]
    subtotal = sum(lines, Decimal(0))
    shipping = sum((round_money(s["price"], currency) for s in data["shipping_lines"]), Decimal(0))
    tax = sum((l["tax_amount"] for l in data["lines"]), Decimal(0)) + sum((s["tax_amount"] for s in data["shipping_lines"]), Decimal(0))
    if data.get("tax_total") is not None:
        tax = data["tax_total"]
    total = subtotal + shipping - data["order_discount"] + (Decimal(0) if data["prices_include_tax"] else tax)
    return {"lines": lines, "subtotal": subtotal, "shipping": shipping, "tax": round_money(tax, currency), "total": round_money(total, currency)}


def _write_lines(order, data, totals, *, new=False) -> list[OrderLine]:
    """Replace the order's lines (`new`: the order was just created and has none); returns them,
    each with its product (or None for an unknown SKU)."""
    if not new:
        order.lines.all().delete()
        order.shipping_lines.all().delete()
    products = {p.sku: p for p in Product.objects.filter(sku__in=[l["sku"] for l in data["lines"]])}
    lines = OrderLine.objects.bulk_create([
        OrderLine(order=order, position=i, sku=line["sku"], product=products.get(line["sku"]),
                  name=line["name"] or getattr(products.get(line["sku"]), "name", line["sku"]), quantity=line["quantity"],
                  unit_price=line["unit_price"], discount=line["discount"], tax_rate=line["tax_rate"],
                  tax_amount=line["tax_amount"], line_total=totals["lines"][i - 1])
        for i, line in enumerate(data["lines"], start=1)
    ])
    if data["shipping_lines"]:
        ShippingLine.objects.bulk_create([ShippingLine(order=order, **s) for s in data["shipping_lines"]])
    return lines


def _problems(order, data, totals, lines) -> list[Text]:
    problems = []
    unknown = [l.sku for l in lines if l.product_id is None or l.product.status != Product.Status.ACTIVE]
    if unknown:
        problems.append(Text(gettext_noop("unknown SKU: %(skus)s"), skus=", ".join(unknown)))
    currency = order.currency
    if totals["total"] != round_money(data["total"], currency):
        amounts = {"lines": Money(totals["subtotal"], currency), "shipping": Money(totals["shipping"], currency),
                   "discounts": Money(data["order_discount"], currency), "total": Money(totals["total"], currency),
                   "stated": Money(data["total"], currency)}
        if data["prices_include_tax"]:
            problems.append(Text(gettext_noop("totals do not add up: lines %(lines)s + shipping %(shipping)s − discounts %(discounts)s "
                                              "= %(total)s, but the order says %(stated)s"), **amounts))
        else:
            problems.append(Text(gettext_noop("totals do not add up: lines %(lines)s + shipping %(shipping)s − discounts %(discounts)s "
                                              "+ tax %(tax)s = %(total)s, but the order says %(stated)s"),
                                 tax=Money(totals["tax"], currency), **amounts))
    customer = order.customer
    if customer.type == Customer.Type.B2B and customer.credit_limit is not None:
        exposure = customer_exposure(customer=customer, excluding=order)
        if exposure + order.total > customer.credit_limit:
            problems.append(Text(gettext_noop("credit limit exceeded: %(exposure)s open + %(total)s > limit %(limit)s"),
                                 exposure=Money(exposure, currency), total=Money(order.total, currency), limit=Money(customer.credit_limit, currency)))
    if customer.type == Customer.Type.B2B:
        problems.extend(_price_deviations(order))
    return problems


def _price_deviations(order) -> list[Text]:
    from catalog.pricing import price_lines
    from orders.pricing import customer_pricing_for_instance

    request = customer_pricing_for_instance(customer=order.customer, channel=order.channel)
    tolerance = channel_settings(order.channel).price_tolerance_percent / Decimal(100)
    lines = list(order.lines.filter(product__isnull=False))
    quoted = price_lines(lines=[(l.sku, l.quantity) for l in lines], request=request)
    problems = []
    for line, quote in zip(lines, quoted):
        expected = getattr(quote, "unit_price", None)
        if expected and abs(line.unit_price - expected) > expected * tolerance:
            problems.append(Text(gettext_noop("price of %(sku)s is %(price)s, hub price %(hub_price)s (tolerance %(tolerance)s%%)"),
                                 sku=line.sku, price=Money(line.unit_price, order.currency), hub_price=Money(expected, order.currency),
                                 tolerance=f"{tolerance * 100:.0f}"))
    return problems


def order_import(*, channel, data: dict, user=None, actor_label: str = "") -> tuple[SalesOrder, bool]:
    """Create or update the order (channel, external id). Idempotent: the same payload twice is
    one order and no change; a changed re-send updates what may still change. Problems put the
    order on hold with the reason, never drop it. Raises `rest_framework.ValidationError` for
    a malformed payload (nothing is written)."""
    data = validate_order_payload(data)
    fingerprint = _fingerprint(data)
    for attempt in range(3):
        try:
            # One transaction; the order row stays locked (created here, or selected for update)
            # and the same instance goes through every step, so none reads it again. The
            # change-feed entries are written together at the end, still inside it.
            with transaction.atomic(), change_batch(), timeline_batch(), channel_settings_memo():
                existing = SalesOrder.objects.select_for_update().filter(channel=channel, external_id=data["external_id"]).first()
                if existing is not None:
                    order, created = _order_update(existing, data, fingerprint, user=user, actor_label=actor_label), False
                else:
                    order, created = _order_create(channel, data, fingerprint, user=user, actor_label=actor_label), True
                captured = data["amount_paid"] if data["amount_paid"] is not None else (
                    order.total if data["payment_status"] == PaymentStatus.PAID else Decimal(0))
                _payment_captured(order, captured=captured, method=data["payment_method"] or channel.code,
                                  reference=data["payment_reference"] or data["external_id"],
                                  received_on=timezone.localdate(order.placed_at) if created and order.placed_at else None,
                                  user=user, sums=(Decimal(0), Decimal(0)) if created else None)
                return order, created
        except IntegrityError:
            if attempt == 2:
                raise
            # A concurrent import created the same order first: the next attempt updates it.
    raise AssertionError("unreachable")


class IdempotencyConflict(OrderError):
    """An idempotency key already used with another request body."""


def idempotency_key_run(*, channel, key: str, payload, run) -> tuple[int, dict, bool]:
    """Answer a request sent with an idempotency key: `run()` → (status code, body) happens once
    per (channel, key). The key is claimed before the work, in the same transaction, so a
    concurrent request with the same key waits for the first to commit (or roll back: a refused
    request leaves the key free); then the same body gets the stored answer and another body
    `IdempotencyConflict`. Returns (status code, body, replayed)."""
    body_hash = _fingerprint(payload)
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = IdempotencyKey.objects.create(channel=channel, key=key, body_hash=body_hash, status_code=0, response={})
        except IntegrityError:
            previous = IdempotencyKey.objects.get(channel=channel, key=key)
            if previous.body_hash != body_hash:
                raise IdempotencyConflict(gettext("This Idempotency-Key was already used with a different body; send "
                                                  "a new key for a new request.")) from None
            return previous.status_code, previous.response, True
        status_code, response = run()
        claim.status_code, claim.response = status_code, response
        claim.save(update_fields=["status_code", "response"])
        return status_code, response, False


def _order_create(channel, data, fingerprint, *, user, actor_label):
    customer, _ = customer_resolve(channel=channel, data=data["customer"])
    totals = _computed_totals(data)
    order = SalesOrder.objects.create(
        number=f"SO-{sequence_next(series='SO'):06d}", channel=channel, external_id=data["external_id"], customer=customer,
        currency=data["currency"], payment_status=data["payment_status"], prices_include_tax=data["prices_include_tax"],
        billing_address=dict(data.get("billing_address") or {}), shipping_address=dict(data.get("shipping_address") or {}),
        discount_codes=[{"code": d["code"], "amount": str(d["amount"])} for d in data["discount_codes"]],
        subtotal=totals["subtotal"], discount_total=data["order_discount"], shipping_total=totals["shipping"],
        tax_total=totals["tax"], total=data["total"], notes=data["notes"], placed_at=data["placed_at"] or timezone.now(),
        payload_fingerprint=fingerprint,
    )
    lines = _write_lines(order, data, totals, new=True)
    timeline_record(subject=order, event="received",
                    message=Text(gettext_noop("received from %(channel)s as %(external_id)s"), channel=channel.code, external_id=data["external_id"]),
                    **_actor_kwargs(user, actor_label))
    _evaluate(order, data, totals, lines=lines, user=user, actor_label=actor_label)
    return order


def _order_update(order, data, fingerprint, *, user, actor_label):
    if order.payload_fingerprint == fingerprint:
        return order
    changed = []
    if order.payment_status != data["payment_status"] and order.payment_status in {PaymentStatus.PENDING, PaymentStatus.AUTHORISED}:
        order.payment_status = data["payment_status"]
        changed.append(Text(gettext_noop("payment status")))
    if order.notes != data["notes"]:
        order.notes = data["notes"]
        changed.append(Text(gettext_noop("notes")))
    totals = _computed_totals(data)
    if order.status in EDITABLE_STATUSES and not order.invoices.exists():
        for field, value, label in [("billing_address", dict(data.get("billing_address") or {}), gettext_noop("billing address")),
                                    ("shipping_address", dict(data.get("shipping_address") or {}), gettext_noop("shipping address"))]:
            if getattr(order, field) != value:
                setattr(order, field, value)
                changed.append(Text(label))
        order.subtotal, order.shipping_total, order.tax_total = totals["subtotal"], totals["shipping"], totals["tax"]
        order.discount_total, order.total = data["order_discount"], data["total"]
        _write_lines(order, data, totals)
        changed.append(Text(gettext_noop("lines and totals")))
    order.payload_fingerprint = fingerprint
    order.save()
    timeline_record(subject=order, event="updated",
                    message=Text(gettext_noop("re-sent by %(channel)s: %(changes)s"), channel=order.channel.code,
                                 changes=changed or Text(gettext_noop("nothing that may still change"))),
                    **_actor_kwargs(user, actor_label))
    if order.status in {S.RECEIVED, S.ON_HOLD}:
        _evaluate(order, data, totals, user=user, actor_label=actor_label)
    return order


def _evaluate(order, data, totals, *, lines=None, user, actor_label):
    """Hold the order with its problems, or confirm and allocate it. `order` is locked by the
    caller; `lines`: its lines with their products, when the caller has them."""
    if lines is None:
        lines = list(order.lines.select_related("product"))
    problems = _problems(order, data, totals, lines)
    if problems:
        if order.status != S.ON_HOLD or order.hold_reason != texts_english(problems):
            _transition(order, S.ON_HOLD, event="held", hold=problems, user=user, actor_label=actor_label)
        return
    if order_payment_allows_fulfilment(order=order):
        _confirm(order, lines=lines, user=user, actor_label=actor_label)
    elif order.status == S.ON_HOLD:
        _transition(order, S.RECEIVED, event="released", message=Text(gettext_noop("problems resolved; waiting for payment")), user=user, actor_label=actor_label)


# --- Lifecycle -------------------------------------------------------------------------------

@transaction.atomic
def order_confirm(*, order, user=None, actor_label=""):
    order = SalesOrder.objects.select_for_update().get(pk=order.pk)
    return _confirm(order, user=user, actor_label=actor_label)


def _confirm(order, *, lines=None, user, actor_label):
    """`order_confirm` of an order the caller holds locked (the same instance is updated)."""
    if order.status not in {S.RECEIVED, S.ON_HOLD}:
        raise OrderError(gettext("%(order)s is %(status)s; only received or held orders can be confirmed") % {"order": order.number, "status": order.get_status_display().lower()})
    _transition(order, S.CONFIRMED, event="confirmed", user=user, actor_label=actor_label,
                message=Text(gettext_noop("payment: %(status)s"), status=label_text(PaymentStatus(order.payment_status).label)))
    return _allocate(order, lines=lines, user=user, actor_label=actor_label)


@transaction.atomic
def order_allocate(*, order, user=None, actor_label=""):
    """Reserve stock for every line; short lines put the order on hold (backorderable products
    keep their backorder)."""
    order = SalesOrder.objects.select_for_update().get(pk=order.pk)
    return _allocate(order, user=user, actor_label=actor_label)


def _allocate(order, *, lines=None, user, actor_label):
    """`order_allocate` of an order the caller holds locked; `lines` with their products, when known."""
    if order.status != S.CONFIRMED:
        raise OrderError(gettext("%(order)s is %(status)s; only confirmed orders are allocated") % {"order": order.number, "status": order.get_status_display().lower()})
    country = (order.shipping_address or {}).get("country", "")
    if lines is None:
        lines = list(order.lines.select_related("product"))
    results = stock_reserve_many(channel=order.channel, document=order.number, country=country,
                                 lines=[(line.product, line.quantity, line.pk) for line in lines])
    short = [Text(gettext_noop("%(sku)s short by %(quantity)s"), sku=line.sku, quantity=result.shortfall)
             for line, result in zip(lines, results) if result.shortfall]
    if short:
        stock_release(document=order.number)
        _transition(order, S.ON_HOLD, event="held", hold=[Text(gettext_noop("insufficient stock: %(lines)s"), lines=short)],
                    user=user, actor_label=actor_label)
        return order
    _transition(order, S.ALLOCATED, event="allocated", message=Text(gettext_noop("stock reserved")), user=user, actor_label=actor_label)
    _invoice_on_payment(order, user=user)
    return order


@transaction.atomic
def order_hold(*, order, reason, user=None, actor_label=""):
    order = SalesOrder.objects.select_for_update().get(pk=order.pk)
    if order.status not in {S.RECEIVED, S.CONFIRMED, S.ALLOCATED}:
        raise OrderError(gettext("%(order)s is %(status)s; it cannot be put on hold") % {"order": order.number, "status": order.get_status_display().lower()})
    if not str(reason).strip():
        raise OrderError(gettext("say why the order is held"))
    stock_release(document=order.number)
    _transition(order, S.ON_HOLD, event="held", hold=[reason], user=user, actor_label=actor_label)
    return order


@transaction.atomic
def order_release(*, order, user=None, actor_label="", note=""):
    """Lift a hold: a person has checked the reason. The order is confirmed and allocated again
    (its stock is checked again)."""
    order = SalesOrder.objects.select_for_update().get(pk=order.pk)
    if order.status != S.ON_HOLD:
        raise OrderError(gettext("%(order)s is not on hold") % {"order": order.number})
    was = order.hold_text or ([order.hold_reason] if order.hold_reason else [])
    timeline_record(subject=order, event="hold lifted", message=note or Text(gettext_noop("was: %(reasons)s"), reasons=was),
                    **_actor_kwargs(user, actor_label))
    return order_confirm(order=order, user=user, actor_label=actor_label)


ADDRESS_FIELDS = ("name", "company", "line1", "line2", "postcode", "city", "country", "phone", "email")


@transaction.atomic
def order_shipping_address_update(*, order, address: dict, user=None, actor_label=""):
    """Change where an order goes, as long as nothing of it has shipped. A warehouse that already
    has the order is told through the change feed (its connector sends the new address)."""
    order = SalesOrder.objects.select_for_update().get(pk=order.pk)
    if order.status not in {S.RECEIVED, S.CONFIRMED, S.ALLOCATED, S.ON_HOLD}:
        raise OrderError(gettext("%(order)s is %(status)s; the address can change only before anything ships") % {"order": order.number, "status": order.get_status_display().lower()})
    unknown = sorted(set(address) - set(ADDRESS_FIELDS))
    if unknown:
        raise OrderError(gettext("unknown address field(s): %(unknown)s; use %(fields)s") % {"unknown": ', '.join(unknown), "fields": ', '.join(ADDRESS_FIELDS)})
    cleaned = {key: str(value).strip() for key, value in address.items() if value not in (None, "")}
    missing = [key for key in ("name", "line1", "postcode", "city", "country") if not cleaned.get(key)]
    if missing:
        raise OrderError(gettext("the shipping address needs %(missing)s") % {"missing": ', '.join(missing)})
    cleaned["country"] = cleaned["country"].upper()
    if len(cleaned["country"]) != 2:
        raise OrderError(gettext("the country is a two-letter ISO code, e.g. FR"))
    if cleaned == order.shipping_address:
        return order
    order.shipping_address = cleaned
    order.save(update_fields=["shipping_address", "updated_at"])
    timeline_record(subject=order, event="address changed",
                    message=Text(gettext_noop("ships to %(name)s, %(line1)s, %(postcode)s %(city)s (%(country)s)"),
                                 **{key: cleaned[key] for key in ("name", "line1", "postcode", "city", "country")}),
                    **_actor_kwargs(user, actor_label))
    change_record(topic="orders.order", object_id=order.pk, data={"status": order.status, "fields": ["shipping_address"]})
    return order


@transaction.atomic
def order_cancel(*, order, reason, user=None, actor_label=""):
    order = SalesOrder.objects.select_for_update().get(pk=order.pk)
    if order.status in {S.PARTIALLY_SHIPPED, S.SHIPPED, S.COMPLETED}:
        raise OrderError(gettext("%(order)s is %(status)s: shipped goods are returned through an RMA, not cancelled") % {"order": order.number, "status": order.get_status_display().lower()})
    if order.status == S.CANCELLED:
        return order
    released = stock_release(document=order.number)
    _transition(order, S.CANCELLED, event="cancelled", user=user, actor_label=actor_label,
                message=Text(gettext_noop("%(reason)s (%(released)s reserved units released)"), reason=as_text(reason), released=released))
    return order


@transaction.atomic
def order_complete(*, order, user=None, actor_label=""):
    order = SalesOrder.objects.select_for_update().get(pk=order.pk)
    if order.status != S.SHIPPED:
        raise OrderError(gettext("%(order)s is %(status)s; only shipped orders are completed") % {"order": order.number, "status": order.get_status_display().lower()})
    _transition(order, S.COMPLETED, event="completed", user=user, actor_label=actor_label)
    return order


# --- Shipments -------------------------------------------------------------------------------

@transaction.atomic
def shipment_create(*, order, warehouse, lines, carrier="", service="", tracking_numbers=(), tracking_urls=(), shipped_at=None,
                    user=None, actor_label="") -> Shipment:
    """Ship `lines` — [(order_line, quantity)] — from one warehouse. Consumes reservations
    through the stock ledger; partial shipments are allowed."""
    order = SalesOrder.objects.select_for_update().get(pk=order.pk)
    if order.status not in {S.ALLOCATED, S.PARTIALLY_SHIPPED}:
        raise OrderError(gettext("%(order)s is %(status)s; only allocated orders ship") % {"order": order.number, "status": order.get_status_display().lower()})
    lines = [(line, quantity) for line, quantity in lines if quantity]
    if not lines:
        raise OrderError(gettext("a shipment needs at least one line with a quantity"))
    index = order.shipments.count() + 1
    shipment = Shipment.objects.create(
        number=f"{order.number}-{index}", order=order, warehouse=warehouse, carrier=carrier, service=service,
        tracking_numbers=list(tracking_numbers), tracking_urls=list(tracking_urls), shipped_at=shipped_at or timezone.now(),
    )
    for line, quantity in lines:
        line = OrderLine.objects.select_for_update().get(pk=line.pk, order=order)
        if quantity > line.quantity_open:
            raise OrderError(gettext("%(sku)s: %(quantity)s to ship but only %(quantity_open)s still open") % {"sku": line.sku, "quantity": quantity, "quantity_open": line.quantity_open})
        try:
            stock_ship(document=order.number, line_ref=str(line.pk), quantity=quantity, warehouse=warehouse, product=line.product,
                       reference=shipment.number, user=user if getattr(user, "pk", None) else None)
        except StockError as exc:
            raise OrderError(str(exc)) from exc
        ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=quantity)
        line.quantity_shipped += quantity
        line.save(update_fields=["quantity_shipped"])
    fully = not any(l.quantity_open for l in order.lines.all())
    _transition(order, S.SHIPPED if fully else S.PARTIALLY_SHIPPED, event="shipped" if fully else "partially shipped",
                message=_shipped_text(shipment, warehouse, carrier, tracking_numbers),
                user=user, actor_label=actor_label)
    change_record(topic="orders.shipment", object_id=shipment.pk, data={"order": order.number})
    if channel_settings(order.channel).invoice_trigger == ChannelOrderSettings.InvoiceTrigger.SHIPMENT:
        invoice_issue(order=order, shipment=shipment, user=user)
    return shipment


def _shipped_text(shipment, warehouse, carrier, tracking_numbers) -> Text:
    params = {"shipment": shipment.number, "warehouse": warehouse.code, "carrier": carrier or Text(gettext_noop("carrier"))}
    if tracking_numbers:
        return Text(gettext_noop("%(shipment)s from %(warehouse)s via %(carrier)s, tracking %(tracking)s"), tracking=", ".join(tracking_numbers), **params)
    return Text(gettext_noop("%(shipment)s from %(warehouse)s via %(carrier)s"), **params)


@transaction.atomic
def order_ship_reserved(*, order, user=None, actor_label="") -> list[Shipment]:
    """Ship everything the order holds reserved, one shipment per warehouse (what the admin's
    "Ship" does when the goods left with no warehouse connector to report it)."""
    from inventory.models import Warehouse

    parts = order_reserved_lines(order=order, warehouse_codes=Warehouse.objects.values_list("code", flat=True))
    if not parts:
        raise OrderError(gettext("%(order)s: nothing reserved to ship") % {"order": order.number})
    warehouses = {w.code: w for w in Warehouse.objects.filter(code__in=list(parts))}
    return [shipment_create(order=order, warehouse=warehouses[code], lines=[(row["line"], row["quantity"]) for row in rows],
                            user=user, actor_label=actor_label)
            for code, rows in parts.items()]


@transaction.atomic
def invoice_credit_in_full(*, invoice, reason, user=None) -> CreditNote:
    """Credit the whole of an invoice that no credit note touched yet: one credit line per
    invoice line, same amounts and tax."""
    if invoice.credit_notes.exists():
        raise OrderError(gettext("%(invoice)s already has a credit note; credit the rest line by line") % {"invoice": invoice.number})
    lines = [{"kind": line.kind, "description": text_restored(line.description_text) if line.description_text else line.description,
              "quantity": 1, "unit_price": str(line.line_total),
              "tax_rate": str(line.tax_rate), "tax_amount": str(line.tax_amount)} for line in invoice.lines.order_by("pk")]
    return credit_note_issue(invoice=invoice, lines=lines, reason=reason, user=user)


# --- Invoices, credit notes, payments --------------------------------------------------------

def due_date(*, issued_on: date, terms: str) -> date:
    days = {PaymentTerms.NET_15: 15, PaymentTerms.NET_30: 30, PaymentTerms.NET_45: 45, PaymentTerms.NET_60: 60,
            PaymentTerms.NET_30_EOM: 30, PaymentTerms.NET_60_EOM: 60}.get(terms, 0)
    due = issued_on + timedelta(days=days)
    if terms in {PaymentTerms.NET_30_EOM, PaymentTerms.NET_60_EOM}:
        due = due.replace(day=calendar.monthrange(due.year, due.month)[1])
    return due


def _description(description) -> dict:
    """A document line's description fields: what a channel or person wrote, or a `Text` the hub writes."""
    if isinstance(description, Text):
        return {"description": str(description)[:255], "description_text": description.stored()}
    return {"description": description}


def _tax_of(line_total: Decimal, rate: Decimal, include_tax: bool, currency: str) -> Decimal:
    if include_tax:
        return round_money(line_total - line_total / (1 + rate), currency)
    return round_money(line_total * rate, currency)


@transaction.atomic
def invoice_issue(*, order, shipment=None, user=None, issued_on=None) -> Invoice:
    """Issue the invoice of a shipment (what was shipped) or, with no shipment, of the whole
    order. The number is taken from the year's gapless series in this same transaction."""
    order = SalesOrder.objects.select_for_update().get(pk=order.pk)
    if shipment is not None and Invoice.objects.filter(shipment=shipment).exists():
        return Invoice.objects.get(shipment=shipment)
    if shipment is None and order.invoices.exists():
        raise OrderError(gettext("%(order)s is already invoiced") % {"order": order.number})
    issued_on = issued_on or timezone.localdate()
    currency = order.currency
    if shipment is not None:
        items = [(sl.order_line, sl.quantity) for sl in shipment.lines.select_related("order_line")]
    else:
        items = [(line, line.quantity) for line in order.lines.all()]
    invoice_lines = []
    for line, quantity in items:
        total = round_money(line.line_total * quantity / line.quantity, currency)
        invoice_lines.append(InvoiceLine(order_line=line, sku=line.sku, description=line.name, quantity=quantity,
                                         unit_price=line.unit_price, tax_rate=line.tax_rate, line_total=total,
                                         tax_amount=_tax_of(total, line.tax_rate, order.prices_include_tax, currency)))
    first = not order.invoices.exists()
    if first:
        for shipping in order.shipping_lines.all():
            invoice_lines.append(InvoiceLine(sku="", kind=LineKind.SHIPPING, quantity=1, unit_price=shipping.price,
                                             line_total=shipping.price, tax_amount=shipping.tax_amount,
                                             **_description(Text(gettext_noop("Shipping: %(title)s"), title=shipping.title))))
        if order.discount_total:
            invoice_lines.append(InvoiceLine(sku="", kind=LineKind.DISCOUNT, **_description(Text(gettext_noop("Order discount"))),
                                             quantity=1, unit_price=-order.discount_total,
                                             line_total=-order.discount_total, tax_amount=Decimal(0)))
    subtotal = sum((l.line_total for l in invoice_lines), Decimal(0))
    tax = sum((l.tax_amount for l in invoice_lines), Decimal(0))
    total = subtotal if order.prices_include_tax else subtotal + tax
    year = issued_on.year
    invoice = Invoice.objects.create(
        number=f"INV-{year}-{sequence_next(series=f'INV-{year}'):06d}", order=order, customer=order.customer, shipment=shipment,
        currency=currency, issued_on=issued_on, due_on=due_date(issued_on=issued_on, terms=order.customer.payment_terms),
        billing_address=order.billing_address, subtotal=subtotal, tax_total=tax, total=total,
    )
    for line in invoice_lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(invoice_lines)
    timeline_record(subject=order, event="invoiced",
                    message=Text(gettext_noop("%(invoice)s: %(total)s, due %(due)s"), invoice=invoice.number, total=Money(invoice.total, currency),
                                 due=invoice.due_on),
                    **_actor_kwargs(user, ""))
    change_record(topic="orders.invoice", object_id=invoice.pk, data={"number": invoice.number})
    return invoice


@transaction.atomic
def credit_note_issue(*, invoice, lines, reason, user=None, issued_on=None) -> CreditNote:
    """Credit (part of) an issued invoice. `lines`: [{"description", "quantity", "unit_price",
    "tax_rate"?, "tax_amount"?, "kind"? (goods, shipping, discount, fee; goods by default)}] with
    amounts as on the invoice (same tax convention). A description or the reason may be a `Text` the
    hub writes (shown in the reader's language), or what a person or channel wrote.
    Never more than the invoice's total less earlier credit notes."""
    if not str(reason).strip():
        raise OrderError(gettext("a credit note needs a reason"))
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    order = invoice.order
    currency = invoice.currency
    note_lines = []
    for item in lines:
        quantity = int(item.get("quantity", 1))
        line_total = round_money(Decimal(str(item["unit_price"])) * quantity, currency)
        rate = Decimal(str(item.get("tax_rate", 0)))
        tax = Decimal(str(item["tax_amount"])) if "tax_amount" in item else _tax_of(line_total, rate, order.prices_include_tax, currency)
        note_lines.append(CreditNoteLine(kind=LineKind(item.get("kind", LineKind.GOODS)), **_description(item["description"]), quantity=quantity,
                                         unit_price=Decimal(str(item["unit_price"])),
                                         tax_rate=rate, tax_amount=tax, line_total=line_total))
    subtotal = sum((l.line_total for l in note_lines), Decimal(0))
    tax = sum((l.tax_amount for l in note_lines), Decimal(0))
    total = subtotal if order.prices_include_tax else subtotal + tax
    if total <= 0:
        raise OrderError(gettext("a credit note must credit a positive amount"))
    credited = invoice.credit_notes.aggregate(s=Sum("total"))["s"] or Decimal(0)
    if credited + total > invoice.total:
        raise OrderError(gettext("%(invoice)s: crediting %(total)s would exceed the invoice (%(invoice_total)s, already "
                                 "credited %(credited)s)") % {"invoice": invoice.number, "total": total, "invoice_total": invoice.total, "credited": credited})
    issued_on = issued_on or timezone.localdate()
    note = CreditNote.objects.create(
        number=f"CN-{issued_on.year}-{sequence_next(series=f'CN-{issued_on.year}'):06d}", invoice=invoice, order=order,
        currency=currency, issued_on=issued_on, reason=str(reason), reason_text=text_stored(reason),
        subtotal=subtotal, tax_total=tax, total=total,
    )
    for line in note_lines:
        line.credit_note = note
    CreditNoteLine.objects.bulk_create(note_lines)
    timeline_record(subject=order, event="credit note", **_actor_kwargs(user, ""),
                    message=Text(gettext_noop("%(note)s: %(total)s — %(reason)s"), note=note.number, total=Money(total, currency), reason=as_text(reason)))
    change_record(topic="orders.credit_note", object_id=note.pk, data={"number": note.number})
    return note


def credit_notes_issue(*, order, lines, reason, user=None) -> list[CreditNote]:
    """Credit `lines` (as for `credit_note_issue`; a line may name the "order_line" id it
    refunds) against the order's invoices: each line on an invoice that billed its order line,
    else on the next invoice with room, split between invoices where one has too little room
    left (an order shipped and invoiced in parts). Adjustments that reduce the credit (a
    restocking fee) go with the largest part. One credit note per invoice credited; [] when the
    order has no invoice."""
    invoices = list(Invoice.objects.select_for_update().filter(order=order).order_by("issued_on", "number"))
    if not invoices:
        return []
    currency, include_tax = order.currency, order.prices_include_tax
    credited = dict(CreditNote.objects.filter(invoice__in=invoices).values_list("invoice").annotate(s=Sum("total")).values_list("invoice", "s"))
    room = {invoice.pk: invoice.total - (credited.get(invoice.pk) or Decimal(0)) for invoice in invoices}
    billed: dict[int, dict[int, Decimal]] = {}  # order line → {invoice: gross billed for it}
    for invoice_id, order_line_id, line_total, tax in (InvoiceLine.objects.filter(invoice__in=invoices, order_line__isnull=False)
                                                       .values_list("invoice", "order_line", "line_total", "tax_amount")):
        gross = line_total if include_tax else line_total + tax
        billed.setdefault(order_line_id, {})[invoice_id] = billed.get(order_line_id, {}).get(invoice_id, Decimal(0)) + gross
    pieces: dict[int, list[dict]] = {}
    reductions = []
    for line in lines:
        line_total = round_money(Decimal(str(line["unit_price"])) * int(line.get("quantity", 1)), currency)
        rate = Decimal(str(line.get("tax_rate", 0)))
        tax = Decimal(str(line["tax_amount"])) if "tax_amount" in line else _tax_of(line_total, rate, include_tax, currency)
        gross = line_total if include_tax else line_total + tax
        if gross <= 0:
            reductions.append(line)
            continue
        # First on the invoices that billed the line, up to what each billed for it; then anywhere with room.
        caps = [(i, amount) for i, amount in billed.get(line.get("order_line"), {}).items()] + [(i.pk, None) for i in invoices]
        remaining, left_total, left_tax = gross, line_total, tax
        for invoice_id, cap in caps:
            take = min(room[invoice_id], remaining, cap if cap is not None else remaining)
            if take <= 0:
                continue
            part_total = left_total if take == remaining else take if include_tax else round_money(line_total * take / gross, currency)
            while True:
                if "tax_amount" in line:  # the caller's tax, shared out, the last part taking the rest
                    part_tax = left_tax if part_total == left_total else round_money(tax * part_total / line_total, currency)
                else:  # each credit note's tax computed as any document's
                    part_tax = _tax_of(part_total, rate, include_tax, currency)
                part_gross = part_total if include_tax else part_total + part_tax
                if part_gross <= room[invoice_id] or part_total <= 0:
                    break
                part_total -= Decimal("0.01")  # a cent of rounding over this invoice's room
            piece = {"description": line["description"], "quantity": 1, "unit_price": str(part_total), "tax_rate": str(rate),
                     "kind": line.get("kind", LineKind.GOODS)}
            if "tax_amount" in line:
                piece["tax_amount"] = str(part_tax)
            pieces.setdefault(invoice_id, []).append(piece)
            room[invoice_id] -= part_gross
            remaining, left_total, left_tax = remaining - part_gross, left_total - part_total, left_tax - part_tax
            if remaining <= 0:
                break
        if remaining > 0:
            raise OrderError(gettext("%(order)s: crediting %(amount)s would exceed what its invoices have left to credit")
                             % {"order": order.number, "amount": gross})
    if not pieces:
        raise OrderError(gettext("a credit note must credit a positive amount"))
    largest = max(pieces, key=lambda invoice_id: sum(Decimal(p["unit_price"]) for p in pieces[invoice_id]))
    pieces[largest].extend(reductions)
    by_id = {invoice.pk: invoice for invoice in invoices}
    return [credit_note_issue(invoice=by_id[invoice_id], lines=parts, reason=reason, user=user) for invoice_id, parts in pieces.items()]


def invoice_balance(*, invoice) -> Decimal:
    """What is still due on the invoice (see `orders.selectors.settle`)."""
    return invoice_settlement(invoice=invoice).balance


@transaction.atomic
def payment_record_captured(*, order, captured, method, reference, received_on=None, user=None) -> Payment | None:
    """What a sales channel says it has captured for the order, so far. Only the part not yet
    recorded as a payment of the order (by the channel or by staff) is recorded, so a re-sent
    or duplicate order never records it twice and a later, larger capture records the
    difference. Less than what is recorded changes nothing: refunds come through returns."""
    order = SalesOrder.objects.select_for_update().get(pk=order.pk)
    return _payment_captured(order, captured=captured, method=method, reference=reference, received_on=received_on, user=user)


def _payment_sums(order) -> tuple[Decimal, Decimal]:
    """(payments, refunds) recorded for the order, in one query."""
    sums = order.payments.aggregate(p=Sum("amount", filter=Q(kind=Payment.Kind.PAYMENT)), r=Sum("amount", filter=Q(kind=Payment.Kind.REFUND)))
    return sums["p"] or Decimal(0), sums["r"] or Decimal(0)


def _payment_captured(order, *, captured, method, reference, received_on, user, sums=None) -> Payment | None:
    """`payment_record_captured` for an order the caller holds locked; `sums`: (payments,
    refunds) when the caller knows them (none for an order created in this transaction)."""
    captured = round_money(Decimal(str(captured)), order.currency)
    sums = sums or _payment_sums(order)
    if captured <= sums[0]:
        return None
    return _payment_record(order, amount=captured - sums[0], method=method, reference=reference, kind=Payment.Kind.PAYMENT,
                           invoice=None, received_on=received_on, user=user, sums=sums)


@transaction.atomic
def payment_record(*, order, amount, method, reference="", kind=Payment.Kind.PAYMENT, invoice=None, received_on=None,
                   user=None) -> Payment:
    """Record money in (payment) or out (refund) and update the order's payment status."""
    amount = round_money(Decimal(str(amount)), order.currency)
    if amount <= 0:
        raise OrderError(gettext("a payment amount must be positive"))
    order = SalesOrder.objects.select_for_update().get(pk=order.pk)
    return _payment_record(order, amount=amount, method=method, reference=reference, kind=kind, invoice=invoice,
                           received_on=received_on, user=user)


def _payment_record(order, *, amount, method, reference, kind, invoice, received_on, user, sums=None) -> Payment:
    payments, refunds = sums or _payment_sums(order)
    if kind == Payment.Kind.REFUND and refunds + amount > payments:
        raise OrderError(gettext("%(order)s: refunding %(amount)s would exceed what was paid (%(payments)s, refunded "
                                 "%(refunds)s)") % {"order": order.number, "amount": amount, "payments": payments, "refunds": refunds})
    payment = Payment.objects.create(order=order, invoice=invoice, kind=kind, method=method, amount=amount, currency=order.currency,
                                     received_on=received_on or timezone.localdate(), reference=reference)
    if kind == Payment.Kind.PAYMENT:
        payments += amount
    else:
        refunds += amount
    if refunds and refunds >= payments:
        status = PaymentStatus.REFUNDED
    elif refunds:
        status = PaymentStatus.PARTIALLY_REFUNDED
    elif payments >= order.total:
        status = PaymentStatus.PAID
    else:
        status = order.payment_status
    if status != order.payment_status:
        order.payment_status = status
        order.save(update_fields=["payment_status", "updated_at"])
    params = {"amount": Money(amount, order.currency), "method": method}
    message = (Text(gettext_noop("%(amount)s by %(method)s %(reference)s"), reference=reference, **params) if reference
               else Text(gettext_noop("%(amount)s by %(method)s"), **params))
    timeline_record(subject=order, event=kind, message=message, **_actor_kwargs(user, ""))
    change_record(topic="orders.payment", object_id=payment.pk, data={"order": order.pk, "kind": kind})
    if kind == Payment.Kind.PAYMENT:
        _invoice_on_payment(order, user=user)
    return payment


def _invoice_on_payment(order, *, user):
    """Channels invoicing on payment invoice a paid order once its lines can no longer change
    (allocated or later), so a held order that is corrected is invoiced as corrected."""
    if (order.payment_status == PaymentStatus.PAID and order.status not in EDITABLE_STATUSES | {S.CANCELLED}
            and channel_settings(order.channel).invoice_trigger == ChannelOrderSettings.InvoiceTrigger.PAYMENT
            and not order.invoices.exists()):
        invoice_issue(order=order, user=user)




@transaction.atomic
def customer_upsert_from_channel(*, channel, external_id: str, email: str = "", name: str = "", phone: str = "",
                                 addresses: list[dict] = ()) -> tuple[Customer, bool]:
    """A customer as a sales channel knows it (e.g. Shopify's customers/create and /update): the
    channel's own customer, found or created by `customer_resolve` (never another channel's); name,
    e-mail and phone follow the channel; addresses are added once (the same address again changes
    nothing). Each address: {name, company, line1, line2, postcode, city, country, phone,
    is_default}. Returns (customer, created)."""
    customer, created = customer_resolve(channel=channel, data={"external_id": external_id, "email": email, "name": name, "phone": phone})
    changed = []
    for field, value in (("name", name), ("email", _normalised_email(email)), ("phone", phone)):
        if value and getattr(customer, field) != value:
            setattr(customer, field, value)
            changed.append(field)
    if changed:
        customer.full_clean(exclude=["code", "contract_price_list", "group"], validate_unique=False)
        customer.save(update_fields=changed)
    for address in addresses:
        values = {k: (address.get(k) or "").strip() for k in ("name", "company", "line1", "line2", "postcode", "city", "phone")}
        values["country"] = (address.get("country") or "FR").upper()[:2]
        if not (values["line1"] and values["postcode"] and values["city"]):
            continue
        for kind in (Address.Kind.SHIPPING, Address.Kind.BILLING):
            same = Address.objects.filter(customer=customer, kind=kind, line1=values["line1"], postcode=values["postcode"],
                                          city=values["city"], country=values["country"]).first()
            if same is None:
                same = Address.objects.create(customer=customer, kind=kind, is_default=False, **{**values, "name": values["name"] or customer.name})
            if address.get("is_default") and not same.is_default:
                Address.objects.filter(customer=customer, kind=kind, is_default=True).update(is_default=False)
                Address.objects.filter(pk=same.pk).update(is_default=True)
    change_record(topic="orders.customer", object_id=customer.pk, data={"code": customer.code, "fields": changed})
    return customer, created
