"""A Xero organisation on localhost, speaking the Accounting API 2.0 as Xero's OpenAPI
description (XeroAPI/Xero-OpenAPI `xero_accounting.yaml`) and its developer guides describe it:

- OAuth 2.0: `POST /connect/token` (`grant_type=refresh_token`, client id and secret in Basic
  auth) answers a 30-minute access token and a new refresh token; a refresh token is single-use
  (a spent one is `invalid_grant`). API calls need `Authorization: Bearer` and the organisation's
  `xero-tenant-id` (401 `TokenExpired` / `AuthenticationUnsuccessful`, 403 for another tenant).
- `Organisation`, `TaxRates`, `Accounts`; `Contacts` (`PUT` creates, `POST /Contacts/<id>`
  updates, names unique); `Invoices` (`ACCREC`) and `CreditNotes` (`ACCRECCREDIT`) with their
  numbers unique, line items checked against the chart of accounts and tax rates, tax computed
  per line and rounded to the cent (half away from zero) unless a line gives its `TaxAmount`,
  totals, `AmountDue`/`AmountPaid`/`AmountCredited`, `RemainingCredit`; allocations of credit
  notes to invoices (`PUT /CreditNotes/<id>/Allocations`); payments of invoices and refunds of
  credit notes (`PUT /Payments`) into bank accounts, never more than what is outstanding. Filters
  `InvoiceNumbers`, `IDs` and `where` (`Field=="value"` joined by `AND`).
- Dates come back as `/Date(milliseconds+0000)/` with `…String` siblings.
- Validation errors: 400 `{"ErrorNumber": 10, "Type": "ValidationException", "Message": "A
  validation exception occurred", "Elements": [{…, "ValidationErrors": [{"Message": …}]}]}`.
- `Idempotency-Key`: a create repeated with the same key answers the first answer again.
- Limits per organisation: 60 calls a minute and 5 000 a day (configurable), announced on every
  answer (`X-MinLimit-Remaining`, `X-DayLimit-Remaining`, `X-AppMinLimit-Remaining`); over one,
  429 with `Retry-After` and `X-Rate-Limit-Problem` (`minute` or `day`).

Control API: `GET /_sandbox/books` (every document, for tests and the demo), `POST
/_sandbox/limits` (`{"day_remaining": 0}` spends the day), `POST /_sandbox/tokens/expire`,
`POST /_sandbox/contacts/<id>/rename` (a person edits a contact in Xero).
Standard library and the harness only: no hub code, no Django."""

import argparse
import json
import os
import re
import uuid
from base64 import b64decode
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from connectors.testing.harness import Abort, FixedWindow, Request, Sandbox, control, json_response, retry_after_seconds, route

API = "/api.xro/2.0"
ACCESS_SECONDS, REFRESH_DAYS = 1800, 60
CENT = Decimal("0.01")
STORED = ("contacts", "invoices", "credit_notes", "payments", "idempotent")
ENTITY_IDS = {"Invoices": "InvoiceID", "CreditNotes": "CreditNoteID", "Contacts": "ContactID", "Payments": "PaymentID"}

DEFAULT_TAX_RATES = [  # TaxType, name, percent, usable on sales
    ("OUTPUT2", "TVA 20 % (ventes)", "20", True), ("TAX001", "TVA 10 % (ventes)", "10", True),
    ("TAX002", "TVA 5,5 % (ventes)", "5.5", True), ("TAX003", "TVA 2,1 % (ventes)", "2.1", True),
    ("ZERORATEDOUTPUT", "Exonéré / 0 %", "0", True), ("INPUT2", "TVA 20 % (achats)", "20", False),
]
DEFAULT_ACCOUNTS = [  # Code, name, type
    ("707000", "Ventes de marchandises", "REVENUE"), ("707100", "Ventes de marchandises TVA 20 %", "REVENUE"),
    ("707200", "Ventes de marchandises TVA 10 %", "REVENUE"), ("707300", "Ventes de marchandises TVA 5,5 %", "REVENUE"),
    ("707400", "Ventes de marchandises TVA 2,1 %", "REVENUE"), ("708500", "Ports et frais accessoires facturés", "REVENUE"),
    ("708800", "Autres produits d'activités annexes", "REVENUE"), ("709700", "Rabais, remises et ristournes accordés", "REVENUE"),
    ("200", "Sales", "REVENUE"), ("512000", "Banque", "BANK"), ("511200", "Chèques à encaisser", "BANK"),
    ("511500", "Cartes bancaires à encaisser", "BANK"), ("467100", "Prestataires de paiement et places de marché", "BANK"),
    ("090", "Business Bank Account", "BANK"),
]


