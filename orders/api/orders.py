import hashlib

from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api.auth import request_channel
from orders.models import IdempotencyKey
from orders.services import OrderError, order_import
from orders.validation import OrderPayloadSerializer


class OrderResultSerializer(serializers.Serializer):
    number = serializers.CharField()
    external_id = serializers.CharField()
    status = serializers.CharField()
    hold_reason = serializers.CharField()
    payment_status = serializers.CharField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    created = serializers.BooleanField()


class OrdersView(APIView):
    """Create or update an order for the token's channel (idempotent on `external_id`)."""

    @extend_schema(
        request=OrderPayloadSerializer, responses={201: OrderResultSerializer, 200: OrderResultSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
                                     description="Same key + same body → the same answer; same key + another body → 422.")],
        summary="Submit an order",
    )
    def post(self, request):
        channel = request_channel(request)
        if channel is None:
            return Response({"detail": "Orders are submitted by a sales channel: authenticate with its token."}, status=403)
        key = request.headers.get("Idempotency-Key", "").strip()[:100]
        body_hash = hashlib.sha256(request.body).hexdigest()
        if key:
            previous = IdempotencyKey.objects.filter(channel=channel, key=key).first()
            if previous is not None:
                if previous.body_hash != body_hash:
                    return Response({"detail": "This Idempotency-Key was used with a different body."}, status=422)
                return Response(previous.response, status=previous.status_code)
        try:
            with transaction.atomic():
                order, created = order_import(channel=channel, data=request.data, actor_label=f"api:{channel.code}")
                body = {**OrderResultSerializer({
                    "number": order.number, "external_id": order.external_id, "status": order.status, "hold_reason": order.hold_reason,
                    "payment_status": order.payment_status, "total": order.total, "currency": order.currency, "created": created,
                }).data}
                code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
                if key:
                    IdempotencyKey.objects.create(channel=channel, key=key, body_hash=body_hash, status_code=code, response=body)
        except OrderError as exc:
            return Response({"detail": str(exc)}, status=422)
        except IntegrityError:
            previous = IdempotencyKey.objects.filter(channel=channel, key=key).first()
            if previous is None:
                raise
            return Response(previous.response, status=previous.status_code)
        return Response(body, status=code)
