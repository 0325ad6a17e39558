"""Hub documents ↔ QuickBooks Online entities (pure functions).

Facts from Intuit's documentation and the entity schemas (QuickBooks-V3-Java-SDK XSDs): sales
lines are `SalesItemLineDetail` lines naming an Item (whose income account books the sale) and,
outside the US, a `TaxCodeRef`; QuickBooks computes each tax rate's tax on the sum of the lines at
that rate (`TxnTaxDetail.TaxLine`, `NetAmountTaxable`), not line by line, and keeps tax amounts a
transaction states for its rates (the difference shows as `OverrideDeltaAmount`). The hub rounds
tax per line, so documents go out tax-exclusive with each rate's tax as the hub has it: totals
agree to the cent. A credit memo is applied to an invoice by a zero payment linking both; a
refund paid out of a credit memo is a journal entry (receivable debited for the customer, the
money account credited)."""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from connectors.accounting.system import ApplicationDocument, SalesDocument

ENTITIES = {"invoice": "Invoice", "credit_note": "CreditMemo"}
CENT = Decimal("0.01")


def money(value) -> Decimal:
    return Decimal(str(value if value is not None else 0))


def quoted(value: str) -> str:
    """A string literal of Intuit's query language."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def display_name(customer) -> str:
    return f"{customer.company or customer.name} ({customer.code})"[:500]


def customer_body(customer) -> dict:
    body = {"DisplayName": display_name(customer), "CompanyName": customer.company or "", "PrimaryEmailAddr": {"Address": customer.email or ""}}
    if customer.company and customer.name:
        body["GivenName"] = customer.name[:100]
    return body


def document_body(document: SalesDocument, *, tax_rate_ids: dict[str, str]) -> dict:
    """Lines at their amount net of tax, each rate's tax stated as the hub computed it."""
    per_rate: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    lines = []
    for line in document.lines:
        net = line.net if document.prices_include_tax else line.amount
        lines.append({"DetailType": "SalesItemLineDetail", "Amount": float(net), "Description": line.description[:4000],
                      "SalesItemLineDetail": {"ItemRef": {"value": line.account}, "Qty": line.quantity,
                                              "UnitPrice": float((net / line.quantity).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)),
                                              "TaxCodeRef": {"value": line.tax_code}}})
        per_rate[line.tax_code][0] += net
        per_rate[line.tax_code][1] += line.tax_amount
    tax_lines = [{"DetailType": "TaxLineDetail", "Amount": float(tax),
                  "TaxLineDetail": {"TaxRateRef": {"value": tax_rate_ids.get(code, code)}, "PercentBased": True, "NetAmountTaxable": float(net)}}
                 for code, (net, tax) in sorted(per_rate.items())]
    return {"DocNumber": document.number[:21], "TxnDate": document.issued_on.isoformat(), "CurrencyRef": {"value": document.currency},
            "GlobalTaxCalculation": "TaxExcluded", "Line": lines, "PrivateNote": f"{document.reference} {document.invoice_number}".strip(),
            "TxnTaxDetail": {"TotalTax": float(sum((tax for _, tax in per_rate.values()), Decimal(0))), "TaxLine": tax_lines},
            **({"DueDate": document.due_on.isoformat()} if document.kind == "invoice" else {})}


def totals(body: dict, rates_by_rate_id: dict[str, Decimal]) -> tuple[Decimal, Decimal]:
    """(total, tax) as QuickBooks computes them: per rate on the sum of its lines, unless stated."""
    net = sum((money(line.get("Amount")) for line in body.get("Line") or [] if line.get("DetailType") == "SalesItemLineDetail"), Decimal(0))
    stated = (body.get("TxnTaxDetail") or {}).get("TaxLine")
    if stated:
        tax = sum((money(line.get("Amount")) for line in stated), Decimal(0))
    else:
        per_rate: dict[str, Decimal] = defaultdict(Decimal)
        for line in body.get("Line") or []:
            detail = line.get("SalesItemLineDetail") or {}
            per_rate[(detail.get("TaxCodeRef") or {}).get("value", "")] += money(line.get("Amount"))
        tax = sum(((amount * rates_by_rate_id.get(code, Decimal(0))).quantize(CENT, rounding=ROUND_HALF_UP)
                   for code, amount in per_rate.items()), Decimal(0))
    return net + tax, tax


def payment_body(application: ApplicationDocument, *, account_id: str) -> dict:
    return {"CustomerRef": {"value": application.contact_external_id}, "TotalAmt": float(application.amount),
            "TxnDate": application.on.isoformat(), "PaymentRefNum": application.key[:21], "DepositToAccountRef": {"value": account_id},
            "CurrencyRef": {"value": application.currency}, "PrivateNote": application.reference,
            "Line": [{"Amount": float(application.amount), "LinkedTxn": [{"TxnId": application.target_external_id, "TxnType": "Invoice"}]}]}


def allocation_body(application: ApplicationDocument) -> dict:
    """A credit memo applied to an invoice: a payment of 0 linking both for the amount."""
    return {"CustomerRef": {"value": application.contact_external_id}, "TotalAmt": 0, "TxnDate": application.on.isoformat(),
            "PaymentRefNum": application.key[:21], "CurrencyRef": {"value": application.currency},
            "Line": [{"Amount": float(application.amount), "LinkedTxn": [{"TxnId": application.target_external_id, "TxnType": "Invoice"}]},
                     {"Amount": float(application.amount), "LinkedTxn": [{"TxnId": application.source_external_id, "TxnType": "CreditMemo"}]}]}


def refund_body(application: ApplicationDocument, *, receivable_id: str, account_id: str) -> dict:
    entity = {"Type": "Customer", "EntityRef": {"value": application.contact_external_id}}
    line = {"DetailType": "JournalEntryLineDetail", "Amount": float(application.amount),
            "Description": f"Refund of {application.target_number} ({application.reference})"}
    return {"DocNumber": application.key[:21], "TxnDate": application.on.isoformat(), "CurrencyRef": {"value": application.currency},
            "PrivateNote": f"{application.target_number} [{application.key}]",
            "Line": [{**line, "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": receivable_id}, "Entity": entity}},
                     {**line, "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"value": account_id}}}]}
