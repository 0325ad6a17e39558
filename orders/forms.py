import re
import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.pricing import price_lines
from hub.models import SalesChannel
from hub.money import round_money
from orders.models import Customer, SalesOrder
from orders.pricing import customer_pricing_for_instance


class StaffOrderForm(forms.Form):
    """A phone or B2B order keyed in by staff, priced by the hub's own price resolution."""

    channel = forms.ModelChoiceField(SalesChannel.objects.filter(is_active=True), label=_("Channel"))
    customer = forms.ModelChoiceField(Customer.objects.filter(is_active=True), label=_("Customer"),
                                      widget=AutocompleteSelect(SalesOrder._meta.get_field("customer"), admin.site),
                                      help_text=_("Type a code, a name, a company or an e-mail."))
    lines = forms.CharField(label=_("Lines"), widget=forms.Textarea(attrs={"rows": 6, "cols": 40}),
                            help_text=_("One line per SKU: `SKU quantity`, e.g. `GUI-LED-10M 12`."))
    tax_rate = forms.DecimalField(label=_("VAT rate"), initial=Decimal("0.20"), min_value=0, max_value=1, decimal_places=4,
                                  help_text=_("VAT rate applied to the lines, as a fraction: 0.20 for 20 %."))
    shipping = forms.DecimalField(label=_("Shipping"), initial=Decimal("0"), min_value=0, decimal_places=2)
    payment_status = forms.ChoiceField(label=_("Payment status"), choices=[("pending", _("Pending (on terms)")), ("paid", _("Paid"))])
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        channel, customer, text = data.get("channel"), data.get("customer"), data.get("lines", "")
        if not channel or not text or customer is None:
            return data
        wanted = []
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            match = re.fullmatch(r"\s*(\S+)\s+(\d+)\s*", raw)
            if not match or int(match.group(2)) < 1:
                raise forms.ValidationError({"lines": gettext("Line %(number)s: write `SKU quantity` (quantity ≥ 1), not %(text)s.") % {
                    "number": number, "text": repr(raw.strip())}})
            wanted.append((match.group(1), int(match.group(2))))
        if not wanted:
            raise forms.ValidationError({"lines": gettext("Add at least one line.")})
        priced = price_lines(lines=wanted, request=customer_pricing_for_instance(customer=customer, channel=channel))
        missing = [p.sku for p in priced if p.unit_price is None]
        if missing:
            raise forms.ValidationError({"lines": gettext("No price for %(skus)s for this customer (unknown SKU or not in any of its price lists).")
                                         % {"skus": ", ".join(missing)}})
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


class FecExportForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, help_text=_("First day of the fiscal year (YYYY-MM-DD); "
                                                                         "by default the day after the same date a year before the end."))
    date_to = forms.DateField(label=_("To"), required=False, help_text=_("Closing date of the fiscal year (YYYY-MM-DD); "
                                                                     "by default 31 December of this year."))
