from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connectors.inbound import InboundRequest
from connectors.models import Endpoint, InboxMessage
from connectors.registry import connector_for
from connectors.services import inbox_receive


@csrf_exempt
@require_POST
def webhook(request, code):
    endpoint = get_object_or_404(Endpoint, code=code, is_active=True)
    inbound = InboundRequest.from_django(request)
    acknowledgement = connector_for(endpoint).acknowledge(endpoint=endpoint, request=inbound)
    if acknowledgement is not None:
        return JsonResponse(acknowledgement.body, status=acknowledgement.status)
    message = inbox_receive(endpoint=endpoint, request=inbound)
    if message.status == InboxMessage.Status.REJECTED:
        return JsonResponse({"error": "invalid signature"}, status=401)
    return JsonResponse({"received": message.pk, "status": message.status})
