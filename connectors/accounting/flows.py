"""Accounting flows, written once: contacts, invoices, credit notes (with their allocations),
payments and refunds out, driven by the documents the hub issues.

Each document reaches the accounting system exactly once: a binding is stored the moment the
system answers; before creating, the document is looked up by its number (or natural key), and
every create carries an idempotency key derived from what is sent, so a retry of the same request
never makes a second document. Documents issued before the endpoint's start date are never sent
(only bound, when the system already has them). Flows depend on each other's documents: a credit
note or a payment first makes sure its invoice is there."""

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from connectors.accounting.system import DAILY, ApplicationDocument, DocumentLine, Found, SalesDocument, idempotency_key, percent_key
from connectors.binder import CREDIT_NOTE, CUSTOMER, INVOICE, PAYMENT, Binder, binding_type
from connectors.commerce.flows import fingerprint
from connectors.errors import PermanentError, SyncError
from connectors.flows import NOTHING_TO_SEND, UNCHANGED, Flow, ScheduledFlow, texts_joined
from connectors.sync import sync_job_enqueue
from hub.money import round_money
from hub.texts import Text
from orders import journal
from orders.models import CreditNote, Customer, Invoice, Payment, SalesOrder
from orders.selectors import document_numbers, documents_issued_since, order_applications, orders_of, orders_settled_since

ALLOCATION = binding_type("allocation", "Allocation of a credit note", "orders.creditnote")
DOCUMENT_TYPES = {"invoice": INVOICE, "credit_note": CREDIT_NOTE}
DOCUMENT_MODELS = {"invoice": Invoice, "credit_note": CreditNote}
DOCUMENT_LABELS = {"invoice": Text(gettext_noop("invoice")), "credit_note": Text(gettext_noop("credit note"))}
APPLICATION_LABELS = {"payment": Text(gettext_noop("payment")), "refund": Text(gettext_noop("refund")),
                      "allocation": Text(gettext_noop("allocation"))}


# --- endpoint settings ----------------------------------------------------------------------------

def start_date(endpoint) -> date:
    """Documents issued from this day on are sent: the endpoint's setting, else the day it was added."""
    return endpoint.config.get("start_date") or timezone.localdate(endpoint.created_at)


def event_driven(endpoint) -> bool:
    return (endpoint.config.get("mode") or "event") != DAILY


def _cache(ctx) -> dict:
    return ctx.__dict__.setdefault("_accounting", {})


def books(ctx) -> journal.Books:
    cache = _cache(ctx)
    if "books" not in cache:
        cache["books"] = journal.books_load()
    return cache["books"]


def account_code(ctx, number: str) -> str:
    return (ctx.endpoint.config.get("accounts") or {}).get(number, number)


RATES_SECONDS = 600


def system_rates(ctx) -> dict:
    """The system's sales tax codes and rates, asked at most every 10 minutes per endpoint (each
    call counts against the system's limits)."""
    from django.core.cache import cache

    local = _cache(ctx)
    if "rates" not in local:
        local["rates"] = cache.get_or_set(f"accounting:tax-rates:{ctx.endpoint.pk}", lambda: ctx.connector.tax_rates(ctx), RATES_SECONDS)
    return local["rates"]


def tax_code(ctx, rate) -> str:
    """The system's tax code for a VAT rate: the endpoint's map, else its only sales code at that rate."""
    mapped = {percent_key(key): code for key, code in (ctx.endpoint.config.get("tax_codes") or {}).items()}
    if rate in mapped:
        return mapped[rate]
    matches = sorted(code for code, value in system_rates(ctx).items() if value == rate)
    if len(matches) == 1:
        return matches[0]
    shown = f"{rate * 100:.4g} %"
    if not matches:
        raise PermanentError(Text(gettext_noop("%(system)s has no active sales tax code at %(rate)s; add one there or map the rate in the "
                                               "endpoint's settings (tax_codes)"), system=ctx.connector.label, rate=shown))
    raise PermanentError(Text(gettext_noop("%(system)s has several sales tax codes at %(rate)s (%(codes)s); choose one in the endpoint's "
                                           "settings (tax_codes)"), system=ctx.connector.label, rate=shown, codes=", ".join(matches)))


