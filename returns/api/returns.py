
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView
from django.utils.translation import gettext, gettext_noop

from hub.api.auth import request_channel
from hub.api.views import CheckedRequestMixin
from orders.api.orders import IDEMPOTENCY_KEY
from orders.services import OrderError, idempotency_key_run
from returns.models import Rma, RmaLine
from returns.selectors import return_policy_of, return_window_end, rma_of_channel
from returns.services import ReturnError, refund_amount, refundable_on_order, returnable_quantity, rma_request_from_channel

STAFF_REFUSED = gettext_noop("Returns are requested and followed by a sales channel: authenticate with its token.")


class ReturnLineRequestSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    reason = serializers.ChoiceField(choices=RmaLine.Reason.choices, required=False, default=RmaLine.Reason.OTHER)
    replacement_sku = serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                            help_text="Exchange: the SKU to send instead of a refund for these units.")


class ReturnRequestSerializer(serializers.Serializer):
    order_number = serializers.CharField(max_length=20, required=False, default="", help_text="The hub's order number (SO-…).")
    order_external_id = serializers.CharField(max_length=100, required=False, default="", help_text="The channel's own order id.")
    lines = ReturnLineRequestSerializer(many=True, allow_empty=False, max_length=1000)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, data):
        if bool(data["order_number"]) == bool(data["order_external_id"]):
            raise serializers.ValidationError(gettext("Give the order's `order_number` or its `order_external_id`, "
                                                      "one of them."))
        return data


class ReturnLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    reason = serializers.CharField()
    replacement_sku = serializers.CharField(allow_null=True)
    received_quantity = serializers.IntegerField()
    condition = serializers.CharField(allow_null=True, help_text="After inspection: sellable, damaged, defective or missing.")


class ReturnableSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    shipped = serializers.IntegerField()
    returnable = serializers.IntegerField(help_text="Units that may still be returned.")


class RefundSerializer(serializers.Serializer):
    expected = serializers.DecimalField(max_digits=14, decimal_places=2,
                                        help_text="What the channel's policy refunds once every unit is back and passes inspection.")
    refunded = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    when = serializers.ChoiceField(choices=["carrier_scan", "received", "inspected"], help_text="The step that triggers the refund.")
    method = serializers.ChoiceField(choices=["original", "store_credit"],
                                     help_text="How it reaches the customer: back the way the order was paid, or as store credit.")


class OrderReferenceSerializer(serializers.Serializer):
    number = serializers.CharField()
    external_id = serializers.CharField()


class ReturnSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=["requested", "authorised", "rejected", "in_transit", "received", "inspected", "refunded",
                                              "closed", "cancelled"])
    order = OrderReferenceSerializer()
    lines = ReturnLineSerializer(many=True)
    returnable = ReturnableSerializer(many=True, help_text="The order's shipped lines and what may still be returned of each.")
    returnable_until = serializers.DateField(allow_null=True)
    refund = RefundSerializer()
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    replacement_order = serializers.CharField(allow_null=True, help_text="The order that ships the exchanged goods.")
    credit_notes = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()


def return_body(rma) -> dict:
    order = rma.order
    worth, _ = refund_amount(rma=rma, expected=True)
    refundable = refundable_on_order(order=order)
    expected = max(min(worth, rma.refunded_total + refundable), rma.refunded_total) if refundable is not None else worth
    return ReturnSerializer({
        "number": rma.number, "status": rma.status, "order": {"number": order.number, "external_id": order.external_id},
        "lines": [{"sku": l.order_line.sku, "name": l.order_line.name, "quantity": l.quantity, "reason": l.reason,
                   "replacement_sku": l.replacement_product.sku if l.replacement_product_id else None,
                   "received_quantity": l.received_quantity, "condition": l.condition or None}
                  for l in rma.lines.select_related("order_line", "replacement_product")],
        "returnable": [{"sku": l.sku, "name": l.name, "shipped": l.quantity_shipped, "returnable": max(returnable_quantity(order_line=l), 0)}
                       for l in order.lines.all() if l.quantity_shipped],
        "returnable_until": return_window_end(order=order),
        "refund": {"expected": expected, "refunded": rma.refunded_total, "currency": order.currency,
                   "when": return_policy_of(channel=rma.channel).refund_trigger, "method": rma.refund_method},
        "carrier": rma.carrier, "tracking_number": rma.tracking_number,
        "replacement_order": rma.replacement_order.number if rma.replacement_order_id else None,
        "credit_notes": list(rma.credit_notes.order_by("pk").values_list("credit_note__number", flat=True)),
        "created_at": rma.created_at,
    }).data


