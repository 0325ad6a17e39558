"""The order payload every channel sends (API, connectors, staff), validated once for all."""

from decimal import Decimal

from rest_framework import serializers

from orders.models import PaymentStatus

MONEY = {"max_digits": 14, "decimal_places": 2}


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
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")

    def validate(self, data):
        if not (data["external_id"] or data["code"] or data["email"]):
            raise serializers.ValidationError("Give the customer's code, external id or e-mail.")
        return data


class LineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=4, min_value=Decimal(0))
    discount = serializers.DecimalField(**MONEY, min_value=Decimal(0), required=False, default=Decimal(0))
    tax_rate = serializers.DecimalField(max_digits=6, decimal_places=4, min_value=Decimal(0), max_value=Decimal(1), required=False, default=Decimal(0))
    tax_amount = serializers.DecimalField(**MONEY, min_value=Decimal(0), required=False, default=Decimal(0))


class ShippingLineSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    code = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    price = serializers.DecimalField(**MONEY, min_value=Decimal(0))
    tax_amount = serializers.DecimalField(**MONEY, min_value=Decimal(0), required=False, default=Decimal(0))


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
    shipping_lines = ShippingLineSerializer(many=True, required=False, default=list)
    discount_codes = DiscountCodeSerializer(many=True, required=False, default=list)
    order_discount = serializers.DecimalField(**MONEY, min_value=Decimal(0), required=False, default=Decimal(0),
                                              help_text="Order-level discounts (not already in line discounts).")
    prices_include_tax = serializers.BooleanField(required=False, default=True)
    tax_total = serializers.DecimalField(**MONEY, min_value=Decimal(0), required=False, default=None)
    total = serializers.DecimalField(**MONEY, min_value=Decimal(0))
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
        if data["amount_paid"] is not None and data["amount_paid"] > data["total"]:
            raise serializers.ValidationError({"amount_paid": f"{data['amount_paid']} is more than the order's total ({data['total']})."})
        return data


def validate_order_payload(data: dict) -> dict:
    """Validated payload, or `serializers.ValidationError` with field-level messages."""
    serializer = OrderPayloadSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
