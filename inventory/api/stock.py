from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView
from django.utils.translation import gettext

from catalog.models import Product
from hub.api.auth import request_channel
from hub.api.views import CheckedRequestMixin
from inventory.selectors import available_to_sell

MAX_SKUS = 500


class StockQuerySerializer(serializers.Serializer):
    sku = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=False, max_length=MAX_SKUS,
                                help_text=f"Repeat for each SKU, 1 to {MAX_SKUS}.")


class StockView(CheckedRequestMixin, APIView):
    """Available-to-sell for the token's sales channel."""

    @extend_schema(
        parameters=[StockQuerySerializer],
        responses={200: inline_serializer("StockResponse", {
            "channel": serializers.CharField(),
            "lines": inline_serializer("StockLine", {
                "sku": serializers.CharField(),
                "available": serializers.IntegerField(required=False, help_text="Available to sell; absent on an error line."),
                "error": serializers.ChoiceField(["unknown_sku"], required=False, help_text="No active product with this SKU."),
            }, many=True),
        }), 403: OpenApiResponse(description="A staff session: stock is quoted for a sales channel's token.")},
    )
    def get(self, request):
        query = StockQuerySerializer(data={"sku": request.query_params.getlist("sku")})
        query.is_valid(raise_exception=True)
        channel = request_channel(request)
        if channel is None:
            return Response({"detail": gettext("Stock is quoted for a sales channel: authenticate with its token.")}, status=403)
        skus = list(dict.fromkeys(query.validated_data["sku"]))
        sellable = set(Product.objects.filter(sku__in=skus, status=Product.Status.ACTIVE).values_list("sku", flat=True))
        atp = available_to_sell(channel=channel, skus=[s for s in skus if s in sellable])
        lines = [{"sku": s, "available": atp[s]} if s in sellable else {"sku": s, "error": "unknown_sku"} for s in skus]
        return Response({"channel": channel.code, "lines": lines})
