"""Hub documents ↔ Xero Accounting API bodies (pure functions).

Facts from Xero's OpenAPI description (`xero_accounting.yaml`) and its guide "Rounding in Xero":
invoices are `ACCREC` and credit notes `ACCRECCREDIT`; line amounts are tax-inclusive or
exclusive per document (`LineAmountTypes`); Xero computes each line's tax from its amount and
the tax type's rate, rounds it to 2 decimals (half away from zero) and sums the lines; a line's
`TaxAmount` may be given to override that. Dates go out as `YYYY-MM-DD` and come back as
`/Date(milliseconds+zone)/`."""

import re
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_noop

from connectors.accounting.system import ApplicationDocument, SalesDocument
from connectors.errors import RefusedData
from hub.texts import Text

TYPES = {"invoice": "ACCREC", "credit_note": "ACCRECCREDIT"}
NUMBER_FIELDS = {"invoice": "InvoiceNumber", "credit_note": "CreditNoteNumber"}
ID_FIELDS = {"invoice": "InvoiceID", "credit_note": "CreditNoteID"}
COLLECTIONS = {"invoice": "Invoices", "credit_note": "CreditNotes"}
CENT = Decimal("0.01")
_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


def money(value) -> Decimal:
    return Decimal(str(value if value is not None else 0))


def xero_datetime(text: str) -> datetime:
    """`/Date(1552262400000+0000)/` → an aware datetime (the offset is the zone it is shown in)."""
    match = _MS_DATE.fullmatch(str(text).strip())
    if not match:
        raise RefusedData(Text(gettext_noop("not a Xero date: %(text)s"), text=repr(text)))
    instant = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=int(match.group(1)))
    offset = match.group(2)
    if offset:
        sign = 1 if offset[0] == "+" else -1
        instant = instant.astimezone(timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:]))))
    return instant


def xero_date(text: str) -> date:
    return xero_datetime(text).date()


def as_xero_date(day: date, zone_offset: str = "+0000") -> str:
    milliseconds = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() * 1000)
    return f"/Date({milliseconds}{zone_offset})/"


def line_tax(amount: Decimal, rate: Decimal, *, inclusive: bool) -> Decimal:
    """Xero's tax of one line, rounded to the cent."""
    tax = amount * rate / (1 + rate) if inclusive else amount * rate
    return tax.quantize(CENT, rounding=ROUND_HALF_UP)


def totals(body: dict, rates: dict[str, Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    """(SubTotal, TotalTax, Total) as Xero computes them for `body`."""
    inclusive = body.get("LineAmountTypes") == "Inclusive"
    no_tax = body.get("LineAmountTypes") == "NoTax"
    amounts, taxes = Decimal(0), Decimal(0)
    for line in body.get("LineItems") or []:
        amount = money(line.get("LineAmount") if line.get("LineAmount") is not None
                       else (money(line.get("Quantity", 1)) * money(line.get("UnitAmount"))).quantize(CENT, rounding=ROUND_HALF_UP))
        if no_tax:
            tax = Decimal(0)
        elif line.get("TaxAmount") is not None:
            tax = money(line["TaxAmount"])
        else:
            tax = line_tax(amount, rates.get(line.get("TaxType"), Decimal(0)), inclusive=inclusive)
        amounts += amount
        taxes += tax
    subtotal = amounts - taxes if inclusive else amounts
    return subtotal, taxes, subtotal + taxes


def contact_body(customer) -> dict:
    """Contact names are unique in a Xero organisation: the customer's code goes with the name.
    `ContactNumber` (settable only through the API) is the customer's code, for finding it again."""
    body = {"Name": f"{customer.company or customer.name} ({customer.code})"[:255], "ContactNumber": customer.code[:50],
            "AccountNumber": customer.code[:50], "EmailAddress": customer.email or ""}
    if customer.vat_number:
        body["TaxNumber"] = customer.vat_number
    if customer.company and customer.name and customer.company != customer.name:
        body["ContactPersons"] = [{"FirstName": customer.name, "EmailAddress": customer.email or ""}]
    return body


def document_body(document: SalesDocument) -> dict:
    """An invoice or credit note, authorised, numbered as the hub numbered it. Each line is its
    quantity and amount (Xero derives the unit amount), account code and tax type."""
    body = {"Type": TYPES[document.kind], NUMBER_FIELDS[document.kind]: document.number,
            "Reference": document.reference if document.kind == "invoice" else f"{document.invoice_number} {document.reference}",
            "Date": document.issued_on.isoformat(), "CurrencyCode": document.currency, "Status": "AUTHORISED",
            "LineAmountTypes": "Inclusive" if document.prices_include_tax else "Exclusive",
            "LineItems": [{"Description": line.description[:4000] or line.kind, "Quantity": line.quantity, "LineAmount": float(line.amount),
                           "AccountCode": line.account, "TaxType": line.tax_code} for line in document.lines]}
    if document.kind == "invoice":
        body["DueDate"] = document.due_on.isoformat()
    return body


def application_reference(application: ApplicationDocument) -> str:
    """The payment's reference with the hub's key, so a payment is found again by it."""
    return f"{application.reference} [{application.key}]"[-255:]


def payment_body(application: ApplicationDocument) -> dict:
    """A payment of an invoice (money in) or of a credit note (a refund, money out)."""
    target = {"Invoice": {"InvoiceID": application.target_external_id}} if application.target_kind == "invoice" \
        else {"CreditNote": {"CreditNoteID": application.target_external_id}}
    return {**target, "Account": {"Code": application.account}, "Date": application.on.isoformat(), "Amount": float(application.amount),
            "Reference": application_reference(application)}


def allocation_body(application: ApplicationDocument) -> dict:
    return {"Allocations": [{"Invoice": {"InvoiceID": application.target_external_id}, "Amount": float(application.amount),
                             "Date": application.on.isoformat()}]}