# --- hub documents as plain data ------------------------------------------------------------------

def sales_document(ctx, kind: str, record) -> SalesDocument:
    """An invoice or credit note with each line's account and tax code in the accounting system,
    following the hub's account plan (`orders.journal`)."""
    order = record.order
    lines = list(record.lines.all())
    body = []
    for line in lines:
        rate = journal.line_rate(line, lines, prices_include_tax=order.prices_include_tax)
        number, _label = books(ctx).account(journal.REVENUE_ROLE[line.kind], rate=rate)
        body.append(DocumentLine(description=line.description, quantity=line.quantity, amount=line.line_total, tax_amount=line.tax_amount,
                                 rate=rate, account=account_code(ctx, number), tax_code=tax_code(ctx, rate), kind=line.kind,
                                 sku=getattr(line, "sku", "")))
    return SalesDocument(kind=kind, number=record.number, issued_on=record.issued_on, due_on=getattr(record, "due_on", record.issued_on),
                         currency=record.currency, prices_include_tax=order.prices_include_tax, lines=tuple(body),
                         subtotal=record.subtotal, tax_total=record.tax_total, total=record.total, reference=order.number,
                         invoice_number=record.invoice.number if kind == "credit_note" else "")


def _document(kind: str, pk):
    related = ("order", "customer") if kind == "invoice" else ("order", "invoice__customer", "invoice")
    record = DOCUMENT_MODELS[kind].objects.select_related(*related).filter(pk=pk).first()
    if record is None:
        raise PermanentError(Text(gettext_noop("%(document)s #%(pk)s no longer exists in the hub"), document=DOCUMENT_LABELS[kind], pk=pk))
    return record


def _customer(kind: str, record) -> Customer:
    return record.customer if kind == "invoice" else record.invoice.customer


def document_payload(ctx, kind: str, record) -> dict:
    customer = _customer(kind, record)
    return {"number": record.number, "customer": customer.code, "contact": ctx.connector.contact_body(customer),
            "document": ctx.connector.document_body(ctx, sales_document(ctx, kind, record))}


# --- exactly once ---------------------------------------------------------------------------------

def _once(ctx, kind, local_id, *, find, create, fingerprint_value: str = "") -> tuple[Found | None, bool]:
    """`Binder.create_once` with the system's answers; when a create is refused, the record is
    looked for again (another worker may have created it meanwhile) before the refusal stands."""
    def created():
        try:
            found = create()
        except PermanentError:
            again = find()
            if again is None:
                raise
            return again.external_id, again
        return found.external_id, found

    def looked_up():
        found = find()
        return None if found is None else (found.external_id, found)

    return Binder(ctx.endpoint).create_once(kind, local_id, find=looked_up, create=created, fingerprint=fingerprint_value,
                                            data=lambda found: found.data)


def ensure_contact(ctx, customer, *, body: dict | None = None) -> str:
    binder = Binder(ctx.endpoint)
    bound = binder.external_id(CUSTOMER, customer.pk)
    if bound:
        return bound
    body = body or ctx.connector.contact_body(customer)
    found, _ = _once(ctx, CUSTOMER, customer.pk, find=lambda: ctx.connector.contact_find(ctx, body=body),
                     create=lambda: ctx.connector.contact_create(ctx, body=body, key=idempotency_key("contact", customer.pk, body)),
                     fingerprint_value=fingerprint(body))
    return found.external_id if found else binder.external_id(CUSTOMER, customer.pk)


