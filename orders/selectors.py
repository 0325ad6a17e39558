"""Reads of orders used by more than one caller."""

import contextlib
import contextvars
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import Reservation
from orders.models import (ChannelOrderSettings, CreditNote, Customer, Invoice, OrderStatus, Payment, PaymentStatus, PaymentTerms,
                           SalesOrder, ShipmentLine)

ZERO = Decimal(0)


@dataclass(frozen=True)
class Settlement:
    """How far an invoice is settled: `credited` by its credit notes, `paid` by the order's
    payments applied to it, `balance` still due."""

    credited: Decimal
    paid: Decimal
    balance: Decimal


def settle(invoices: list[tuple[object, Decimal, Decimal]], paid: Decimal) -> dict[object, Settlement]:
    """Apply what an order has been paid, net of refunds, to its invoices in the order given
    (oldest first): each takes at most what its credit notes leave due. `invoices`:
    [(key, total, credited)]. A payment received before an invoice is issued settles it then."""
    pool = max(paid, ZERO)
    settled = {}
    for key, total, credited in invoices:
        due = max(total - credited, ZERO)
        applied = min(due, pool)
        pool -= applied
        settled[key] = Settlement(credited=credited, paid=applied, balance=total - credited - applied)
    return settled


def invoice_settlements(*, invoices) -> dict[int, Settlement]:
    """Settlement of each given invoice (a queryset or Invoice objects), keyed by id, in three
    queries whatever their number."""
    order_ids = {i.order_id for i in invoices} if not hasattr(invoices, "values_list") else set(invoices.values_list("order_id", flat=True))
    if not order_ids:
        return {}
    return order_settlements(orders=order_ids)


def order_settlements(*, orders) -> dict[int, Settlement]:
    """Settlement of every invoice of `orders` (order ids, or a queryset of them such as
    `Invoice.objects.filter(…).values("order_id")`, which the database reads as a subquery),
    keyed by invoice id, in three queries."""
    rows = Invoice.objects.filter(order_id__in=orders).order_by("order_id", "issued_on", "number").values_list("pk", "order_id", "total")
    credited = dict(CreditNote.objects.filter(order_id__in=orders).values("invoice_id").annotate(s=Sum("total")).values_list("invoice_id", "s"))
    paid = {row["order_id"]: (row["p"] or ZERO) - (row["r"] or ZERO) for row in Payment.objects.filter(order_id__in=orders)
            .values("order_id").annotate(p=Sum("amount", filter=Q(kind=Payment.Kind.PAYMENT)), r=Sum("amount", filter=Q(kind=Payment.Kind.REFUND)))}
    by_order: dict[int, list] = {}
    for pk, order_id, total in rows:
        by_order.setdefault(order_id, []).append((pk, total, credited.get(pk, ZERO)))
    settled = {}
    for order_id, items in by_order.items():
        settled.update(settle(items, paid.get(order_id, ZERO)))
    return settled


def invoice_settlement(*, invoice) -> Settlement:
    return invoice_settlements(invoices=[invoice])[invoice.pk]


def invoices_open(queryset):
    """The invoices of `queryset` that still have something due. The database first keeps the
    orders whose invoices, net of credit notes, exceed what they were paid (none of a settled
    order's invoices is due, as `settle` pays them in turn); only those are settled here."""
    owing = _orders_owing(queryset.values("order_id"))
    return queryset.filter(pk__in=[pk for pk, s in order_settlements(orders=owing).items() if s.balance > 0])


def _orders_owing(order_ids):
    def total(model, field="total", **filters):
        rows = model.objects.filter(order_id=OuterRef("pk"), **filters).order_by().values("order_id").annotate(s=Sum(field)).values("s")
        return Coalesce(Subquery(rows), Value(ZERO), output_field=DecimalField(max_digits=16, decimal_places=2))

    return (SalesOrder.objects.filter(pk__in=order_ids)
            .annotate(invoiced=total(Invoice), credited=total(CreditNote), paid=total(Payment, "amount", kind=Payment.Kind.PAYMENT),
                      refunded=total(Payment, "amount", kind=Payment.Kind.REFUND))
            .filter(invoiced__gt=F("credited") + F("paid") - F("refunded")).order_by().values("pk"))


