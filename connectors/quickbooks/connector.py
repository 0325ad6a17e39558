"""QuickBooks Online as an accounting system: the hooks the accounting flows call."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from connectors.accounting.system import AccountingSettings, AccountingSystem, Found
from connectors.errors import PermanentError
from connectors.http import Recorder
from connectors.quickbooks import mapping
from connectors.quickbooks.client import STALE, TOKEN_URL, QuickBooksClient, QuickBooksFault
from connectors.registry import register
from hub.texts import Text


class QuickBooksSettings(AccountingSettings):
    token_url = forms.URLField(required=False, initial=TOKEN_URL, assume_scheme="https", label=_("OAuth token URL"),
                               help_text=_("Intuit's token endpoint (rotates the access token and the refresh token)."))


def _cache(ctx) -> dict:
    return ctx.__dict__.setdefault("_quickbooks", {})


class QuickBooksConnector(AccountingSystem):
    kind = "quickbooks"
    label = "QuickBooks"
    settings_form = QuickBooksSettings
    credential_names = ("client_id", "client_secret", "refresh_token", "realm_id")

    def client(self, *, endpoint, recorder):
        return QuickBooksClient(endpoint=endpoint, recorder=recorder)

    def check_connection(self, *, endpoint):
        client = self.client(endpoint=endpoint, recorder=Recorder())
        info = client.api("GET", f"companyinfo/{client.realm_id}").get("CompanyInfo") or {}
        return f"connected to {info.get('CompanyName', '?')} (QuickBooks Online, company {client.realm_id})"

    # --- reference data, looked up once per run -------------------------------------------------
    def _tax_codes(self, ctx) -> dict[str, tuple[Decimal, str]]:
        cache = _cache(ctx)
        if "tax" not in cache:
            rates = {r["Id"]: mapping.money(r.get("RateValue")) / 100 for r in ctx.client.query("select * from TaxRate").get("TaxRate") or []
                     if r.get("Active", True)}
            codes = {}
            for code in ctx.client.query("select * from TaxCode").get("TaxCode") or []:
                details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
                if code.get("Active", True) and details:
                    rate_ids = [d["TaxRateRef"]["value"] for d in details]
                    codes[code["Id"]] = (sum((rates.get(i, Decimal(0)) for i in rate_ids), Decimal(0)).normalize(), rate_ids[0])
            cache["tax"] = codes
        return cache["tax"]

    def _ref(self, ctx, entity: str, field: str, value: str) -> str:
        cache = _cache(ctx).setdefault(entity, {})
        if value not in cache:
            found = ctx.client.query(f"select * from {entity} where {field} = {mapping.quoted(value)}").get(entity) or []
            if not found:
                raise PermanentError(Text(gettext_noop("QuickBooks has no %(entity)s whose %(field)s is %(value)s: create it there, or map the "
                                                       "hub's account to another one in the endpoint's settings (accounts)"),
                                          entity=entity, field=field, value=repr(value)))
            cache[value] = found[0]["Id"]
        return cache[value]

    def tax_rates(self, ctx):
        return {code: rate for code, (rate, _) in self._tax_codes(ctx).items()}

    # --- customers ------------------------------------------------------------------------------
    def contact_body(self, customer):
        return mapping.customer_body(customer)

    def contact_find(self, ctx, *, body):
        found = ctx.client.query(f"select * from Customer where DisplayName = {mapping.quoted(body['DisplayName'])}").get("Customer") or []
        return Found(found[0]["Id"], found[0], {"sync_token": found[0].get("SyncToken")}) if found else None

    def contact_create(self, ctx, *, body, key):
        customer = ctx.client.api("POST", "customer", body=body, request_id=key)["Customer"]
        return Found(customer["Id"], customer, {"sync_token": customer.get("SyncToken")})

    def contact_update(self, ctx, *, external_id, body, key, data):
        """A sparse update with the SyncToken last seen; a stale one (someone changed the customer in
        QuickBooks meanwhile) is read again and the update tried once more, then it fails clearly."""
        token = data.get("sync_token")
        for attempt in (1, 2):
            if token is None:
                token = ctx.client.api("GET", f"customer/{external_id}")["Customer"]["SyncToken"]
            try:
                customer = ctx.client.api("POST", "customer", body={**body, "Id": external_id, "SyncToken": token, "sparse": True},
                                          request_id=f"{key}-{attempt}")["Customer"]
                return Found(customer["Id"], customer, {"sync_token": customer.get("SyncToken")})
            except QuickBooksFault as exc:
                if exc.code != STALE:
                    raise
                token = None
        raise PermanentError(Text(gettext_noop("QuickBooks customer %(customer)s changed again while the hub was updating it (Stale Object "
                                               "Error, code %(code)s, twice): retry once nobody is editing it in QuickBooks"),
                                  customer=external_id, code=STALE))

    # --- invoices and credit memos --------------------------------------------------------------
    def document_body(self, ctx, document):
        from dataclasses import replace

        items = [replace(line, account=self._ref(ctx, "Item", "Name", line.account)) for line in document.lines]
        rate_ids = {code: rate_id for code, (_, rate_id) in self._tax_codes(ctx).items()}
        return mapping.document_body(replace(document, lines=tuple(items)), tax_rate_ids=rate_ids)

    def document_totals(self, body, *, rates, currency):
        return mapping.totals(body, rates)

    def document_find(self, ctx, *, kind, number):
        entity = mapping.ENTITIES[kind]
        found = ctx.client.query(f"select * from {entity} where DocNumber = {mapping.quoted(number)}").get(entity) or []
        return Found(found[0]["Id"], found[0]) if found else None

    def document_create(self, ctx, *, kind, body, contact_id, key):
        entity = mapping.ENTITIES[kind]
        answer = ctx.client.api("POST", entity.lower(), body={**body, "CustomerRef": {"value": contact_id}}, request_id=key)[entity]
        return Found(answer["Id"], answer)

    def answer_totals(self, answer):
        return mapping.money(answer.get("TotalAmt")), mapping.money((answer.get("TxnTaxDetail") or {}).get("TotalTax"))

    # --- payments, applied credit memos, refunds ------------------------------------------------
    def application_find(self, ctx, *, application):
        entity = "JournalEntry" if application.kind == "refund" else "Payment"
        field = "DocNumber" if application.kind == "refund" else "PaymentRefNum"
        found = ctx.client.query(f"select * from {entity} where {field} = {mapping.quoted(application.key[:21])}").get(entity) or []
        return Found(f"{entity}:{found[0]['Id']}", found[0]) if found else None

    def application_create(self, ctx, *, application, key):
        if application.kind == "allocation":
            answer = ctx.client.api("POST", "payment", body=mapping.allocation_body(application), request_id=key)["Payment"]
            return Found(f"Payment:{answer['Id']}", answer)
        account_id = self._ref(ctx, "Account", "AcctNum", application.account)
        if application.kind == "payment":
            answer = ctx.client.api("POST", "payment", body=mapping.payment_body(application, account_id=account_id), request_id=key)["Payment"]
            return Found(f"Payment:{answer['Id']}", answer)
        receivable = self._ref(ctx, "Account", "AccountType", "Accounts Receivable")
        answer = ctx.client.api("POST", "journalentry", body=mapping.refund_body(application, receivable_id=receivable, account_id=account_id),
                                request_id=key)["JournalEntry"]
        return Found(f"JournalEntry:{answer['Id']}", answer)


register(QuickBooksConnector())