TOTALS_DIFFER = {
    "would": gettext_noop("%(document)s %(number)s: %(system)s would total %(total)s %(currency)s with %(tax)s %(currency)s of tax, the "
                          "hub's total is %(hub_total)s %(currency)s with %(hub_tax)s %(currency)s of tax (tax rounded per line as %(system)s "
                          "does it; check the tax codes, or edit the payload and retry)"),
    "created": gettext_noop("%(document)s %(number)s: %(system)s created it with a total of %(total)s %(currency)s with %(tax)s %(currency)s "
                            "of tax, the hub's total is %(hub_total)s %(currency)s with %(hub_tax)s %(currency)s of tax (tax rounded per line "
                            "as %(system)s does it; check the tax codes, or edit the payload and retry)"),
}


def check_totals(ctx, *, kind: str, record, theirs: tuple, when: str) -> None:
    """The system's (total, tax) must be the hub's to the cent, or nothing goes further."""
    currency = record.currency
    total, tax = (round_money(value, currency) for value in theirs)
    if (total, tax) != (round_money(record.total, currency), round_money(record.tax_total, currency)):
        raise PermanentError(Text(TOTALS_DIFFER[when], document=DOCUMENT_LABELS[kind], number=record.number, system=ctx.connector.label,
                                  total=total, tax=tax, currency=currency, hub_total=record.total, hub_tax=record.tax_total))


def ensure_document(ctx, kind: str, pk, *, payload: dict | None = None) -> tuple[str | None, bool]:
    """The document's id in the accounting system, sending it when it is due: (id, created).
    None when it was issued before the start date and the system does not have it."""
    binder = Binder(ctx.endpoint)
    bound = binder.external_id(DOCUMENT_TYPES[kind], pk)
    if bound:
        return bound, False
    record = _document(kind, pk)
    if record.issued_on < start_date(ctx.endpoint):
        found = ctx.connector.document_find(ctx, kind=kind, number=record.number)
        if found is None:
            return None, False
        binder.bind(DOCUMENT_TYPES[kind], pk, found.external_id, data=found.data)
        return found.external_id, False
    payload = payload or document_payload(ctx, kind, record)
    body = payload["document"]
    check_totals(ctx, kind=kind, record=record, when="would",
                 theirs=ctx.connector.document_totals(body, rates=system_rates(ctx), currency=record.currency))
    contact_id = ensure_contact(ctx, _customer(kind, record), body=payload.get("contact"))
    key = idempotency_key(kind, pk, {"document": body, "contact": contact_id})
    found, created = _once(ctx, DOCUMENT_TYPES[kind], pk,
                           find=lambda: ctx.connector.document_find(ctx, kind=kind, number=record.number),
                           create=lambda: ctx.connector.document_create(ctx, kind=kind, body=body, contact_id=contact_id, key=key))
    if found is None:
        return binder.external_id(DOCUMENT_TYPES[kind], pk), False
    if created:
        check_totals(ctx, kind=kind, record=record, when="created", theirs=ctx.connector.answer_totals(found.answer))
    return found.external_id, created


# --- payments, allocations and refunds ------------------------------------------------------------

def _money_accounts(ctx, payments: list[Payment]) -> dict[int, str]:
    """The account each payment or refund goes through, as the journal books it."""
    order_ids = {p.order_id for p in payments}
    paid_with = {}
    for order_id, method in (Payment.objects.filter(order_id__in=order_ids, kind=Payment.Kind.PAYMENT)
                             .order_by("-received_on", "-pk").values_list("order_id", "method")):
        paid_with[order_id] = method
    accounts = {}
    for payment in payments:
        entry = journal.payment_entry(payment, order=payment.order, customer=payment.order.customer, books=books(ctx),
                                      paid_with=paid_with.get(payment.order_id, ""))
        accounts[payment.pk] = account_code(ctx, entry.lines[0].account)
    return accounts


