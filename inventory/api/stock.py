from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Product
from hub.api.auth import request_channel
from hub.api.views import CheckedRequestMixin
from inventory.selectors import available_to_sell

MAX_SKUS = 500


class StockQuerySerializer(serializers.Serializer):
    sku = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=False, max_length=MAX_SKUS)


class StockView(CheckedRequestMixin, APIView):
    """Available-to-sell for the token's sales channel."""

    @extend_schema(
        parameters=[OpenApiParameter("sku", str, many=True, required=True, description=f"Up to {MAX_SKUS} SKUs")],
        responses=inline_serializer("StockResponse", {
            "channel": serializers.CharField(),
            "lines": serializers.ListField(child=serializers.DictField()),
        }),
    )
    def get(self, request):
        query = StockQuerySerializer(data={"sku": request.query_params.getlist("sku")})
        query.is_valid(raise_exception=True)
        channel = request_channel(request)
        if channel is None:
            return Response({"detail": "Stock is quoted for a sales channel: authenticate with its token."}, status=403)
        skus = list(dict.fromkeys(query.validated_data["sku"]))
        sellable = set(Product.objects.filter(sku__in=skus, status=Product.Status.ACTIVE).values_list("sku", flat=True))
        atp = available_to_sell(channel=channel, skus=[s for s in skus if s in sellable])
        lines = [{"sku": s, "available": atp[s]} if s in sellable else {"sku": s, "error": "unknown_sku"} for s in skus]
        return Response({"channel": channel.code, "lines": lines})
