"""Live B2B prices for storefronts: plain DRF views over orders.pricing and catalog.pricing.

A channel token may quote only customers attached to its channel; any other code, existing or
not, answers the same 404. The price cache is synced once per call, before the token is looked
up (the token is kept too, and dropped when any token or channel changes)."""

from django.utils.translation import gettext, gettext_noop
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.pricing import UNKNOWN_SKU, format_price
from catalog.pricing.cache import TOKENS, price_cache
from hub.api.auth import ChannelTokenAuthentication
from hub.api.views import CheckedRequestMixin
from orders.pricing import channel_quote, price_cache_size

MAX_GET_SKUS, MAX_QUOTE_LINES, MAX_QUANTITY, MAX_CUSTOMER_LENGTH, MAX_SKU_LENGTH = 100, 500, 1_000_000, 50, 64
NOT_FOUND = gettext_noop("No such customer for this channel.")


class PricesQuerySerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=MAX_CUSTOMER_LENGTH, help_text="Customer code (attached to the token's channel).")
    sku = serializers.ListField(child=serializers.CharField(max_length=MAX_SKU_LENGTH), min_length=1, max_length=MAX_GET_SKUS,
                                help_text=f"Repeat for each SKU, 1 to {MAX_GET_SKUS}.")


class QuoteLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=MAX_SKU_LENGTH)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class QuoteSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=MAX_CUSTOMER_LENGTH)
    lines = QuoteLineSerializer(many=True, allow_empty=False, max_length=MAX_QUOTE_LINES)


PRICED_LINE = inline_serializer("PricedLine", {
    "sku": serializers.CharField(),
    "quantity": serializers.IntegerField(required=False, help_text="Absent on an unknown_sku line."),
    "unit_price": serializers.DecimalField(max_digits=14, decimal_places=4, required=False,
                                           help_text="Decimal string; absent when the line has an error."),
    "reference_price": serializers.DecimalField(max_digits=14, decimal_places=4, allow_null=True, required=False,
                                                help_text="The channel public list's price for the same quantity."),
    "price_list": serializers.CharField(required=False, help_text="Code of the list that gave the price."),
    "source": serializers.ChoiceField(["contract", "customer_list", "group_list", "public_list"], required=False),
    "error": serializers.ChoiceField(["unknown_sku", "no_price"], required=False,
                                     help_text="unknown_sku: no active product with this SKU; no_price: no applicable price."),
})
PRICES_RESPONSE = inline_serializer("PricesResponse", {
    "customer": serializers.CharField(), "currency": serializers.CharField(), "lines": PRICED_LINE.__class__(many=True)})
# 400, 401… are described for every operation (hub.api.schema); this one is the price API's own.
ERRORS = {404: OpenApiResponse(description="No such customer for this channel (whether the code exists elsewhere or not).")}


class PriceTokenAuthentication(ChannelTokenAuthentication):
    """The kernel's channel-token rule; the token found is kept in the price cache."""

    def authenticate(self, request):
        self.epoch = request.price_epoch = price_cache.sync(price_cache_size())
        return super().authenticate(request)

    def find_active_token(self, key_hash):
        token = price_cache.get(self.epoch, TOKENS, key_hash)
        if token is None:
            token = super().find_active_token(key_hash)
            price_cache.keep(self.epoch, TOKENS, key_hash, token)
        return token


def _line(line, currency):
    if line.error == UNKNOWN_SKU:
        return {"sku": line.sku, "error": line.error}
    reference = format_price(line.reference_price, currency)
    if line.error:
        return {"sku": line.sku, "quantity": line.quantity, "error": line.error, "reference_price": reference}
    return {"sku": line.sku, "quantity": line.quantity, "unit_price": format_price(line.unit_price, currency),
            "reference_price": reference, "price_list": line.price_list, "source": line.source}


class _PriceView(CheckedRequestMixin, APIView):
    authentication_classes = [PriceTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def quote(self, request, serializer):
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lines = [(sku, 1) for sku in data["sku"]] if "sku" in data else [(l["sku"], l["quantity"]) for l in data["lines"]]
        pricing, priced = channel_quote(epoch=request.price_epoch, channel_id=request.auth.channel_id,
                                        customer_code=data["customer"], lines=lines)
        if pricing is None:
            return Response({"detail": gettext(NOT_FOUND)}, status=status.HTTP_404_NOT_FOUND)
        currency = pricing.currency
        return Response({"customer": pricing.customer_code, "currency": currency, "lines": [_line(l, currency) for l in priced]})


class PricesView(_PriceView):
    @extend_schema(operation_id="prices_get", tags=["prices"], summary="Prices of up to 100 SKUs for one customer, quantity 1",
                   parameters=[PricesQuerySerializer], responses={200: PRICES_RESPONSE, **ERRORS})
    def get(self, request):
        return self.quote(request, PricesQuerySerializer(data=request.query_params))


class QuoteView(_PriceView):
    @extend_schema(operation_id="prices_quote", tags=["prices"], summary="Prices of up to 500 (sku, quantity) lines for one customer",
                   request=QuoteSerializer, responses={200: PRICES_RESPONSE, **ERRORS},
                   examples=[OpenApiExample("quote", request_only=True,
                                            value={"customer": "C-1001", "lines": [{"sku": "LGT-GAR-10M", "quantity": 12}]})])
    def post(self, request):
        return self.quote(request, QuoteSerializer(data=request.data))