def pending_applications(ctx, order_id: int, *, kinds: tuple[str, ...], source_id: int | None = None) -> list[dict]:
    """The order's payments, refunds or allocations (`kinds`) not yet in the accounting system,
    as job payloads."""
    binder = Binder(ctx.endpoint)
    plan = [a for a in order_applications(order_ids=[order_id])[order_id]
            if a.kind in kinds and (source_id is None or a.source_id == source_id)]
    bound = set(binder.many(PAYMENT, [a.key for a in plan])) | set(binder.many(ALLOCATION, [a.key for a in plan]))
    plan = [a for a in plan if a.key not in bound]
    if not plan:
        return []
    currency = SalesOrder.objects.values_list("currency", flat=True).get(pk=order_id)
    money = {p.pk: p for p in Payment.objects.filter(pk__in=[a.source_id for a in plan if a.kind != "allocation"])
             .select_related("order__customer", "order__channel")}
    accounts = _money_accounts(ctx, list(money.values()))
    invoices = dict(Invoice.objects.filter(order_id=order_id).values_list("pk", "number"))
    notes = {pk: (number, issued_on) for pk, number, issued_on in CreditNote.objects.filter(order_id=order_id)
             .values_list("pk", "number", "issued_on")}
    payloads = []
    for application in plan:
        target_kind = "credit_note" if application.kind == "refund" else "invoice"
        item = {"key": application.key, "kind": application.kind, "amount": str(application.amount), "target_kind": target_kind,
                "target_id": application.target_id, "currency": currency,
                "target_number": notes[application.target_id][0] if target_kind == "credit_note" else invoices[application.target_id]}
        if application.kind == "allocation":
            number, issued_on = notes[application.source_id]
            item.update(source_id=application.source_id, on=issued_on.isoformat(), reference=number)
        else:
            payment = money[application.source_id]
            item.update(on=payment.received_on.isoformat(), account=accounts[payment.pk],
                        reference=(payment.reference or payment.order.number)[:100])
        payloads.append(item)
    return payloads


def send_applications(ctx, items: list[dict], *, customer) -> list[Text]:
    """Send each payment, refund or allocation once; returns what happened, one phrase each."""
    binder = Binder(ctx.endpoint)
    said = []
    for item in items:
        binding_kind = ALLOCATION if item["kind"] == "allocation" else PAYMENT
        if binder.is_bound(binding_kind, local_id=item["key"]):
            continue
        target_id, _ = ensure_document(ctx, item["target_kind"], item["target_id"])
        if target_id is None:
            said.append(Text(gettext_noop("%(kind)s of %(target)s not sent (%(target)s predates the start date and is not in %(system)s)"),
                             kind=APPLICATION_LABELS.get(item["kind"], item["kind"]), target=item["target_number"], system=ctx.connector.label))
            continue
        source_id = ""
        if item["kind"] == "allocation":
            source_id, _ = ensure_document(ctx, "credit_note", item["source_id"])
        currency = item["currency"]
        application = ApplicationDocument.from_payload(item, target_external_id=target_id,
                                                       source_external_id=source_id or "",
                                                       contact_external_id=ensure_contact(ctx, customer))
        found, created = _once(ctx, binding_kind, item["key"],
                               find=lambda: ctx.connector.application_find(ctx, application=application),
                               create=lambda: ctx.connector.application_create(
                                   ctx, application=application, key=idempotency_key(item["kind"], item["key"].split(":", 1)[1], item)))
        said.append(Text(gettext_noop("sent %(kind)s %(amount)s %(currency)s → %(target)s") if created
                         else gettext_noop("found %(kind)s %(amount)s %(currency)s → %(target)s"),
                         kind=APPLICATION_LABELS.get(item["kind"], item["kind"]), amount=str(application.amount), currency=currency,
                         target=item["target_number"]))
    return said


# --- the flows ------------------------------------------------------------------------------------