# --- The admin overview --------------------------------------------------------------------

LIVE_STATUSES = tuple(status for status in OrderStatus.values if status != OrderStatus.CANCELLED)


def orders_per_day(*, since, until) -> list[dict]:
    """Orders taken (all but cancelled ones) per calendar day of the current time zone and per
    currency, created in [since, until): rows of day, currency, orders, revenue. One query."""
    return list(
        SalesOrder.objects.filter(created_at__gte=since, created_at__lt=until, status__in=LIVE_STATUSES)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "currency").annotate(orders=Count("id"), revenue=Sum("total")).order_by("day", "currency")
    )


@dataclass(frozen=True)
class HoldKind:
    """A kind of reason the services give when they hold an order, recognised in its text (an
    order held for several problems has each of their kinds)."""

    code: str
    label: str
    q: Q


HOLD_KINDS = (
    HoldKind("unknown_sku", _("Unknown or inactive SKU"), Q(hold_reason__icontains="unknown SKU: ")),
    HoldKind("totals", _("Totals do not add up"), Q(hold_reason__icontains="totals do not add up")),
    HoldKind("credit_limit", _("Credit limit exceeded"), Q(hold_reason__icontains="credit limit exceeded")),
    HoldKind("price", _("Price differs from the hub's"), Q(hold_reason__icontains=", hub price ")),
    HoldKind("stock", _("Not enough stock"), Q(hold_reason__istartswith="insufficient stock: ")),
)
HOLD_OTHER = HoldKind("other", _("Other reason (held by a person or a system)"),
                      ~Q(*[kind.q for kind in HOLD_KINDS], _connector=Q.OR))


def hold_kinds() -> tuple[HoldKind, ...]:
    return (*HOLD_KINDS, HOLD_OTHER)


def orders_on_hold(queryset=None, *, kind: str | None = None):
    """Orders on hold, of one kind of reason when `kind` is given (unknown kinds: none)."""
    queryset = (SalesOrder.objects.all() if queryset is None else queryset).filter(status=OrderStatus.ON_HOLD)
    if kind is None:
        return queryset
    found = next((k for k in hold_kinds() if k.code == kind), None)
    return queryset.filter(found.q) if found else queryset.none()


def orders_on_hold_counts() -> dict[str, int]:
    """How many orders are on hold ("total") and how many for each kind of reason. One query."""
    return orders_on_hold().aggregate(total=Count("id"), **{kind.code: Count("id", filter=kind.q) for kind in hold_kinds()})


def invoices_overdue_by_currency(*, today) -> dict[str, tuple[int, Decimal]]:
    """Invoices due before `today` and not fully paid: currency → (how many, balance due).
    Four queries, which read only the orders still owing something."""
    owing = _orders_owing(Invoice.objects.filter(due_on__lt=today).values("order_id"))
    past_due = Invoice.objects.filter(due_on__lt=today, order_id__in=owing)
    settlements = order_settlements(orders=owing)
    overdue: dict[str, tuple[int, Decimal]] = {}
    for pk, currency in past_due.values_list("pk", "currency").order_by():
        balance = settlements[pk].balance
        if balance > 0:
            count, due = overdue.get(currency, (0, ZERO))
            overdue[currency] = (count + 1, due + balance)
    return dict(sorted(overdue.items()))


# --- Documents and how money and credit apply to them (for the accounting connectors) ----------

def orders_of(*, invoice_ids=(), credit_note_ids=(), payment_ids=()) -> dict[int, str]:
    """The orders (id → number) these invoices, credit notes and payments belong to."""
    orders: dict[int, str] = {}
    for model, ids in ((Invoice, invoice_ids), (CreditNote, credit_note_ids), (Payment, payment_ids)):
        ids = [int(i) for i in ids if str(i).isdigit()]
        for start in range(0, len(ids), 2000):
            orders.update(model.objects.filter(pk__in=ids[start:start + 2000]).values_list("order_id", "order__number"))
    return orders