EXAMPLE = {
    "number": "RMA-000042", "status": "authorised", "order": {"number": "SO-001234", "external_id": "1001"},
    "lines": [{"sku": "LAMP-1", "name": "Lampe", "quantity": 1, "reason": "size_fit", "replacement_sku": None,
               "received_quantity": 0, "condition": None}],
    "returnable": [{"sku": "LAMP-1", "name": "Lampe", "shipped": 2, "returnable": 1}], "returnable_until": "2026-12-31",
    "refund": {"expected": "25.00", "refunded": "0.00", "currency": "EUR", "when": "inspected", "method": "original"},
    "carrier": "", "tracking_number": "", "replacement_order": None, "credit_notes": [], "created_at": "2026-12-01T10:00:00Z",
}


class ReturnsView(CheckedRequestMixin, APIView):
    """Start a return for one of the token's channel's orders."""

    @extend_schema(
        request=ReturnRequestSerializer,
        responses={201: ReturnSerializer,
                   403: OpenApiResponse(description=STAFF_REFUSED),
                   422: OpenApiResponse(description="The Idempotency-Key was used with another body, or the return cannot be "
                                                    "taken: no such order on this channel, a SKU not on it, more units than are "
                                                    "returnable, or the channel's return window has ended.")},
        parameters=[
            OpenApiParameter("Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[ -~]+$"},
                             OpenApiParameter.HEADER, required=False,
                             description="As for orders: 1 to 100 printable ASCII characters, per channel; the same key with "
                                         "the same body (even concurrently) gets the first answer again with "
                                         "`Idempotent-Replayed: true`, with another body 422; a refused request leaves it free."),
            OpenApiParameter("Idempotent-Replayed", {"type": "string", "enum": ["true"]}, OpenApiParameter.HEADER,
                             response=[201], description="Present when the answer is a replay of an earlier request's."),
        ],
        examples=[
            OpenApiExample("a return", request_only=True, value={
                "order_external_id": "1001", "lines": [{"sku": "LAMP-1", "quantity": 1, "reason": "size_fit"}]}),
            OpenApiExample("an exchange", request_only=True, value={
                "order_number": "SO-001234", "lines": [{"sku": "LAMP-1", "quantity": 1, "reason": "size_fit", "replacement_sku": "LAMP-2"}]}),
            OpenApiExample("authorised", response_only=True, status_codes=["201"], value=EXAMPLE),
        ],
        summary="Request a return", tags=["returns"],
    )
    def post(self, request):
        channel = request_channel(request)
        if channel is None:
            return Response({"detail": gettext(STAFF_REFUSED)}, status=403)
        key = request.headers.get("Idempotency-Key", "").strip()
        if key and not IDEMPOTENCY_KEY.fullmatch(key):
            return Response({"Idempotency-Key": ["Use 1 to 100 printable ASCII characters."]}, status=400)
        incoming = ReturnRequestSerializer(data=request.data)

        def submit():
            incoming.is_valid(raise_exception=True)
            rma = rma_request_from_channel(channel=channel, **incoming.validated_data, actor_label=f"api:{channel.code}")
            return status.HTTP_201_CREATED, return_body(rma)

        try:
            if key:
                # The key's namespace is the channel's, shared with orders; the wrapper keeps a
                # return's body from ever matching an order's.
                code, body, replayed = idempotency_key_run(channel=channel, key=key, payload={"return": request.data}, run=submit)
            else:
                (code, body), replayed = submit(), False
        except (ReturnError, OrderError) as exc:
            return Response({"detail": str(exc)}, status=422)
        return Response(body, status=code, headers={"Idempotent-Replayed": "true"} if replayed else None)


class ReturnView(CheckedRequestMixin, APIView):
    """Follow one of the channel's returns."""

    @extend_schema(
        responses={200: ReturnSerializer,
                   403: OpenApiResponse(description=STAFF_REFUSED),
                   404: OpenApiResponse(description="No return with this number on this channel's orders.")},
        parameters=[OpenApiParameter("number", {"type": "string", "minLength": 1, "maxLength": Rma._meta.get_field("number").max_length},
                                     OpenApiParameter.PATH, description="The return's number (RMA-…).")],
        examples=[OpenApiExample("refunded", response_only=True, status_codes=["200"], value={
            **EXAMPLE, "status": "refunded", "carrier": "Colissimo", "tracking_number": "8R0012345678",
            "lines": [{**EXAMPLE["lines"][0], "received_quantity": 1, "condition": "sellable"}],
            "refund": {**EXAMPLE["refund"], "refunded": "25.00"}, "credit_notes": ["CN-2026-000017"]})],
        summary="Follow a return", tags=["returns"],
    )
    def get(self, request, number):
        channel = request_channel(request)
        if channel is None:
            return Response({"detail": gettext(STAFF_REFUSED)}, status=403)
        rma = rma_of_channel(channel=channel, number=number)
        if rma is None:
            return Response({"detail": gettext("No return with this number.")}, status=404)
        return Response(return_body(rma))