class ContactsOut(Flow):
    """Customers already in the accounting system follow the hub's changes (new ones are created
    with their first document)."""

    name = "contacts.out"
    label = _("Contacts sent")
    topics = ("orders.customer",)

    def record_keys(self, *, endpoint, topic, object_ids, data_by_id):
        bound = Binder(endpoint).external_ids(CUSTOMER, object_ids)
        return [(local, (data_by_id.get(local) or {}).get("code", "")) for local in bound]

    def prepare(self, ctx, job):
        customer = Customer.objects.filter(pk=job.record_key).first()
        if customer is None:
            raise PermanentError(Text(gettext_noop("customer #%(key)s no longer exists in the hub"), key=job.record_key))
        body = ctx.connector.contact_body(customer)
        binding = Binder(ctx.endpoint).get(CUSTOMER, customer.pk)
        if binding is not None and binding.fingerprint == fingerprint(body):
            ctx.done(job, UNCHANGED)
            return None
        return body

    def send(self, ctx, jobs):
        binder = Binder(ctx.endpoint)
        for job in jobs:
            binding = binder.get(CUSTOMER, job.record_key)
            if binding is None:
                ensure_contact(ctx, Customer.objects.get(pk=job.record_key), body=job.payload)
                ctx.done(job, Text(gettext_noop("created in %(system)s"), system=ctx.connector.label))
                continue
            found = ctx.connector.contact_update(ctx, external_id=binding.external_id, body=job.payload,
                                                 key=idempotency_key("contact-upd", job.record_key, job.payload), data=binding.data)
            binder.bind(CUSTOMER, job.record_key, found.external_id, fingerprint=fingerprint(job.payload), data=found.data or binding.data)
            ctx.done(job, Text(gettext_noop("updated %(system)s contact %(contact)s"), system=ctx.connector.label, contact=found.external_id))


class DocumentsOut(Flow):
    kind = ""

    def record_keys(self, *, endpoint, topic, object_ids, data_by_id):
        if not event_driven(endpoint):
            return []
        return [(str(pk), number) for pk, number in document_numbers(kind=self.kind, ids=object_ids, since=start_date(endpoint)).items()]

    def prepare(self, ctx, job):
        bound = Binder(ctx.endpoint).external_id(DOCUMENT_TYPES[self.kind], job.record_key)
        record = _document(self.kind, job.record_key)
        if bound:
            ctx.done(job, Text(gettext_noop("already in %(system)s (%(external_id)s)"), system=ctx.connector.label, external_id=bound))
            return None
        if record.issued_on < start_date(ctx.endpoint):
            ctx.done(job, Text(gettext_noop("issued %(issued)s, before the start date %(start)s: not sent"), issued=record.issued_on,
                               start=start_date(ctx.endpoint)))
            return None
        return document_payload(ctx, self.kind, record)

    def send(self, ctx, jobs):
        for job in jobs:
            try:
                external_id, created = ensure_document(ctx, self.kind, job.record_key, payload=job.payload)
                said = [Text(gettext_noop("created %(system)s %(document)s %(external_id)s") if created
                             else gettext_noop("found %(system)s %(document)s %(external_id)s"),
                             system=ctx.connector.label, document=DOCUMENT_LABELS[self.kind], external_id=external_id)]
                said += self.after(ctx, job)
            except SyncError as exc:
                ctx.fail(job, exc)
                continue
            ctx.done(job, texts_joined(said))

    def after(self, ctx, job) -> list[Text]:
        return []


class InvoicesOut(DocumentsOut):
    name = "invoices.out"
    label = _("Invoices sent")
    kind = "invoice"
    topics = ("orders.invoice",)


class CreditNotesOut(DocumentsOut):
    """Credit notes, then their allocation to the invoice for what it still had due."""

    name = "credit_notes.out"
    label = _("Credit notes sent")
    kind = "credit_note"
    topics = ("orders.credit_note",)

    def after(self, ctx, job):
        note = _document("credit_note", job.record_key)
        items = pending_applications(ctx, note.order_id, kinds=("allocation",), source_id=note.pk)
        return send_applications(ctx, items, customer=note.invoice.customer)


