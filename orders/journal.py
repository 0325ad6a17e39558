"""The journal: every invoice, credit note, payment and refund the hub issues, as a balanced
accounting entry. The FEC and the accounting connectors are both built from it.

Entries are computed from the documents, never stored: pure functions turn one document into
one entry with a `Books` (the account plan and journal codes, loaded once), and
`journal_entries` selects the documents of a period. See docs/accounting.md.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from hub.money import round_money
from orders.models import Account, AccountAssignment, CompanySettings, CreditNote, Invoice, LineKind, Payment

ZERO = Decimal(0)
Role = AccountAssignment.Role
REVENUE_ROLE = {LineKind.GOODS: Role.GOODS, LineKind.SHIPPING: Role.SHIPPING, LineKind.FEE: Role.FEES, LineKind.DISCOUNT: Role.DISCOUNT}
SALES, BANK = "sales", "bank"


class JournalError(ValueError):
    """The books cannot be written as they are configured (with what to change)."""


@dataclass(frozen=True)
class JournalLine:
    account: str
    account_label: str
    debit: Decimal
    credit: Decimal
    auxiliary: str = ""
    auxiliary_label: str = ""


@dataclass(frozen=True)
class JournalEntry:
    journal: str  # SALES or BANK; `Books.journal_code` gives its code
    date: date
    piece_ref: str
    piece_date: date
    label: str
    currency: str
    lines: tuple[JournalLine, ...]
    source: str  # "invoice:<id>", "credit_note:<id>", "payment:<id>"

    @property
    def debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)

    @property
    def credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)


@dataclass(frozen=True)
class Books:
    """The account plan and journals, as plain data: `assignments` maps (role, tax rate or None,
    payment method or "") to (account number, label)."""

    assignments: dict
    journals: dict  # SALES/BANK -> (code, label)
    currency: str = "EUR"

    def account(self, role, *, rate: Decimal | None = None, methods: tuple[str, ...] = ()) -> tuple[str, str]:
        keys = [(role, rate, method) for method in methods] + [(role, rate, "")]
        if rate is not None:
            keys += [(role, None, method) for method in methods] + [(role, None, "")]
        for key in keys:
            if key in self.assignments:
                return self.assignments[key]
        raise JournalError(_("No account is assigned to “%(role)s”: add one in admin › Account assignments.") % {"role": Role(role).label})

    def journal_code(self, journal: str) -> str:
        return self.journals[journal][0]

    def journal_label(self, journal: str) -> str:
        return self.journals[journal][1]


def books_load() -> Books:
    company = CompanySettings.objects.first() or CompanySettings()
    accounts = {a.pk: (a.number, a.label) for a in Account.objects.all()}
    assignments = {(a.role, a.tax_rate, a.payment_method): accounts[a.account_id] for a in AccountAssignment.objects.all()}
    return Books(assignments=assignments, currency=company.currency,
                 journals={SALES: (company.sales_journal_code, company.sales_journal_label),
                           BANK: (company.bank_journal_code, company.bank_journal_label)})


# --- Documents to entries (pure) ----------------------------------------------------------------

def _side(account: tuple[str, str], amount: Decimal, *, debit: bool, auxiliary=("", "")) -> JournalLine:
    """A line of `amount` on the debit (or credit) side; a negative amount goes to the other side."""
    if amount < 0:
        amount, debit = -amount, not debit
    return JournalLine(account=account[0], account_label=account[1], debit=amount if debit else ZERO,
                       credit=ZERO if debit else amount, auxiliary=auxiliary[0], auxiliary_label=auxiliary[1])


def line_rate(line, document_lines, *, prices_include_tax: bool) -> Decimal:
    """The VAT rate of a line. Lines written without a rate but with tax (a channel's taxed
    shipping) take the rate of the document's goods that reproduces their tax, else the rate
    of the document's largest goods amount (in France the accessory follows the principal)."""
    if line.tax_rate or not line.tax_amount:
        return line.tax_rate
    goods = [l for l in document_lines if l.kind == LineKind.GOODS and l.tax_rate]
    if not goods:
        return line.tax_rate
    base = line.line_total - line.tax_amount if prices_include_tax else line.line_total
    for rate in sorted({l.tax_rate for l in goods}, reverse=True):
        if base and abs(base * rate - line.tax_amount) <= Decimal("0.01"):
            return rate
    return max(goods, key=lambda l: abs(l.line_total)).tax_rate


def _product_lines(lines, *, prices_include_tax: bool, currency: str, books: Books, sales_side_debit: bool) -> list[JournalLine]:
    """Revenue per account and tax rate, and VAT per rate, of a document's lines."""
    revenue, vat = defaultdict(lambda: ZERO), defaultdict(lambda: ZERO)
    for line in lines:
        rate = line_rate(line, lines, prices_include_tax=prices_include_tax)
        net = line.line_total - line.tax_amount if prices_include_tax else line.line_total
        revenue[(books.account(REVENUE_ROLE[line.kind], rate=rate), rate)] += net
        vat[(books.account(Role.VAT, rate=rate), rate)] += line.tax_amount
    out = []
    for groups in (revenue, vat):
        for (account, _rate), amount in sorted(groups.items(), key=lambda item: (item[0][0][0], item[0][1])):
            amount = round_money(amount, currency)
            if amount:
                out.append(_side(account, amount, debit=sales_side_debit))
    return out


def _customer(customer) -> tuple[str, str]:
    return customer.code, customer.company or customer.name