def _money(value) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{value!r} is not a number") from None


def _ms(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def _day(text: str) -> date:
    return date.fromisoformat(str(text)[:10])


def _num(value: Decimal) -> float:
    return float(value)


class XeroSandbox(Sandbox):
    name = "xero"

    def __init__(self, *, client_id: str, client_secret: str, refresh_token: str, tenant_id: str, minute_limit: int = 60,
                 day_limit: int = 5000, base_currency: str = "EUR", state_file: str = "", accept_unknown_refresh: bool = False, **kwargs):
        """`state_file` keeps the books across restarts (the demo); `accept_unknown_refresh` lets a
        restarted sandbox take the refresh token the hub holds from its previous run (once)."""
        self.client_id, self.client_secret, self.first_refresh_token, self.tenant_id = client_id, client_secret, refresh_token, tenant_id
        self.minute_limit, self.day_limit, self.base_currency = minute_limit, day_limit, base_currency
        self.state_file, self.accept_unknown_refresh = state_file, accept_unknown_refresh
        super().__init__(**kwargs)

    def reset_state(self) -> None:
        self.refresh_tokens = {self.first_refresh_token: self.clock.now() + timedelta(days=REFRESH_DAYS)}
        self.spent_refresh_tokens: set[str] = set()
        self.access_tokens: dict[str, datetime] = {}
        self.minute = FixedWindow(self.minute_limit, 60, clock=self.clock.monotonic)
        self.day = FixedWindow(self.day_limit, 86400, clock=self.clock.monotonic)
        self.tax_rates = [{"TaxType": code, "Name": name, "EffectiveRate": _num(Decimal(rate)), "DisplayTaxRate": _num(Decimal(rate)),
                           "Status": "ACTIVE", "CanApplyToRevenue": revenue} for code, name, rate, revenue in DEFAULT_TAX_RATES]
        self.accounts = [{"AccountID": str(uuid.uuid5(uuid.NAMESPACE_URL, code)), "Code": code, "Name": name, "Type": kind,
                          "Status": "ACTIVE", "EnablePaymentsToAccount": kind == "BANK"} for code, name, kind in DEFAULT_ACCOUNTS]
        self.contacts: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        self.credit_notes: dict[str, dict] = {}
        self.payments: dict[str, dict] = {}
        self.idempotent: dict[str, dict] = {}
        if self.state_file and os.path.exists(self.state_file):
            with open(self.state_file, encoding="utf-8") as stored:
                saved = json.load(stored)
            for name in STORED:
                setattr(self, name, saved.get(name, {}))

    def _save(self) -> None:
        if self.state_file:
            with open(self.state_file + ".tmp", "w", encoding="utf-8") as stored:
                json.dump({name: getattr(self, name) for name in STORED}, stored)
            os.replace(self.state_file + ".tmp", self.state_file)

    # --- auth -----------------------------------------------------------------------------------
    @route("POST", "/connect/token", auth=False)
    def token(self, request: Request):
        try:
            scheme, encoded = (request.header("Authorization") or " ").split(" ", 1)
            client_id, secret = b64decode(encoded).decode().split(":", 1)
        except ValueError:
            client_id = secret = ""
        if client_id != self.client_id or secret != self.client_secret:
            return json_response({"error": "invalid_client"}, 400)
        form = {key: values[-1] for key, values in request.form().items()}
        if form.get("grant_type") != "refresh_token":
            return json_response({"error": "unsupported_grant_type"}, 400)
        token = form.get("refresh_token", "")
        expires = self.refresh_tokens.pop(token, None)
        if expires is None and self.accept_unknown_refresh and token and token not in self.spent_refresh_tokens:
            expires = self.clock.now() + timedelta(days=REFRESH_DAYS)
        if expires is None or expires < self.clock.now():
            self.count("refresh token refused")
            return json_response({"error": "invalid_grant"}, 400)
        self.spent_refresh_tokens.add(token)
        access, refresh = self.ids.token(40), self.ids.token(40)
        self.access_tokens[access] = self.clock.now() + timedelta(seconds=ACCESS_SECONDS)
        self.refresh_tokens[refresh] = self.clock.now() + timedelta(days=REFRESH_DAYS)
        self.count("tokens issued")
        return {"id_token": "", "access_token": access, "expires_in": ACCESS_SECONDS, "token_type": "Bearer", "refresh_token": refresh,
                "scope": "accounting.transactions accounting.contacts accounting.settings offline_access"}

    def authenticate(self, request: Request):
        if not request.path.startswith(API):
            return None
        header = request.header("Authorization") or ""
        token = header[7:] if header.startswith("Bearer ") else ""
        expires = self.access_tokens.get(token)
        if expires is None:
            return self._problem(401, "Unauthorized", "AuthenticationUnsuccessful")
        if expires <= self.clock.now():
            return self._problem(401, "Unauthorized", f"TokenExpired: token expired at {expires:%m/%d/%Y %H:%M:%S}")
        tenant = request.header("xero-tenant-id") or ""
        if tenant != self.tenant_id:
            return self._problem(403, "Forbidden", "AuthenticationUnsuccessful" if not tenant else "The tenant is not connected to this app")
        return None

    @staticmethod
    def _problem(status: int, title: str, detail: str):
        return json_response({"Type": None, "Title": title, "Status": status, "Detail": detail, "Instance": str(uuid.uuid4()), "Extensions": {}},
                             status)

    def throttle(self, request: Request):
        if not request.path.startswith(API):
            return None
        for window, problem in ((self.day, "day"), (self.minute, "minute")):
            if window.remaining() <= 0:
                return json_response({"Title": "Too Many Requests"}, 429, {
                    "Retry-After": retry_after_seconds(window.reset_in()), "X-Rate-Limit-Problem": problem})
        self.minute.take()
        self.day.take()
        request.reply_headers += [("X-MinLimit-Remaining", str(self.minute.remaining())), ("X-DayLimit-Remaining", str(self.day.remaining())),
                                  ("X-AppMinLimit-Remaining", "9999")]
        return None

    def throttled_response(self, request, retry_after):
        headers = {"X-Rate-Limit-Problem": "minute"}
        if retry_after is not None:
            headers["Retry-After"] = retry_after_seconds(retry_after)
        return json_response({"Title": "Too Many Requests"}, 429, headers)

    # --- answers --------------------------------------------------------------------------------
    def _answer(self, collection: str, items: list[dict]) -> dict:
        return {"Id": str(uuid.uuid4()), "Status": "OK", "ProviderName": "ERP Hub sandbox", "DateTimeUTC": _ms(self.clock.now()), collection: items}

    def _invalid(self, element: dict, messages: list[str]):
        raise Abort(json_response({"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred",
                                   "Elements": [{**element, "ValidationErrors": [{"Message": m} for m in messages]}]}, 400))

    def _idempotent(self, request: Request, make):
        key = request.header("Idempotency-Key")
        if key and key in self.idempotent:
            self.count("idempotent replays")
            return self.idempotent[key]
        answer = make()
        if key:
            self.idempotent[key] = answer
        self._save()
        return answer

    def _items(self, request: Request, collection: str) -> list[dict]:
        body = request.json() or {}
        items = body.get(collection) if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            self._invalid({}, [f"The request body must hold a {collection} array"])
        return items

    @staticmethod
    def _where(items: list[dict], expression: str | None) -> list[dict]:
        if not expression:
            return items
        clauses = []
        for part in re.split(r"\s+AND\s+", expression.strip()):
            match = re.fullmatch(r'\s*([A-Za-z.]+)\s*==\s*"((?:[^"\\]|\\.)*)"\s*', part)
            if not match:
                raise Abort(json_response({"ErrorNumber": 16, "Type": "QueryParseException", "Message": f"could not parse {part!r}"}, 400))
            clauses.append((match.group(1).split("."), match.group(2).replace('\\"', '"')))

        def value(item, path):
            for name in path:
                item = (item or {}).get(name) if isinstance(item, dict) else None
            return "" if item is None else str(item)

        return [item for item in items if all(value(item, path) == wanted for path, wanted in clauses)]

    # --- settings resources ---------------------------------------------------------------------
    @route("GET", API + "/Organisation")
    def organisation(self, request):
        return self._answer("Organisations", [{"Name": "Maison & Jardin Lumière SAS (sandbox)", "BaseCurrency": self.base_currency,
                                               "OrganisationID": self.tenant_id, "CountryCode": "FR"}])

    @route("GET", API + "/TaxRates")
    def get_tax_rates(self, request):
        return self._answer("TaxRates", self.tax_rates)

    @route("GET", API + "/Accounts")
    def get_accounts(self, request):
        return self._answer("Accounts", self.accounts)

    # --- contacts -------------------------------------------------------------------------------
    @route("GET", API + "/Contacts")
    def get_contacts(self, request):
        return self._answer("Contacts", self._where(list(self.contacts.values()), request.arg("where")))

    @route("PUT", API + "/Contacts")
    def put_contacts(self, request):
        items = self._items(request, "Contacts")
        return self._idempotent(request, lambda: self._answer("Contacts", [self._contact_save(item, None) for item in items]))

    @route("POST", API + "/Contacts/<contact_id>")
    def post_contact(self, request, contact_id):
        if contact_id not in self.contacts:
            raise Abort(json_response({"Message": "The resource you're looking for cannot be found"}, 404))
        item = self._items(request, "Contacts")[0]
        return self._idempotent(request, lambda: self._answer("Contacts", [self._contact_save(item, contact_id)]))

    def _contact_save(self, item: dict, contact_id: str | None) -> dict:
        name = (item.get("Name") or "").strip()
        if not name:
            self._invalid({"Name": name}, ["The contact name must be specified."])
        if any(c["Name"].lower() == name.lower() and c["ContactID"] != contact_id for c in self.contacts.values()):
            self._invalid({"Name": name}, [f"The contact name {name} is already assigned to another contact. The contact name must be "
                                           f"unique across all active contacts."])
        contact = self.contacts.get(contact_id) or {"ContactID": str(uuid.uuid4()), "ContactStatus": "ACTIVE"}
        contact.update({key: value for key, value in item.items() if key != "ContactID"})
        contact["UpdatedDateUTC"] = _ms(self.clock.now())
        self.contacts[contact["ContactID"]] = contact
        return contact

    @control("POST", "contacts/<contact_id>/rename")
    def control_rename(self, request, contact_id):
        self.contacts[contact_id]["Name"] = (request.json() or {})["Name"]
        return self.contacts[contact_id]

    # --- invoices and credit notes --------------------------------------------------------------
    def _document_list(self, request, store: dict, collection: str, number_field: str):
        items = list(store.values())
        if request.arg(number_field + "s"):
            wanted = set(request.arg(number_field + "s").split(","))
            items = [i for i in items if i.get(number_field) in wanted]
        if request.arg("IDs"):
            wanted = set(request.arg("IDs").split(","))
            items = [i for i in items if i[ENTITY_IDS[collection]] in wanted]
        return self._answer(collection, self._where(items, request.arg("where")))

    @route("GET", API + "/Invoices")
    def get_invoices(self, request):
        return self._document_list(request, self.invoices, "Invoices", "InvoiceNumber")

    @route("GET", API + "/Invoices/<invoice_id>")
    def get_invoice(self, request, invoice_id):
        return self._answer("Invoices", [self._found(self.invoices, invoice_id)])

    @route("PUT", API + "/Invoices")
    def put_invoices(self, request):
        items = self._items(request, "Invoices")
        return self._idempotent(request, lambda: self._answer("Invoices", [self._document_create(i, "invoice") for i in items]))

    @route("GET", API + "/CreditNotes")
    def get_credit_notes(self, request):
        return self._document_list(request, self.credit_notes, "CreditNotes", "CreditNoteNumber")

    @route("GET", API + "/CreditNotes/<note_id>")
    def get_credit_note(self, request, note_id):
        return self._answer("CreditNotes", [self._found(self.credit_notes, note_id)])

    @route("PUT", API + "/CreditNotes")
    def put_credit_notes(self, request):
        items = self._items(request, "CreditNotes")
        return self._idempotent(request, lambda: self._answer("CreditNotes", [self._document_create(i, "credit_note") for i in items]))

    @staticmethod
    def _found(store: dict, key: str) -> dict:
        if key not in store:
            raise Abort(json_response({"Message": "The resource you're looking for cannot be found"}, 404))
        return store[key]

    def _rate(self, tax_type: str) -> Decimal | None:
        for rate in self.tax_rates:
            if rate["TaxType"] == tax_type and rate["Status"] == "ACTIVE" and rate["CanApplyToRevenue"]:
                return _money(rate["EffectiveRate"]) / 100
        return None

    def _document_create(self, item: dict, kind: str) -> dict:
        expected_type, number_field, store, id_field = (("ACCREC", "InvoiceNumber", self.invoices, "InvoiceID") if kind == "invoice"
                                                        else ("ACCRECCREDIT", "CreditNoteNumber", self.credit_notes, "CreditNoteID"))
        errors = []
        if item.get("Type") != expected_type:
            errors.append(f"The document type must be {expected_type}.")
        contact = self.contacts.get((item.get("Contact") or {}).get("ContactID", ""))
        if contact is None:
            errors.append("A Contact must be specified for this type of transaction")
        number = item.get(number_field) or f"{'INV' if kind == 'invoice' else 'CN'}-{self.ids.next(kind):04d}"
        if any(d.get(number_field) == number and d["Status"] != "DELETED" for d in store.values()):
            errors.append(f"{'Invoice' if kind == 'invoice' else 'Credit Note'} # must be unique.")
        currency = item.get("CurrencyCode") or self.base_currency
        if currency not in (self.base_currency, "GBP", "USD", "CHF"):
            errors.append(f"The currency {currency} is not enabled for this organisation.")
        amount_types = item.get("LineAmountTypes") or "Exclusive"
        if amount_types not in ("Exclusive", "Inclusive", "NoTax"):
            errors.append("LineAmountTypes must be Exclusive, Inclusive or NoTax.")
        codes = {a["Code"]: a for a in self.accounts if a["Status"] == "ACTIVE"}
        lines, subtotal, total_tax = [], Decimal(0), Decimal(0)
        for raw in item.get("LineItems") or []:
            try:
                quantity = _money(raw.get("Quantity", 1))
                amount = (_money(raw["LineAmount"]) if raw.get("LineAmount") is not None
                          else (quantity * _money(raw.get("UnitAmount", 0))).quantize(CENT, rounding=ROUND_HALF_UP))
            except ValueError as exc:
                errors.append(str(exc))
                continue
            code = str(raw.get("AccountCode") or "")
            if codes.get(code, {}).get("Type") != "REVENUE":
                errors.append(f"Account code '{code}' is not a valid code for this document.")
            rate = Decimal(0) if amount_types == "NoTax" else self._rate(raw.get("TaxType") or "")
            if rate is None:
                errors.append(f"The TaxType code '{raw.get('TaxType')}' does not exist or cannot be used with this type of transaction.")
                rate = Decimal(0)
            if raw.get("TaxAmount") is not None:
                tax = _money(raw["TaxAmount"])
            else:
                tax = (amount * rate / (1 + rate) if amount_types == "Inclusive" else amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
            total_tax += tax
            subtotal += amount - tax if amount_types == "Inclusive" else amount
            lines.append({"LineItemID": str(uuid.uuid4()), "Description": raw.get("Description", ""), "Quantity": _num(quantity),
                          "UnitAmount": _num((amount / quantity).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)) if quantity else 0.0,
                          "LineAmount": _num(amount), "AccountCode": code, "TaxType": raw.get("TaxType"), "TaxAmount": _num(tax)})
        if not lines:
            errors.append("At least one line item is required.")
        total = subtotal + total_tax
        if total < 0:
            errors.append("The total must be zero or more.")
        if errors:
            self._invalid({number_field: number}, errors)
        issued = _day(item.get("Date") or self.clock.now().date().isoformat())
        document = {"Type": expected_type, id_field: str(uuid.uuid4()), number_field: number, "Reference": item.get("Reference", ""),
                    "Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"]}, "Status": item.get("Status") or "DRAFT",
                    "LineAmountTypes": amount_types, "LineItems": lines, "CurrencyCode": currency, "CurrencyRate": 1.0,
                    "SubTotal": _num(subtotal), "TotalTax": _num(total_tax), "Total": _num(total),
                    "Date": _ms(datetime(issued.year, issued.month, issued.day, tzinfo=timezone.utc)),
                    "DateString": f"{issued.isoformat()}T00:00:00", "UpdatedDateUTC": _ms(self.clock.now()), "Payments": [], "HasErrors": False}
        if kind == "invoice":
            due = _day(item.get("DueDate") or issued.isoformat())
            document.update(DueDate=_ms(datetime(due.year, due.month, due.day, tzinfo=timezone.utc)), DueDateString=f"{due.isoformat()}T00:00:00",
                            AmountDue=_num(total), AmountPaid=0.0, AmountCredited=0.0, CreditNotes=[])
        else:
            document.update(RemainingCredit=_num(total), Allocations=[], AppliedAmount=0.0)
        store[document[id_field]] = document
        self.count(f"{kind}s created")
        return document

    # --- allocations and payments ---------------------------------------------------------------
    @route("PUT", API + "/CreditNotes/<note_id>/Allocations")
    def put_allocations(self, request, note_id):
        note = self._found(self.credit_notes, note_id)
        items = self._items(request, "Allocations")

        def make():
            made = []
            for item in items:
                invoice = self.invoices.get((item.get("Invoice") or {}).get("InvoiceID", ""))
                amount = _money(item.get("Amount", 0))
                if invoice is None:
                    self._invalid({}, ["Invoice could not be found"])
                if amount <= 0 or amount > _money(note["RemainingCredit"]):
                    self._invalid({}, ["The amount to allocate must be more than zero and no more than the remaining credit."])
                if amount > _money(invoice["AmountDue"]):
                    self._invalid({}, ["Allocation amount exceeds the amount outstanding on the invoice."])
                on = _day(item.get("Date") or self.clock.now().date().isoformat())
                allocation = {"AllocationID": str(uuid.uuid4()), "Amount": _num(amount),
                              "Date": _ms(datetime(on.year, on.month, on.day, tzinfo=timezone.utc)),
                              "Invoice": {"InvoiceID": invoice["InvoiceID"], "InvoiceNumber": invoice["InvoiceNumber"]},
                              "CreditNote": {"CreditNoteID": note_id, "CreditNoteNumber": note["CreditNoteNumber"]}}
                note["Allocations"].append(allocation)
                invoice["CreditNotes"].append({"CreditNoteID": note_id, "AppliedAmount": _num(amount)})
                self._settle(note, "RemainingCredit", amount)
                invoice["AmountCredited"] = _num(_money(invoice["AmountCredited"]) + amount)
                self._settle(invoice, "AmountDue", amount)
                made.append(allocation)
                self.count("allocations created")
            return self._answer("Allocations", made)

        return self._idempotent(request, make)

    def _settle(self, document: dict, field: str, amount: Decimal) -> None:
        document[field] = _num(_money(document[field]) - amount)
        if _money(document[field]) == 0:
            document["Status"] = "PAID"

    @route("GET", API + "/Payments")
    def get_payments(self, request):
        return self._answer("Payments", self._where(list(self.payments.values()), request.arg("where")))

    @route("PUT", API + "/Payments")
    def put_payments(self, request):
        items = self._items(request, "Payments")
        return self._idempotent(request, lambda: self._answer("Payments", [self._payment_create(i) for i in items]))

    def _payment_create(self, item: dict) -> dict:
        if item.get("Invoice"):
            document = self.invoices.get(item["Invoice"].get("InvoiceID", "")) or next(
                (i for i in self.invoices.values() if i["InvoiceNumber"] == item["Invoice"].get("InvoiceNumber")), None)
            outstanding, kind = "AmountDue", "ACCRECPAYMENT"
        else:
            document = self.credit_notes.get((item.get("CreditNote") or {}).get("CreditNoteID", ""))
            outstanding, kind = "RemainingCredit", "ARCREDITPAYMENT"
        if document is None:
            self._invalid({}, ["Invoice or credit note could not be found"])
        account = next((a for a in self.accounts if a["Code"] == str((item.get("Account") or {}).get("Code", ""))), None)
        if account is None or not account["EnablePaymentsToAccount"]:
            self._invalid({}, [f"Account code '{(item.get('Account') or {}).get('Code', '')}' is not a bank account or is not enabled for payments."])
        if document["Status"] != "AUTHORISED":
            self._invalid({}, [f"Payments can only be made against Authorised documents (this one is {document['Status']})."])
        amount = _money(item.get("Amount", 0))
        if amount <= 0 or amount > _money(document[outstanding]):
            self._invalid({}, ["Payment amount exceeds the amount outstanding on this document"])
        on = _day(item.get("Date") or self.clock.now().date().isoformat())
        number_field = "InvoiceNumber" if kind == "ACCRECPAYMENT" else "CreditNoteNumber"
        id_field = "InvoiceID" if kind == "ACCRECPAYMENT" else "CreditNoteID"
        payment = {"PaymentID": str(uuid.uuid4()), "PaymentType": kind, "Status": "AUTHORISED", "Amount": _num(amount),
                   "Date": _ms(datetime(on.year, on.month, on.day, tzinfo=timezone.utc)), "Reference": item.get("Reference", ""),
                   "Account": {"AccountID": account["AccountID"], "Code": account["Code"]}, "CurrencyRate": 1.0,
                   "Invoice" if kind == "ACCRECPAYMENT" else "CreditNote": {id_field: document[id_field], number_field: document[number_field]},
                   "UpdatedDateUTC": _ms(self.clock.now())}
        self.payments[payment["PaymentID"]] = payment
        document["Payments"].append({"PaymentID": payment["PaymentID"], "Amount": _num(amount), "Date": payment["Date"]})
        if kind == "ACCRECPAYMENT":
            document["AmountPaid"] = _num(_money(document["AmountPaid"]) + amount)
        self._settle(document, outstanding, amount)
        self.count("payments created")
        return payment

    # --- control --------------------------------------------------------------------------------
    def state(self) -> dict:
        return {"contacts": len(self.contacts), "invoices": len(self.invoices), "credit_notes": len(self.credit_notes),
                "payments": len(self.payments), "minute_remaining": self.minute.remaining(), "day_remaining": self.day.remaining()}

    @control("GET", "books")
    def control_books(self, request):
        return {"contacts": list(self.contacts.values()), "invoices": list(self.invoices.values()),
                "credit_notes": list(self.credit_notes.values()), "payments": list(self.payments.values()),
                "refresh_tokens_spent": len(self.spent_refresh_tokens)}

    @control("POST", "limits")
    def control_limits(self, request):
        body = request.json() or {}
        if "day_remaining" in body:
            self.day.reset()
            self.day.take(max(0, self.day.limit - int(body["day_remaining"])))
        if "minute_remaining" in body:
            self.minute.reset()
            self.minute.take(max(0, self.minute.limit - int(body["minute_remaining"])))
        return self.state()

    @control("POST", "tokens/expire")
    def control_expire(self, request):
        now = self.clock.now()
        for token in self.access_tokens:
            self.access_tokens[token] = now
        return {"expired": len(self.access_tokens)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="A Xero organisation on localhost (Accounting API 2.0).")
    parser.add_argument("--port", type=int, default=8020)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--refresh-token", required=True)
    parser.add_argument("--tenant-id", required=True)
    parser.add_argument("--state-file", default="")
    args = parser.parse_args(argv)
    sandbox = XeroSandbox(client_id=args.client_id, client_secret=args.client_secret, refresh_token=args.refresh_token,
                          tenant_id=args.tenant_id, port=args.port, state_file=args.state_file, accept_unknown_refresh=bool(args.state_file))
    print(f"Xero sandbox on {sandbox.url}{API} (token URL {sandbox.url}/connect/token)", flush=True)
    sandbox.serve_forever()


if __name__ == "__main__":
    main()
