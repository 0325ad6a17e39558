import re
from django.utils.translation import gettext

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api.auth import request_channel
from hub.api.views import CheckedRequestMixin
from orders.services import OrderError, idempotency_key_run, order_import
from orders.validation import OrderPayloadSerializer

IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,100}")


class OrderResultSerializer(serializers.Serializer):
    number = serializers.CharField()
    external_id = serializers.CharField()
    status = serializers.CharField()
    hold_reason = serializers.CharField()
    payment_status = serializers.CharField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    created = serializers.BooleanField()


class OrdersView(CheckedRequestMixin, APIView):
    """Create or update an order for the token's channel (idempotent on `external_id`)."""

    @extend_schema(
        request=OrderPayloadSerializer,
        responses={201: OrderResultSerializer, 200: OrderResultSerializer,
                   403: OpenApiResponse(description="A staff session: orders are submitted with a sales channel's token."),
                   422: OpenApiResponse(description="The Idempotency-Key was used with another body, or the order cannot "
                                                    "be taken as sent (e.g. a customer code that is not this channel's).")},
        parameters=[
            OpenApiParameter("Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[ -~]+$"},
                             OpenApiParameter.HEADER, required=False,
                             description="1 to 100 printable ASCII characters, per channel. The first request with a key "
                                         "is the one that acts; the same key with the same body (even concurrently) gets its "
                                         "answer again, with `Idempotent-Replayed: true`; with another body, 422. A request "
                                         "refused with 400 or 422 does not use up its key."),
            OpenApiParameter("Idempotent-Replayed", {"type": "string", "enum": ["true"]}, OpenApiParameter.HEADER,
                             response=[200, 201], description="Present when the answer is a replay of an earlier request's."),
        ],
        summary="Submit an order",
    )
    def post(self, request):
        channel = request_channel(request)
        if channel is None:
            return Response({"detail": gettext("Orders are submitted by a sales channel: authenticate with its token.")}, status=403)
        key = request.headers.get("Idempotency-Key", "").strip()
        if key and not IDEMPOTENCY_KEY.fullmatch(key):
            return Response({"Idempotency-Key": ["Use 1 to 100 printable ASCII characters."]}, status=400)

        def submit():
            order, created = order_import(channel=channel, data=request.data, actor_label=f"api:{channel.code}")
            body = OrderResultSerializer({
                "number": order.number, "external_id": order.external_id, "status": order.status, "hold_reason": order.hold_reason,
                "payment_status": order.payment_status, "total": order.total, "currency": order.currency, "created": created,
            }).data
            return (status.HTTP_201_CREATED if created else status.HTTP_200_OK), body

        try:
            if key:
                code, body, replayed = idempotency_key_run(channel=channel, key=key, payload=request.data, run=submit)
            else:
                (code, body), replayed = submit(), False
        except OrderError as exc:
            return Response({"detail": str(exc)}, status=422)
        return Response(body, status=code, headers={"Idempotent-Replayed": "true"} if replayed else None)