def _balanced(entry: JournalEntry) -> JournalEntry | None:
    if not entry.lines:
        return None
    if entry.debit != entry.credit:
        raise JournalError(f"{entry.piece_ref}: the entry does not balance (debit {entry.debit}, credit {entry.credit})")
    return entry


def invoice_entry(invoice, *, lines, prices_include_tax: bool, customer, books: Books) -> JournalEntry | None:
    """Debit the customer's receivable with the invoice total; credit revenue per account and
    tax rate (goods, shipping, fees; discounts come out on the debit side) and VAT per rate."""
    receivable = books.account(Role.RECEIVABLE)
    body = [_side(receivable, invoice.total, debit=True, auxiliary=_customer(customer))] if invoice.total else []
    body += _product_lines(lines, prices_include_tax=prices_include_tax, currency=invoice.currency, books=books, sales_side_debit=False)
    return _balanced(JournalEntry(journal=SALES, date=invoice.issued_on, piece_ref=invoice.number, piece_date=invoice.issued_on,
                                  label=f"Facture {invoice.number} {_customer(customer)[1]}", currency=invoice.currency,
                                  lines=tuple(body), source=f"invoice:{invoice.pk}"))


def credit_note_entry(note, *, lines, prices_include_tax: bool, customer, books: Books) -> JournalEntry | None:
    """The invoice's entry reversed for what the credit note credits."""
    receivable = books.account(Role.RECEIVABLE)
    body = [_side(receivable, note.total, debit=False, auxiliary=_customer(customer))] if note.total else []
    body += _product_lines(lines, prices_include_tax=prices_include_tax, currency=note.currency, books=books, sales_side_debit=True)
    return _balanced(JournalEntry(journal=SALES, date=note.issued_on, piece_ref=note.number, piece_date=note.issued_on,
                                  label=f"Avoir {note.number} {_customer(customer)[1]}", currency=note.currency,
                                  lines=tuple(body), source=f"credit_note:{note.pk}"))


def payment_entry(payment, *, order, customer, books: Books, paid_with: str = "") -> JournalEntry:
    """Money in: debit the account of the payment method (or of the order's channel), credit
    the customer's receivable; a refund the other way round. A refund goes back the way the
    order was paid (`paid_with`) unless its own method has an account."""
    methods = tuple(m for m in (payment.method, paid_with if payment.kind == Payment.Kind.REFUND else "", order.channel.code) if m)
    money = books.account(Role.PAYMENT, methods=methods)
    incoming = payment.kind == Payment.Kind.PAYMENT
    reference = payment.reference or order.number
    label = f"{'Règlement' if incoming else 'Remboursement'} {order.number} {_customer(customer)[1]} ({payment.method})"
    return _balanced(JournalEntry(
        journal=BANK, date=payment.received_on, piece_ref=reference[:100], piece_date=payment.received_on, label=label,
        currency=payment.currency, source=f"payment:{payment.pk}",
        lines=(_side(money, payment.amount, debit=incoming),
               _side(books.account(Role.RECEIVABLE), payment.amount, debit=not incoming, auxiliary=_customer(customer))),
    ))


# --- Selector ------------------------------------------------------------------------------------

KIND_ORDER = {"invoice": 0, "credit_note": 1, "payment": 2}


def _sort_key(entry: JournalEntry):
    kind, pk = entry.source.split(":")
    return entry.date, entry.journal != SALES, KIND_ORDER[kind], entry.piece_ref, int(pk)


def journal_entries(*, date_from: date, date_to: date, books: Books | None = None) -> list[JournalEntry]:
    """Every entry dated within [date_from, date_to], in chronological order (date, then sales
    before bank, then invoices, credit notes, payments, then by number): the same documents
    always give the same entries in the same order."""
    books = books or books_load()
    entries = []
    invoices = (Invoice.objects.filter(issued_on__range=(date_from, date_to)).select_related("customer", "order")
                .prefetch_related("lines"))
    for invoice in invoices:
        entries.append(invoice_entry(invoice, lines=list(invoice.lines.all()), prices_include_tax=invoice.order.prices_include_tax,
                                     customer=invoice.customer, books=books))
    notes = (CreditNote.objects.filter(issued_on__range=(date_from, date_to)).select_related("invoice__customer", "order")
             .prefetch_related("lines"))
    for note in notes:
        entries.append(credit_note_entry(note, lines=list(note.lines.all()), prices_include_tax=note.order.prices_include_tax,
                                         customer=note.invoice.customer, books=books))
    payments = list(Payment.objects.filter(received_on__range=(date_from, date_to)).select_related("order__customer", "order__channel"))
    refunded_orders = {p.order_id for p in payments if p.kind == Payment.Kind.REFUND}
    paid_with = {}
    for order_id, method in (Payment.objects.filter(order_id__in=refunded_orders, kind=Payment.Kind.PAYMENT)
                             .order_by("-received_on", "-pk").values_list("order_id", "method")):
        paid_with[order_id] = method  # the earliest payment's method, as rows come newest first
    for payment in payments:
        entries.append(payment_entry(payment, order=payment.order, customer=payment.order.customer, books=books,
                                     paid_with=paid_with.get(payment.order_id, "")))
    return sorted((e for e in entries if e is not None), key=_sort_key)


def entries_numbered(entries: list[JournalEntry]) -> list[tuple[int, JournalEntry]]:
    """Number each journal's entries 1, 2, 3… in the order given (chronological): no gaps."""
    counters: dict[str, int] = defaultdict(int)
    numbered = []
    for entry in entries:
        counters[entry.journal] += 1
        numbered.append((counters[entry.journal], entry))
    return numbered