class PaymentsOut(Flow):
    """Per order: money received applied to its invoices, refunds paid out of its credit notes."""

    name = "payments.out"
    label = _("Payments and refunds sent")
    topics = ("orders.payment", "orders.invoice", "orders.credit_note")

    def record_keys(self, *, endpoint, topic, object_ids, data_by_id):
        if not event_driven(endpoint):
            return []
        argument = {"orders.payment": "payment_ids", "orders.invoice": "invoice_ids", "orders.credit_note": "credit_note_ids"}[topic]
        return [(str(pk), number) for pk, number in orders_of(**{argument: object_ids}).items()]

    def prepare(self, ctx, job):
        items = pending_applications(ctx, int(job.record_key), kinds=("payment", "refund"))
        if not items:
            ctx.done(job, NOTHING_TO_SEND)
            return None
        return {"order": job.record_label, "applications": items}

    def send(self, ctx, jobs):
        for job in jobs:
            order = SalesOrder.objects.select_related("customer").filter(pk=job.record_key).first()
            if order is None:
                ctx.fail(job, PermanentError(Text(gettext_noop("order #%(key)s no longer exists in the hub"), key=job.record_key)))
                continue
            try:
                said = send_applications(ctx, job.payload.get("applications") or [], customer=order.customer)
            except SyncError as exc:
                ctx.fail(job, exc)
                continue
            ctx.done(job, texts_joined(said) if said else Text(gettext_noop("nothing left to send")))


class DailyBatch(ScheduledFlow):
    """Once a day, everything due since the start date that is not in the accounting system yet
    (in event-driven mode too: a safety net for anything missed)."""

    name = "documents.batch"
    label = _("Daily batch")
    every_minutes = 24 * 60

    def prepare(self, ctx, job):
        return {"since": start_date(ctx.endpoint).isoformat()}

    def send(self, ctx, jobs):
        queued = queue_due(ctx.endpoint)
        for job in jobs:
            ctx.done(job, Text(gettext_noop("queued %(queued)s documents and orders"), queued=queued))


def queue_due(endpoint) -> int:
    """Queue every document and order settlement due since the endpoint's start date and not yet
    in the accounting system; returns how many were queued."""
    from connectors.registry import connector_for

    enabled = {flow.name for flow in connector_for(endpoint).enabled_flows(endpoint)}
    since = start_date(endpoint)
    binder = Binder(endpoint)
    invoices, notes = documents_issued_since(since=since)
    queued = 0
    for flow, kind, documents in (("invoices.out", INVOICE, invoices), ("credit_notes.out", CREDIT_NOTE, notes)):
        if flow not in enabled:
            continue
        bound = set(binder.many(kind, documents))
        for pk, number in documents.items():
            if str(pk) not in bound:
                sync_job_enqueue(endpoint=endpoint, flow=flow, record_key=str(pk), label=number)
                queued += 1
    if "payments.out" in enabled:
        order_ids = orders_settled_since(since=since)
        plans = order_applications(order_ids=order_ids)
        keys = [a.key for plan in plans.values() for a in plan if a.kind != "allocation"]
        bound = set(binder.many(PAYMENT, keys))
        numbers = orders_of(invoice_ids=list(invoices), credit_note_ids=list(notes))
        for order_id, plan in plans.items():
            if any(a.kind != "allocation" and a.key not in bound for a in plan):
                sync_job_enqueue(endpoint=endpoint, flow="payments.out", record_key=str(order_id), label=numbers.get(order_id, ""))
                queued += 1
    return queued


ACCOUNTING_FLOWS = (ContactsOut(), InvoicesOut(), CreditNotesOut(), PaymentsOut(), DailyBatch())