def document_numbers(*, kind: str, ids, since=None) -> dict[int, str]:
    """Invoices or credit notes (`kind`) among `ids`, issued on or after `since` when given: id → number."""
    model = Invoice if kind == "invoice" else CreditNote
    ids = [int(i) for i in ids if str(i).isdigit()]
    found: dict[int, str] = {}
    for start in range(0, len(ids), 2000):
        rows = model.objects.filter(pk__in=ids[start:start + 2000])
        if since is not None:
            rows = rows.filter(issued_on__gte=since)
        found.update(rows.values_list("pk", "number"))
    return found


def documents_issued_since(*, since) -> tuple[dict[int, str], dict[int, str]]:
    """The invoices and credit notes issued on or after `since` (id → number), oldest first."""
    invoices = dict(Invoice.objects.filter(issued_on__gte=since).order_by("issued_on", "pk").values_list("pk", "number"))
    notes = dict(CreditNote.objects.filter(issued_on__gte=since).order_by("issued_on", "pk").values_list("pk", "number"))
    return invoices, notes


def orders_settled_since(*, since) -> list[int]:
    """Orders with an invoice or credit note issued on or after `since` (their payments, refunds
    and allocations may have to be sent)."""
    ids = set(Invoice.objects.filter(issued_on__gte=since).values_list("order_id", flat=True))
    ids |= set(CreditNote.objects.filter(issued_on__gte=since).values_list("order_id", flat=True))
    return sorted(ids)


@dataclass(frozen=True)
class Application:
    """Money or credit applied to a document: a `payment` (money in) to an invoice, an
    `allocation` of a credit note to its invoice, a `refund` (money out) of a credit note."""

    kind: str
    source_id: int  # the payment, credit note or refund
    target_id: int  # the invoice, invoice or credit note
    amount: Decimal

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.source_id}:{self.target_id}"


def applications_plan(events: list[tuple]) -> list[Application]:
    """How an order's money and credit apply to its documents, replayed in the order things
    happened. `events`: ("invoice", id, total, None) / ("credit_note", id, total, invoice id) /
    ("payment", id, amount, None) / ("refund", id, amount, None), in that order.

    An invoice takes money received and not yet applied; a payment goes to the invoices still due,
    oldest first, and waits for the next invoice otherwise; a credit note is allocated to its
    invoice for what is still due there, and the rest of its credit pays out refunds; a refund
    goes to credit notes with credit left, else gives back money never applied, else waits for
    the next credit note. Earlier applications never change when later documents come."""
    due: dict[int, Decimal] = {}
    credit: dict[int, Decimal] = {}
    unapplied: list[list] = []  # [payment id, amount left]
    waiting_refunds: list[list] = []  # [refund id, amount left]
    plan: list[Application] = []

    def pay(invoice_id):
        for item in unapplied:
            if due[invoice_id] <= 0:
                break
            amount = min(item[1], due[invoice_id])
            if amount > 0:
                plan.append(Application("payment", item[0], invoice_id, amount))
                item[1] -= amount
                due[invoice_id] -= amount
        unapplied[:] = [item for item in unapplied if item[1] > 0]

    def refund(note_id):
        for item in waiting_refunds:
            if credit[note_id] <= 0:
                break
            amount = min(item[1], credit[note_id])
            plan.append(Application("refund", item[0], note_id, amount))
            item[1] -= amount
            credit[note_id] -= amount
        waiting_refunds[:] = [item for item in waiting_refunds if item[1] > 0]

    for kind, pk, amount, invoice_id in events:
        if kind == "invoice":
            due[pk] = amount
            pay(pk)
        elif kind == "credit_note":
            allocated = min(amount, max(due.get(invoice_id, ZERO), ZERO))
            if allocated > 0:
                plan.append(Application("allocation", pk, invoice_id, allocated))
                due[invoice_id] -= allocated
            credit[pk] = amount - allocated
            refund(pk)
        elif kind == "payment":
            unapplied.append([pk, amount])
            for invoice in due:
                pay(invoice)
        elif kind == "refund":
            waiting_refunds.append([pk, amount])
            for note in credit:
                refund(note)
            for item in waiting_refunds:  # money given back that never settled a document
                for held in unapplied:
                    taken = min(item[1], held[1])
                    item[1] -= taken
                    held[1] -= taken
            waiting_refunds[:] = [item for item in waiting_refunds if item[1] > 0]
            unapplied[:] = [item for item in unapplied if item[1] > 0]
    return plan


