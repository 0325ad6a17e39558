"""Xero as an accounting system: the hooks the accounting flows call, over the Accounting API."""

from django import forms
from django.utils.translation import gettext_lazy as _

from connectors.accounting.system import AccountingSettings, AccountingSystem, Found
from connectors.http import Recorder
from connectors.registry import register
from connectors.xero import mapping
from connectors.xero.client import TOKEN_URL, XeroClient


class XeroSettings(AccountingSettings):
    token_url = forms.URLField(required=False, assume_scheme="https", initial=TOKEN_URL, label=_("OAuth token URL"),
                               help_text=_("Xero's identity server (rotates the 30-minute access token and the single-use refresh token)."))


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '\\"') + '"'


class XeroConnector(AccountingSystem):
    kind = "xero"
    label = "Xero"
    settings_form = XeroSettings
    credential_names = ("client_id", "client_secret", "refresh_token", "tenant_id")

    def client(self, *, endpoint, recorder):
        return XeroClient(endpoint=endpoint, recorder=recorder)

    def check_connection(self, *, endpoint):
        organisation = (self.client(endpoint=endpoint, recorder=Recorder()).api("GET", "Organisation").get("Organisations") or [{}])[0]
        return f"connected to {organisation.get('Name', '?')} (Xero, base currency {organisation.get('BaseCurrency', '?')})"

    def tax_rates(self, ctx):
        rates = {}
        for rate in ctx.client.api("GET", "TaxRates").get("TaxRates") or []:
            if rate.get("Status", "ACTIVE") == "ACTIVE" and rate.get("CanApplyToRevenue", True):
                rates[rate["TaxType"]] = (mapping.money(rate.get("EffectiveRate")) / 100).normalize()
        return rates

    # --- contacts -------------------------------------------------------------------------------
    def contact_body(self, customer):
        return mapping.contact_body(customer)

    def contact_find(self, ctx, *, body):
        found = ctx.client.api("GET", "Contacts", params={"where": f"ContactNumber=={_quoted(body['ContactNumber'])}"}).get("Contacts") or []
        return Found(found[0]["ContactID"], found[0]) if found else None

    def contact_create(self, ctx, *, body, key):
        contact = ctx.client.api("PUT", "Contacts", body={"Contacts": [body]}, idempotency_key=key)["Contacts"][0]
        return Found(contact["ContactID"], contact)

    def contact_update(self, ctx, *, external_id, body, key, data):
        contact = ctx.client.api("POST", f"Contacts/{external_id}", body={"Contacts": [{**body, "ContactID": external_id}]},
                                 idempotency_key=key)["Contacts"][0]
        return Found(contact["ContactID"], contact)

    # --- invoices and credit notes --------------------------------------------------------------
    def document_body(self, ctx, document):
        return mapping.document_body(document)

    def document_totals(self, body, *, rates, currency):
        _subtotal, tax, total = mapping.totals(body, rates)
        return total, tax

    def document_find(self, ctx, *, kind, number):
        if kind == "invoice":
            found = ctx.client.api("GET", "Invoices", params={"InvoiceNumbers": number}).get("Invoices") or []
        else:
            found = ctx.client.api("GET", "CreditNotes", params={"where": f"CreditNoteNumber=={_quoted(number)}"}).get("CreditNotes") or []
        found = [item for item in found if item.get("Status") != "DELETED" and item.get("Type") == mapping.TYPES[kind]]
        return Found(found[0][mapping.ID_FIELDS[kind]], found[0]) if found else None

    def document_create(self, ctx, *, kind, body, contact_id, key):
        collection = mapping.COLLECTIONS[kind]
        answer = ctx.client.api("PUT", collection, body={collection: [{**body, "Contact": {"ContactID": contact_id}}]},
                                params={"unitdp": 4}, idempotency_key=key)[collection][0]
        return Found(answer[mapping.ID_FIELDS[kind]], answer)

    def answer_totals(self, answer):
        return mapping.money(answer.get("Total")), mapping.money(answer.get("TotalTax"))

    # --- payments, refunds, allocations ---------------------------------------------------------
    def application_find(self, ctx, *, application):
        if application.kind == "allocation":
            note = (ctx.client.api("GET", f"CreditNotes/{application.source_external_id}").get("CreditNotes") or [{}])[0]
            for allocation in note.get("Allocations") or []:
                if ((allocation.get("Invoice") or {}).get("InvoiceID") == application.target_external_id
                        and mapping.money(allocation.get("Amount")) == application.amount):
                    return Found(allocation.get("AllocationID") or f"{application.source_external_id}:{application.target_external_id}", allocation)
            return None
        reference = mapping.application_reference(application)
        found = [p for p in ctx.client.api("GET", "Payments", params={"where": f"Reference=={_quoted(reference)}"}).get("Payments") or []
                 if p.get("Status") != "DELETED"]
        return Found(found[0]["PaymentID"], found[0]) if found else None

    def application_create(self, ctx, *, application, key):
        if application.kind == "allocation":
            answer = ctx.client.api("PUT", f"CreditNotes/{application.source_external_id}/Allocations",
                                    body=mapping.allocation_body(application), idempotency_key=key)["Allocations"][0]
            return Found(answer.get("AllocationID") or f"{application.source_external_id}:{application.target_external_id}", answer)
        answer = ctx.client.api("PUT", "Payments", body={"Payments": [mapping.payment_body(application)]}, idempotency_key=key)["Payments"][0]
        return Found(answer["PaymentID"], answer)


register(XeroConnector())
