"""Inbox: store every delivery raw first, verify, dedupe, then process in a task (replayable)."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors.models import Binding, Endpoint, InboxMessage
from connectors.registry import connector_for
from hub.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)
KEPT_HEADERS_PREFIXES = ("x-", "content-type", "user-agent")


def _headers(request_headers) -> dict:
    return {k: v for k, v in request_headers.items() if k.lower().startswith(KEPT_HEADERS_PREFIXES)}


def inbox_receive(*, endpoint: Endpoint, request) -> InboxMessage:
    """Record a webhook delivery (`connectors.inbound.InboundRequest`). Bad signatures are stored
    as rejected and never processed; a delivery id already accepted is stored as a duplicate and
    not processed again."""
    connector = connector_for(endpoint)
    kept = _headers(request.headers)
    body = request.body
    signature_ok = connector.verify_webhook(endpoint=endpoint, request=request)
    delivery_id, topic = connector.delivery_id(request)[:100], connector.topic(request)[:100]
    text = body.decode("utf-8", errors="replace")
    if not signature_ok:
        return InboxMessage.objects.create(endpoint=endpoint, delivery_id=delivery_id, topic=topic, headers=kept, body=text,
                                           signature_ok=False, status=InboxMessage.Status.REJECTED, error="signature does not match")
    try:
        with transaction.atomic():
            message = InboxMessage.objects.create(endpoint=endpoint, delivery_id=delivery_id, topic=topic, headers=kept, body=text, signature_ok=True)
            enqueue_on_commit("connectors.tasks.inbox_process_task", message.pk)
    except IntegrityError:
        message = InboxMessage.objects.create(endpoint=endpoint, delivery_id=delivery_id, topic=topic, headers=kept, body=text,
                                              signature_ok=True, status=InboxMessage.Status.DUPLICATE)
    return message


def inbox_process(*, message_id: int, replay: bool = False) -> InboxMessage:
    """Apply one accepted message. Safe to run twice: a processed message is left alone unless
    replayed on purpose (order import is idempotent anyway)."""
    allowed = {InboxMessage.Status.RECEIVED} | ({InboxMessage.Status.FAILED, InboxMessage.Status.PROCESSED} if replay else set())
    message = InboxMessage.objects.select_related("endpoint__channel").get(pk=message_id)
    if message.status not in allowed or not message.signature_ok:
        return message
    connector = connector_for(message.endpoint)
    InboxMessage.objects.filter(pk=message.pk).update(attempts=message.attempts + 1)
    try:
        with transaction.atomic():
            outcome = connector.process(message=message)
    except Exception as exc:  # any mapping or validation problem is recorded for a person to fix
        logger.warning("inbox message %s failed: %s", message.pk, exc)
        InboxMessage.objects.filter(pk=message.pk).update(status=InboxMessage.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:5000],
                                                          processed_at=timezone.now())
    else:
        status = InboxMessage.Status.IGNORED if outcome == "ignored" else InboxMessage.Status.PROCESSED
        InboxMessage.objects.filter(pk=message.pk).update(status=status, error=outcome, processed_at=timezone.now())
    return InboxMessage.objects.get(pk=message.pk)


def binding_save(*, endpoint, model: str, local_id, external_id, fingerprint_value: str = "", data: dict | None = None) -> Binding:
    """Store the vendor id at once, in its own transaction, so a crash later in the job never
    leads to creating the same record twice."""
    with transaction.atomic():
        binding, _ = Binding.objects.update_or_create(
            endpoint=endpoint, model=model, local_id=str(local_id),
            defaults={"external_id": str(external_id), **({"fingerprint": fingerprint_value} if fingerprint_value else {}),
                      **({"data": data} if data is not None else {})})
    return binding


def endpoint_credentials_refresh(*, endpoint_id: int, refresh) -> dict:
    """Replace an endpoint's credentials through `refresh(current) -> new or None`, one process at
    a time: the endpoint row stays locked from reading the current credentials until the new ones
    are stored, so two workers never spend the same single-use refresh token, and a worker that
    waited sees (and keeps) what the first one stored when `refresh` returns None."""
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint_id)
        current = endpoint.credentials
        new = refresh(current)
        if new is None:
            return current
        endpoint.credentials = {**current, **new}
        endpoint.save(update_fields=["credentials_sealed"])
        return endpoint.credentials
