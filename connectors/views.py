import ipaddress

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from connectors.inbound import InboundRequest
from connectors.models import Endpoint, InboxMessage
from connectors.registry import connector_for
from connectors.services import EXCERPT_BYTES, inbox_receive, webhook_max_bytes

STATUS_OF_REJECTION = {InboxMessage.Rejection.SIGNATURE: 401, InboxMessage.Rejection.TOO_LARGE: 413, InboxMessage.Rejection.MALFORMED: 400}


def _remote_addr(request) -> str | None:
    try:
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return None


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request, code):
    """Deliveries are POSTed; a GET is only ever a vendor's endpoint check (a challenge), answered
    by the connector's `acknowledge` hook, and refused when the connector does not expect one."""
    endpoint = get_object_or_404(Endpoint, code=code, is_active=True)
    if request.method == "GET":
        inbound = InboundRequest.from_django(request, body=b"", remote_addr=_remote_addr(request) or "")
        acknowledgement = connector_for(endpoint).acknowledge(endpoint=endpoint, request=inbound)
        if acknowledgement is None:
            return JsonResponse({"error": "deliveries are POSTed; this GET is not an endpoint check the connector expects"},
                                status=405, headers={"Allow": "POST"})
        return JsonResponse(acknowledgement.body, status=acknowledgement.status)
    try:
        announced = max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        announced = 0
    # Read the body ourselves, at most one byte past the limit (only an excerpt when the announced
    # size is already too large): a huge post costs no memory and is still recorded and counted.
    limit = webhook_max_bytes()
    body = request.read(EXCERPT_BYTES if announced > limit else limit + 1)
    inbound = InboundRequest.from_django(request, body=body, remote_addr=_remote_addr(request) or "")
    acknowledgement = connector_for(endpoint).acknowledge(endpoint=endpoint, request=inbound)
    if acknowledgement is not None:
        return JsonResponse(acknowledgement.body, status=acknowledgement.status)
    message = inbox_receive(endpoint=endpoint, request=inbound, body_size=announced)
    if message.status == InboxMessage.Status.REJECTED:
        error = "invalid signature" if message.rejection == InboxMessage.Rejection.SIGNATURE else message.error
        return JsonResponse({"error": error}, status=STATUS_OF_REJECTION.get(message.rejection, 400))
    return JsonResponse({"received": message.pk, "status": message.status})
