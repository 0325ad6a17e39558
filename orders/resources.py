"""Spreadsheet resources of orders: customers (import/export); orders and invoices are added
below once their models exist."""


from catalog.models import PriceList
from hub.imports.cells import excerpt_list
from hub.imports.columns import Choice, Date, DecimalNumber, Text, TextList
from hub.imports.engine import Plan, Resource, register
from hub.models import SalesChannel
from hub.registry import ResourceSpec, register_resource
from hub.money import round_money
from orders.models import Customer, CustomerGroup, PaymentTerms
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

EU_VAT_PATTERN = r"^(AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI)[0-9A-Z]{2,13}$"


class CustomerResource(Resource):
    name, label, order = "customers", _("Customers"), 70
    columns = [
        Text("code", required=True, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", pattern_message=gettext_lazy("use letters, digits, '.', '_' or '-'")),
        Text("name", required=True, max_length=200),
        Text("email", max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", pattern_message=gettext_lazy("is not an e-mail address")),
        Choice("type", Customer.Type.choices, default=Customer.Type.B2C),
        Text("group", max_length=50), TextList("price_lists"), TextList("channels"),
        Choice("payment_terms", PaymentTerms.choices, default=PaymentTerms.IMMEDIATE),
        Text("company", max_length=200),
        Text("vat_number", max_length=20, pattern=EU_VAT_PATTERN, pattern_message=gettext_lazy("is not an EU VAT number (e.g. FR40303265045)")),
        Text("phone", max_length=40), DecimalNumber("credit_limit", minimum=0, places=2),
        Choice("currency", [("EUR", "EUR"), ("GBP", "GBP"), ("USD", "USD"), ("CHF", "CHF")], default="EUR"),
    ]
    FIELDS = ["name", "email", "type", "group_id", "payment_terms", "company", "vat_number", "phone", "credit_limit", "currency"]

    def check(self, rows, errors, options):
        self._groups = dict(CustomerGroup.objects.values_list("code", "pk"))
        self._lists = dict(PriceList.objects.values_list("code", "pk"))
        self._channels = dict(SalesChannel.objects.values_list("code", "pk"))
        seen = {}
        for row in rows:
            v = row.values
            if v["code"] in seen:
                errors.add(row.line, "code", v["code"], gettext("duplicate of line %(line)s") % {"line": seen[v['code']]})
            seen[v["code"]] = row.line
            if v["group"] and v["group"] not in self._groups:
                errors.add(row.line, "group", v["group"], gettext("no such customer group"))
            for column, known in (("price_lists", self._lists), ("channels", self._channels)):
                unknown = [c for c in v[column] if c not in known]
                if unknown:
                    errors.add(row.line, column, row.raw.get(column, ""), gettext("unknown: %(unknown)s") % {"unknown": excerpt_list(unknown)})

    def _fields(self, v):
        return {"name": v["name"], "email": v["email"], "type": v["type"], "group_id": self._groups.get(v["group"]),
                "payment_terms": v["payment_terms"], "company": v["company"], "vat_number": v["vat_number"],
                "phone": v["phone"], "credit_limit": v["credit_limit"], "currency": v["currency"]}

    def plan(self, rows, options, user=None):
        codes = [r.values["code"] for r in rows]
        existing = {d["code"]: d for d in Customer.objects.filter(code__in=codes).values("pk", "code", *self.FIELDS)}
        lists_now, channels_now = {}, {}
        for code, pl in Customer.price_lists.through.objects.filter(customer__code__in=codes).values_list("customer__code", "pricelist_id"):
            lists_now.setdefault(code, set()).add(pl)
        for code, ch in Customer.channels.through.objects.filter(customer__code__in=codes).values_list("customer__code", "saleschannel_id"):
            channels_now.setdefault(code, set()).add(ch)
        new, changed = [], []
        for row in rows:
            v = row.values
            current = existing.get(v["code"])
            wanted_lists = {self._lists[c] for c in v["price_lists"]}
            wanted_channels = {self._channels[c] for c in v["channels"]}
            if current is None:
                new.append(row)
            elif (any(current[f] != val for f, val in self._fields(v).items())
                  or lists_now.get(v["code"], set()) != wanted_lists or channels_now.get(v["code"], set()) != wanted_channels):
                changed.append(row)

        def apply():
            Customer.objects.bulk_create(
                [Customer(code=r.values["code"], **self._fields(r.values)) for r in new + changed],
                update_conflicts=True, unique_fields=["code"], update_fields=self.FIELDS + ["updated_at"],
            )
            ids = dict(Customer.objects.filter(code__in=[r.values["code"] for r in new + changed]).values_list("code", "pk"))
            ListLink, ChannelLink = Customer.price_lists.through, Customer.channels.through
            ListLink.objects.filter(customer_id__in=ids.values()).delete()
            ChannelLink.objects.filter(customer_id__in=ids.values()).delete()
            ListLink.objects.bulk_create([ListLink(customer_id=ids[r.values["code"]], pricelist_id=self._lists[c]) for r in new + changed for c in r.values["price_lists"]])
            ChannelLink.objects.bulk_create([ChannelLink(customer_id=ids[r.values["code"]], saleschannel_id=self._channels[c]) for r in new + changed for c in r.values["channels"]])

        return Plan(new=len(new), updated=len(changed), unchanged=len(rows) - len(new) - len(changed), apply=apply,
                    new_lines=[r.line for r in new], updated_lines=[r.line for r in changed])

    def export_queryset(self):
        return Customer.objects.select_related("group").prefetch_related("price_lists", "channels").order_by("code")

    def export_values(self, c):
        return [c.code, c.name, c.email, c.type, c.group.code if c.group_id else "", sorted(p.code for p in c.price_lists.all()),
                sorted(ch.code for ch in c.channels.all()), c.payment_terms, c.company, c.vat_number, c.phone, c.credit_limit, c.currency]


register(CustomerResource())


class OrderExportResource(Resource):
    """One row per order. `subtotal` is the lines before order-level discounts, `discount` the
    order's discounts, `tax` its total tax: total = subtotal − discount + shipping (+ tax when
    prices exclude tax). `lines` is `sku×quantity` joined by `;`."""

    name, label, order, importable = "orders", _("Orders (export)"), 80, False
    columns = [Text(n) for n in ["number", "channel", "external_id", "customer", "status", "payment_status", "currency"]] + [
        DecimalNumber(n, places=2) for n in ["subtotal", "shipping", "discount", "tax", "total"]] + [Text("lines")]

    def export_queryset(self):
        from orders.models import SalesOrder

        return SalesOrder.objects.select_related("channel", "customer").prefetch_related("lines").order_by("pk")

    def export_values(self, o):
        return [o.number, o.channel.code, o.external_id, o.customer.code, o.status, o.payment_status, o.currency, o.subtotal,
                o.shipping_total, o.discount_total, o.tax_total, o.total, ";".join(f"{l.sku}×{l.quantity}" for l in o.lines.all())]


class InvoiceExportResource(Resource):
    name, label, order, importable = "invoices", _("Invoices (export)"), 90, False
    columns = [Text(n) for n in ["number", "order", "customer", "currency"]] + [Date("issued_on"), Date("due_on")] + [
        DecimalNumber(n, places=2) for n in ["subtotal", "tax", "total", "credited", "paid", "balance"]]

    def export_queryset(self):
        from orders.models import Invoice

        return Invoice.objects.select_related("order", "customer").order_by("pk")

    def export_values(self, i):
        """`paid` is what the order's payments settle of this invoice, oldest invoice first."""
        from orders.selectors import invoice_settlement

        settled = invoice_settlement(invoice=i)
        return [i.number, i.order.number, i.customer.code, i.currency, i.issued_on, i.due_on, i.subtotal, i.tax_total, i.total,
                round_money(settled.credited, i.currency), round_money(settled.paid, i.currency), round_money(settled.balance, i.currency)]


register(OrderExportResource())
register(InvoiceExportResource())


def _fec_exporter(path, *, options, stdout=None):
    from django.core.management.base import CommandError

    from orders.fec import FecError, fec_export
    from orders.journal import JournalError

    try:
        written, fec = fec_export(folder=path, date_from=options.get("date_from"), date_to=options.get("date_to"))
    except (FecError, JournalError) as exc:
        raise CommandError(str(exc)) from exc
    return fec.lines, written


register_resource(ResourceSpec(name="fec", label="FEC (fichier des écritures comptables)", exporter=_fec_exporter, order=95,
                               target="folder", takes_period=True))
