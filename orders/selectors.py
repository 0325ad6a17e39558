"""Reads of orders used by more than one caller."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from orders.models import CreditNote, Invoice, Payment

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
    rows = Invoice.objects.filter(order_id__in=order_ids).order_by("order_id", "issued_on", "number").values_list("pk", "order_id", "total")
    credited = dict(CreditNote.objects.filter(order_id__in=order_ids).values("invoice_id").annotate(s=Sum("total")).values_list("invoice_id", "s"))
    paid = {row["order_id"]: (row["p"] or ZERO) - (row["r"] or ZERO) for row in Payment.objects.filter(order_id__in=order_ids)
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
    """The invoices of `queryset` that still have something due."""
    return queryset.filter(pk__in=[pk for pk, s in invoice_settlements(invoices=queryset).items() if s.balance > 0])