def order_applications(*, order_ids) -> dict[int, list[Application]]:
    """`applications_plan` of each order, from its documents in the order they were created."""
    order_ids = sorted(set(order_ids))
    events: dict[int, list] = {pk: [] for pk in order_ids}
    rank = {"invoice": 0, "credit_note": 1, "payment": 2, "refund": 2}
    for start in range(0, len(order_ids), 2000):
        chunk = order_ids[start:start + 2000]
        for pk, order_id, total, created in Invoice.objects.filter(order_id__in=chunk).values_list("pk", "order_id", "total", "created_at"):
            events[order_id].append((created, rank["invoice"], pk, ("invoice", pk, total, None)))
        for pk, order_id, total, invoice_id, created in (CreditNote.objects.filter(order_id__in=chunk)
                                                         .values_list("pk", "order_id", "total", "invoice_id", "created_at")):
            events[order_id].append((created, rank["credit_note"], pk, ("credit_note", pk, total, invoice_id)))
        for pk, order_id, kind, amount, created in (Payment.objects.filter(order_id__in=chunk)
                                                    .values_list("pk", "order_id", "kind", "amount", "created_at")):
            name = "refund" if kind == Payment.Kind.REFUND else "payment"
            events[order_id].append((created, rank[name], pk, (name, pk, amount, None)))
    return {order_id: applications_plan([event for *_, event in sorted(items, key=lambda e: e[:3])])
            for order_id, items in events.items()}


# --- The channel's order rules, and what a warehouse holds or shipped for orders (3PL flows) --------

FULFILLABLE_STATUSES = {OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_SHIPPED}


_settings_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("channel_settings_memo", default=None)


@contextlib.contextmanager
def channel_settings_memo():
    """Inside this block (one order's import) each channel's order settings are read once."""
    token = _settings_memo.set({}) if _settings_memo.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _settings_memo.reset(token)


def channel_settings(channel) -> ChannelOrderSettings:
    memo = _settings_memo.get()
    if memo is not None and channel.pk in memo:
        return memo[channel.pk]
    found = ChannelOrderSettings.objects.filter(channel=channel).first() or ChannelOrderSettings(channel=channel)
    if memo is not None:
        memo[channel.pk] = found
    return found


def order_payment_allows_fulfilment(*, order) -> bool:
    """The channel's payment rule: paid or authorised, a B2B customer on terms, or a channel that
    confirms unpaid orders. Orders are confirmed, and handed to a warehouse, only under it."""
    on_terms = order.customer.type == Customer.Type.B2B and order.customer.payment_terms != PaymentTerms.IMMEDIATE
    return (order.payment_status in {PaymentStatus.AUTHORISED, PaymentStatus.PAID} or on_terms
            or channel_settings(order.channel).confirm_unpaid)


def order_ready_to_fulfil(*, order) -> bool:
    """Allocated (stock held) and paid as the channel requires: a warehouse may pick it."""
    return order.status in FULFILLABLE_STATUSES and order_payment_allows_fulfilment(order=order)


def orders_holding_stock_in(*, order_ids, warehouse_codes) -> dict[int, str]:
    """Of these orders, those with units reserved in one of these warehouses: {id: number}."""
    numbers = dict(SalesOrder.objects.filter(pk__in=list(order_ids)).order_by().values_list("number", "pk"))
    held = (Reservation.objects.filter(document__in=list(numbers), warehouse__code__in=list(warehouse_codes))
            .order_by().values_list("document", flat=True).distinct())
    return {numbers[number]: number for number in held}


