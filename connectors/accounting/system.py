"""What an accounting system supplies: its protocol, as hooks the accounting flows call.

The flows (`connectors.accounting.flows`) are written once and driven by the documents the hub
issues; each accounting package subclasses `AccountingSystem` and implements the hooks below with
its client and its pure mapping functions. Documents reach the hooks as plain data
(`SalesDocument`, `ApplicationDocument`), already carrying the hub's accounts and tax rates."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from connectors.errors import RefusedData
from connectors.options import ConnectorSettings, MappingField
from connectors.registry import Connector
from hub.texts import Text

EVENT, DAILY = "event", "daily"


def _hub_accounts():
    from orders.models import Account

    return Account.objects.values_list("number", flat=True)


def percent_key(value) -> Decimal:
    """A tax rate written in percent ("20", "5.5", "5,5 %") as a fraction (0.2, 0.055)."""
    try:
        return (Decimal(str(value).replace("%", "").replace(",", ".").strip()) / 100).normalize()
    except InvalidOperation:
        raise RefusedData(Text(gettext_noop("%(value)s is not a tax rate in percent"), value=repr(value))) from None


class AccountingSettings(ConnectorSettings):
    mode = forms.ChoiceField(
        choices=[(EVENT, _("As each document is issued")), (DAILY, _("Once a day, in one batch"))], initial=EVENT, required=False,
        label=_("When documents are sent"),
        help_text=_("Event-driven: each invoice, credit note, payment or refund queues its sync as it is issued. Daily: "
                    "everything due is sent in one run a day. `hub_endpoint sync` sends what is due now, in either mode."))
    start_date = forms.DateField(
        required=False, label=_("Send documents issued from"),
        help_text=_("Older documents are never sent (they are in the books already). Empty: the day the endpoint was added."))
    accounts = MappingField(
        known_codes=_hub_accounts, code_label=_("hub account number(s)"), label=_("Account codes"),
        help_text=_("Hub account number → the accounting system's account code, one pair per line (e.g. 707100=200, 512000=090). "
                    "An account not listed keeps the hub's number (admin › Accounts)."))
    tax_codes = MappingField(
        code_label=_("tax rate(s)"), label=_("Tax codes"),
        help_text=_("VAT rate in percent → the accounting system's tax code, one pair per line (e.g. 20=OUTPUT2, 5.5=TAX002). "
                    "A rate not listed takes the system's only active sales tax code at that rate."))
    token_url = forms.URLField(required=False, assume_scheme="https", label=_("OAuth token URL"),
                               help_text=_("The identity server that rotates the access and refresh tokens."))

    def clean_tax_codes(self):
        codes = self.cleaned_data.get("tax_codes") or {}
        for rate in codes:
            try:
                percent_key(rate)
            except RefusedData as exc:
                raise ValidationError(exc.text.shown() if exc.text else str(exc)) from None
        return codes


@dataclass(frozen=True)
class DocumentLine:
    description: str
    quantity: int
    amount: Decimal  # the line's total as the hub has it (tax included when the document's prices include tax)
    tax_amount: Decimal
    rate: Decimal  # VAT rate as a fraction (0.2)
    account: str  # the account code in the accounting system
    tax_code: str  # the tax code in the accounting system
    kind: str = "goods"
    sku: str = ""

    @property
    def net(self) -> Decimal:
        return self.amount - self.tax_amount


@dataclass(frozen=True)
class SalesDocument:
    """An invoice or credit note as the accounting flows hand it to a system."""

    kind: str  # "invoice" or "credit_note"
    number: str
    issued_on: date
    due_on: date
    currency: str
    prices_include_tax: bool
    lines: tuple[DocumentLine, ...]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    reference: str  # the order number
    invoice_number: str = ""  # a credit note's invoice


@dataclass(frozen=True)
class ApplicationDocument:
    """Money or credit applied to a document, as the payload of a job (editable in the console).
    `kind`: payment (money in → invoice), allocation (credit note → invoice), refund (money out ← credit note)."""

    key: str
    kind: str
    amount: Decimal
    currency: str
    on: date
    target_kind: str  # "invoice" or "credit_note"
    target_number: str
    target_external_id: str
    source_external_id: str = ""  # the credit note of an allocation
    account: str = ""  # money received or paid out (payments, refunds)
    reference: str = ""
    contact_external_id: str = ""

    @classmethod
    def from_payload(cls, data: dict, **ids) -> "ApplicationDocument":
        values = {**data, **ids}
        values["amount"] = Decimal(str(values["amount"]))
        values["on"] = date.fromisoformat(str(values["on"]))
        return cls(**{name: values.get(name, "") for name in cls.__dataclass_fields__})


@dataclass
class Found:
    """A record in the accounting system: its id, the answer, and data kept on the binding."""

    external_id: str
    answer: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)


def idempotency_key(kind: str, local_id, body) -> str:
    """The same request body for the same record always gets the same key (a retry never makes a
    second document); an edited body gets a new one. Short enough for every system (≤ 50)."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{kind[:12]}-{local_id}-{digest}"[:50]


class AccountingSystem(Connector):
    """An accounting system the hub's invoices, credit notes, payments and refunds go to."""

    needs_channel = False
    settings_form = AccountingSettings
    credential_names = ("client_id", "client_secret", "refresh_token")

    def __init__(self):
        from connectors.accounting.flows import ACCOUNTING_FLOWS

        self.flows = ACCOUNTING_FLOWS

    # --- kernel hook ---------------------------------------------------------------------------
    def sync_due(self, *, endpoint) -> int:
        from connectors.accounting.flows import queue_due

        return queue_due(endpoint)

    # --- the system's tax codes ----------------------------------------------------------------
    def tax_rates(self, ctx) -> dict[str, Decimal]:
        """Active sales tax codes → their rate as a fraction."""
        raise NotImplementedError

    # --- contacts ------------------------------------------------------------------------------
    def contact_body(self, customer) -> dict:
        raise NotImplementedError

    def contact_find(self, ctx, *, body: dict) -> Found | None:
        raise NotImplementedError

    def contact_create(self, ctx, *, body: dict, key: str) -> Found:
        raise NotImplementedError

    def contact_update(self, ctx, *, external_id: str, body: dict, key: str, data: dict) -> Found:
        raise NotImplementedError

    # --- invoices and credit notes -------------------------------------------------------------
    def document_body(self, ctx, document: SalesDocument) -> dict:
        """The system's document (without its contact, added when it is created)."""
        raise NotImplementedError

    def document_totals(self, body: dict, *, rates: dict[str, Decimal], currency: str) -> tuple[Decimal, Decimal]:
        """(total, tax) as the system will compute them for `body`, rounding as it does."""
        raise NotImplementedError

    def document_find(self, ctx, *, kind: str, number: str) -> Found | None:
        raise NotImplementedError

    def document_create(self, ctx, *, kind: str, body: dict, contact_id: str, key: str) -> Found:
        raise NotImplementedError

    def answer_totals(self, answer: dict) -> tuple[Decimal, Decimal]:
        """(total, tax) of a created document as the system answered it."""
        raise NotImplementedError

    # --- payments, allocations, refunds --------------------------------------------------------
    def application_find(self, ctx, *, application: ApplicationDocument) -> Found | None:
        raise NotImplementedError

    def application_create(self, ctx, *, application: ApplicationDocument, key: str) -> Found:
        raise NotImplementedError
