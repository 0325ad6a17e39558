import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from catalog.pricing import price_lines
from hub.models import SalesChannel
from hub.money import round_money
from orders.models import Customer, OrderLine, SalesOrder
from orders.pricing import customer_pricing_for_instance


VAT_RATES = ("0.20", "0.10", "0.055", "0.021", "0")  # the French rates: standard, intermediate, reduced, super-reduced, none


def vat_rate_choices():
    """The rates as people write them in the active language: 20 %, 5,5 % in French."""
    percents = [(Decimal(rate) * 100).normalize() for rate in VAT_RATES]
    return [(rate, f"{number_format(p, decimal_pos=max(0, -p.as_tuple().exponent), use_l10n=True)} %") for rate, p in zip(VAT_RATES, percents)]


class StaffOrderForm(forms.Form):
    """A phone or B2B order keyed in by staff, priced by the hub's own price resolution; its lines
    come from `StaffOrderLineFormSet` (`lines=` when bound)."""

    channel = forms.ModelChoiceField(SalesChannel.objects.filter(is_active=True), label=_("Sales channel"))
    customer = forms.ModelChoiceField(Customer.objects.filter(is_active=True), label=_("Customer"),
                                      widget=AutocompleteSelect(SalesOrder._meta.get_field("customer"), admin.site),
                                      help_text=_("Type a code, a name, a company or an e-mail."))
    tax_rate = forms.TypedChoiceField(label=_("VAT rate"), choices=vat_rate_choices, coerce=Decimal, initial="0.20",
                                      help_text=_("Applied to every line."))
    shipping = forms.DecimalField(label=_("Shipping"), initial=Decimal("0"), min_value=0, decimal_places=2, localize=True)
    payment_status = forms.ChoiceField(label=_("Payment"), choices=[("pending", _("Pending (on terms)")), ("paid", _("Paid"))])
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, lines=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines

    def clean(self):
        data = super().clean()
        channel, customer = data.get("channel"), data.get("customer")
        if not channel or customer is None or self.lines is None or not self.lines.is_valid():
            return data
        wanted: dict[str, int] = {}
        for line in self.lines.cleaned_data:
            if line and not line.get("DELETE"):
                sku = line["product"].sku
                wanted[sku] = wanted.get(sku, 0) + line["quantity"]
        if not wanted:
            raise forms.ValidationError(gettext("Add at least one line."))
        priced = price_lines(lines=list(wanted.items()), request=customer_pricing_for_instance(customer=customer, channel=channel))
        missing = [p.sku for p in priced if p.unit_price is None]
        if missing:
            raise forms.ValidationError(gettext("No price for %(skus)s for this customer (not in any of its price lists).")
                                        % {"skus": ", ".join(missing)})
        data["customer_obj"], data["priced"] = customer, priced
        return data

    def payload(self) -> dict:
        data = self.cleaned_data
        customer, currency, rate = data["customer_obj"], data["customer_obj"].currency, data["tax_rate"]
        include_tax = customer.type == Customer.Type.B2C
        lines, tax = [], Decimal(0)
        for p in data["priced"]:
            line_total = round_money(p.unit_price * p.quantity, currency)
            line_tax = round_money(line_total - line_total / (1 + rate) if include_tax else line_total * rate, currency)
            tax += line_tax
            lines.append({"sku": p.sku, "quantity": p.quantity, "unit_price": str(p.unit_price), "tax_rate": str(rate), "tax_amount": str(line_tax)})
        subtotal = sum((round_money(Decimal(l["unit_price"]) * l["quantity"], currency) for l in lines), Decimal(0))
        total = subtotal + data["shipping"] + (Decimal(0) if include_tax else tax)
        address = customer.addresses.filter(kind="shipping").order_by("-is_default").first()
        shipping_address = ({"name": address.name, "company": address.company, "line1": address.line1, "line2": address.line2,
                             "postcode": address.postcode, "city": address.city, "country": address.country} if address else None)
        payload = {
            "external_id": f"STAFF-{uuid.uuid4().hex[:10].upper()}", "currency": currency, "customer": {"code": customer.code},
            "lines": lines, "shipping_lines": [{"title": "Delivery", "price": str(data["shipping"])}] if data["shipping"] else [],
            "prices_include_tax": include_tax, "total": str(total), "payment_status": data["payment_status"], "notes": data["notes"],
        }
        if shipping_address:
            payload["shipping_address"] = payload["billing_address"] = shipping_address
        return payload


class StaffOrderLineForm(forms.Form):
    product = forms.ModelChoiceField(Product.objects.all(), label=_("Product"),
                                     widget=AutocompleteSelect(OrderLine._meta.get_field("product"), admin.site),
                                     help_text=_("Type a SKU, a name or a barcode."))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100_000)


StaffOrderLineFormSet = forms.formset_factory(StaffOrderLineForm, extra=6, max_num=200, validate_max=True)


class FecExportForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, help_text=_("First day of the fiscal year (YYYY-MM-DD); "
                                                                         "by default the day after the same date a year before the end."))
    date_to = forms.DateField(label=_("To"), required=False, help_text=_("Closing date of the fiscal year (YYYY-MM-DD); "
                                                                     "by default 31 December of this year."))