def order_reserved_lines(*, order, warehouse_codes) -> dict[str, list[dict]]:
    """Per warehouse code, the order's units still reserved there, line by line:
    [{"line": OrderLine, "sku", "name", "quantity"}] in line order."""
    lines = {str(line.pk): line for line in order.lines.all()}
    held: dict[tuple[str, str], int] = {}
    for code, line_ref, quantity in (Reservation.objects.filter(document=order.number, warehouse__code__in=list(warehouse_codes))
                                     .values_list("warehouse__code", "line_ref").annotate(units=Sum("quantity"))):
        held[(code, line_ref)] = quantity
    parts: dict[str, list[dict]] = {}
    for (code, line_ref), quantity in sorted(held.items(), key=lambda item: (item[0][0], lines[item[0][1]].position)):
        line = lines[line_ref]
        parts.setdefault(code, []).append({"line": line, "sku": line.sku, "name": line.name, "quantity": quantity})
    return parts


def shipped_quantities(*, order_ids, warehouse_code) -> dict[tuple[int, str], int]:
    """(order id, SKU) → units the hub recorded as shipped from this warehouse."""
    rows = (ShipmentLine.objects.filter(shipment__order_id__in=list(order_ids), shipment__warehouse__code=warehouse_code)
            .values_list("shipment__order_id", "order_line__sku").annotate(units=Sum("quantity")))
    return {(order_id, sku): units for order_id, sku, units in rows}


OPEN_ORDER_STATUSES = {OrderStatus.RECEIVED, OrderStatus.CONFIRMED, OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.ON_HOLD}


def customer_exposure(*, customer, excluding=None) -> Decimal:
    """Open order value not yet invoiced plus unpaid invoices (credit-limit check)."""
    open_orders = SalesOrder.objects.filter(customer=customer, status__in=OPEN_ORDER_STATUSES - {OrderStatus.ON_HOLD}).exclude(
        pk=getattr(excluding, "pk", None))
    total = open_orders.aggregate(s=Sum("total"))["s"] or Decimal(0)
    invoiced = Invoice.objects.filter(order__in=open_orders).aggregate(s=Sum("total"))["s"] or Decimal(0)
    unpaid = sum((s.balance for s in invoice_settlements(invoices=Invoice.objects.filter(customer=customer).exclude(order__in=open_orders)).values()),
                 Decimal(0))
    return total - invoiced + unpaid


@dataclass(frozen=True)
class CustomerAccount:
    """What the customer's page shows: recent orders, what is still due, how much of the credit
    limit is used."""

    orders: list
    order_count: int
    open_orders: int
    open_balance: Decimal
    overdue_balance: Decimal
    exposure: Decimal
    credit_limit: Decimal | None
    credit_used_percent: int | None


def customer_account(*, customer, recent: int = 10, today=None) -> CustomerAccount:
    from django.utils import timezone

    today = today or timezone.localdate()
    orders = customer.orders.select_related("channel").order_by("-created_at", "-id")
    counts = customer.orders.aggregate(all=Count("pk"), open=Count("pk", filter=Q(status__in=OPEN_ORDER_STATUSES)))
    invoices = list(Invoice.objects.filter(customer=customer))
    settlements = invoice_settlements(invoices=Invoice.objects.filter(customer=customer))
    open_balance = sum((settlements[invoice.pk].balance for invoice in invoices if invoice.pk in settlements), ZERO)
    overdue = sum((settlements[invoice.pk].balance for invoice in invoices if invoice.pk in settlements and invoice.due_on < today), ZERO)
    exposure = customer_exposure(customer=customer)
    limit = customer.credit_limit
    used = int(exposure * 100 / limit) if limit else None
    return CustomerAccount(orders=list(orders[:recent]), order_count=counts["all"], open_orders=counts["open"], open_balance=open_balance,
                           overdue_balance=overdue, exposure=exposure, credit_limit=limit, credit_used_percent=used)
