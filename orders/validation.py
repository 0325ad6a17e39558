"""The order payload every channel sends (API, connectors, staff), validated once for all."""


from decimal import Decimal
from django.utils.translation import gettext

from rest_framework import serializers

from hub.api.fields import column_bounds, column_max
from hub.money import round_money
from orders.models import OrderLine, PaymentStatus, SalesOrder, ShippingLine

MONEY = column_bounds(SalesOrder, "total")
ORDER_MAX = column_max(SalesOrder, "total")  # every order amount column has the same size
LINE_MAX = column_max(OrderLine, "line_total")


class AddressSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    postcode = serializers.CharField(max_length=20)
    city = serializers.CharField(max_length=100)
    country = serializers.RegexField(r"^[A-Z]{2}$", error_messages={"invalid": "Use a 2-letter ISO country code (FR, DE…)."})
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


class CustomerSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    code = serializers.CharField(max_length=50, required=False, allow_blank=True, default="", help_text="Hub customer code, for B2B orders.")
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")

    def validate(self, data):
        if not (data["external_id"] or data["code"] or data["email"]):
            raise serializers.ValidationError(gettext("Give the customer's code, external id or e-mail."))
        return data


class LineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    unit_price = serializers.DecimalField(**column_bounds(OrderLine, "unit_price"), min_value=Decimal(0))
    discount = serializers.DecimalField(**column_bounds(OrderLine, "discount"), min_value=Decimal(0), required=False, default=Decimal(0))
    tax_rate = serializers.DecimalField(**column_bounds(OrderLine, "tax_rate"), min_value=Decimal(0), max_value=Decimal(1), required=False,
                                        default=Decimal(0))
    tax_amount = serializers.DecimalField(**column_bounds(OrderLine, "tax_amount"), min_value=Decimal(0), required=False, default=Decimal(0))


class ShippingLineSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    code = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    price = serializers.DecimalField(**column_bounds(ShippingLine, "price"), min_value=Decimal(0))
    tax_amount = serializers.DecimalField(**column_bounds(ShippingLine, "tax_amount"), min_value=Decimal(0), required=False, default=Decimal(0))


class DiscountCodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=100)
    amount = serializers.DecimalField(**MONEY, min_value=Decimal(0))


class OrderPayloadSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    currency = serializers.RegexField(r"^[A-Z]{3}$")
    customer = CustomerSerializer()
    billing_address = AddressSerializer(required=False)
    shipping_address = AddressSerializer(required=False)
    lines = LineSerializer(many=True, allow_empty=False, max_length=1000)
    shipping_lines = ShippingLineSerializer(many=True, required=False, default=list, max_length=100)
    discount_codes = DiscountCodeSerializer(many=True, required=False, default=list, max_length=100)
    order_discount = serializers.DecimalField(**column_bounds(SalesOrder, "discount_total"), min_value=Decimal(0), required=False,
                                              default=Decimal(0), help_text="Order-level discounts (not already in line discounts).")
    prices_include_tax = serializers.BooleanField(required=False, default=True)
    tax_total = serializers.DecimalField(**column_bounds(SalesOrder, "tax_total"), min_value=Decimal(0), required=False, default=None)
    total = serializers.DecimalField(**column_bounds(SalesOrder, "total"), min_value=Decimal(0))
    payment_status = serializers.ChoiceField(choices=[PaymentStatus.PENDING, PaymentStatus.AUTHORISED, PaymentStatus.PAID], default=PaymentStatus.PENDING)
    amount_paid = serializers.DecimalField(**MONEY, min_value=Decimal(0), required=False, default=None,
                                           help_text="What the channel has captured so far (partial captures); the total when "
                                                     "omitted and payment_status is paid.")
    payment_method = serializers.CharField(max_length=50, required=False, allow_blank=True, default="",
                                           help_text="Gateway or method that captured the money (e.g. shopify_payments, paypal); "
                                                     "the channel's code when omitted.")
    payment_reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                              help_text="The capture's transaction id; the order's external id when omitted.")
    placed_at = serializers.DateTimeField(required=False, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)

    def validate(self, data):
        """No more paid than the total. Every amount the order import stores, each line's total
        included, must fit its column; so must the order's computed total, which invoices and credit
        notes are made of. Amounts are rounded per line to the currency's minor unit, as the import
        stores them."""
        if data["amount_paid"] is not None and data["amount_paid"] > data["total"]:
            raise serializers.ValidationError({"amount_paid": gettext("%(amount_paid)s is more than the order's total (%(total)s).") % {"amount_paid": data['amount_paid'], "total": data['total']}})
        currency = data["currency"]

        def over(amount, limit=ORDER_MAX, holder="an order"):
            return f"{amount}, over the {limit} {holder} holds."

        errors = {}
        line_totals = [round_money(line["quantity"] * line["unit_price"] - line["discount"], currency) for line in data["lines"]]
        line_errors = [{"unit_price": ["Quantity × unit price − discount is " + over(total, LINE_MAX, "an order line")]}
                       if abs(total) > LINE_MAX else {}
                       for total in line_totals]
        if any(line_errors):
            errors["lines"] = line_errors
        subtotal = sum(line_totals, Decimal(0))
        shipping = sum((round_money(s["price"], currency) for s in data["shipping_lines"]), Decimal(0))
        tax = data["tax_total"]
        if tax is None:
            tax = round_money(sum(line["tax_amount"] for line in data["lines"] + data["shipping_lines"]), currency)
        total = subtotal + shipping - data["order_discount"] + (0 if data["prices_include_tax"] else tax)
        if not errors and abs(subtotal) > ORDER_MAX:
            errors["lines"] = ["The lines add up to " + over(subtotal)]
        if shipping > ORDER_MAX:
            errors["shipping_lines"] = ["The shipping lines add up to " + over(shipping)]
        if tax > ORDER_MAX:
            errors["tax_total"] = ["The tax amounts of the lines and shipping lines add up to " + over(tax)]
        if not errors and abs(total) > ORDER_MAX:
            errors["total"] = ["Lines, shipping, discount and tax add up to " + over(total)]
        if errors:
            raise serializers.ValidationError(errors)
        return data


def validate_order_payload(data: dict) -> dict:
    """Validated payload, or `serializers.ValidationError` with field-level messages."""
    serializer = OrderPayloadSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
