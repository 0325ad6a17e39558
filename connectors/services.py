"""Inbox: store every delivery raw first, verify, dedupe, then process in a task (replayable)."""

import hashlib
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.datastructures import CaseInsensitiveMapping
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from connectors.errors import RefusedData, message_of
from connectors.inbound import InboundRequest
from connectors.models import Binding, Endpoint, InboxMessage, InboxRejection
from connectors.registry import connector_for
from hub.texts import Text

logger = logging.getLogger(__name__)
KEPT_HEADERS_PREFIXES = ("x-", "content-type", "user-agent")
EXCERPT_BYTES = 2048  # what is kept of a delivery that is unsigned or too large
REJECTED_KEPT_PER_HOUR = 100  # per endpoint, source address and reason; the others are only counted


def escape_nul(text: str) -> str:
    """Text the database can store: PostgreSQL refuses NUL characters in text and JSON."""
    return text.replace("\x00", "\\x00")


def _headers(request_headers) -> dict:
    return {escape_nul(k): escape_nul(v) for k, v in request_headers.items() if k.lower().startswith(KEPT_HEADERS_PREFIXES)}


def credentials_parse(items) -> dict:
    """NAME=VALUE items (command-line options, or lines of the admin form) → a credentials dict.
    Errors never quote the value: it is a secret."""
    credentials = {}
    for number, item in enumerate(items, start=1):
        if not item.strip():
            continue
        if "=" not in item:
            raise ValidationError(_("Credential %(number)s: write NAME=VALUE.") % {"number": number})
        name, value = item.split("=", 1)
        credentials[name.strip()] = value.strip()
    return credentials


def settings_parse(items) -> dict:
    """NAME=VALUE items (`hub_endpoint add --setting`) → raw settings; the connector's settings form validates them."""
    values = {}
    for item in items:
        if "=" not in item:
            raise ValidationError({"settings": [_("%(item)s: write NAME=VALUE.") % {"item": item[:100]}]})
        name, value = item.split("=", 1)
        values[name.strip()] = value.strip()
    return values


def endpoint_save(*, code: str, kind: str, base_url: str, channel, name: str = "", credentials: dict | None = None,
                  webhook_secret: str | None = None, settings: dict | None = None) -> tuple[Endpoint, bool]:
    """Add or update an endpoint, validated as the admin form validates it (`Endpoint.clean`,
    which also validates the settings with the connector's form); None for credentials, webhook
    secret or settings keeps the current ones; given settings are merged over the current ones."""
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().filter(code=code).first()
        created = endpoint is None
        if created:
            endpoint = Endpoint(code=code)
        endpoint.kind, endpoint.base_url, endpoint.channel = kind, base_url, channel
        endpoint.name = name or endpoint.name or code
        if settings is not None:
            endpoint.settings = {**(endpoint.settings or {}), **settings}
        endpoint.secrets_replace(credentials=credentials, webhook_secret=webhook_secret)
        endpoint.full_clean()
        endpoint.save()
    return endpoint, created


def webhook_max_bytes() -> int:
    return int(getattr(settings, "HUB_WEBHOOK_MAX_BYTES", 2_621_440))


def inbox_receive(*, endpoint: Endpoint, request, body_size: int | None = None) -> InboxMessage:
    """Record a webhook delivery (`connectors.inbound.InboundRequest`). Too large, unsigned or
    unreadable deliveries are stored as rejected (unsigned or too large: only an excerpt) and
    counted per source, never processed; a delivery id already accepted is stored as a duplicate
    and not processed again. `body_size` is the announced size when only the start of a
    too-large body was read."""
    connector = connector_for(endpoint)
    body = request.body
    raw_id = str(connector.delivery_id(request) or "")
    size = len(body) if body_size is None else max(body_size, len(body))
    fields = {"endpoint": endpoint, "delivery_id": escape_nul(raw_id), "topic": escape_nul(str(connector.topic(request) or ""))[:100],
              "delivery_key": hashlib.sha256(raw_id.encode("utf-8", errors="surrogatepass")).hexdigest() if raw_id else "",
              "headers": _headers(request.headers), "remote_addr": request.remote_addr or None, "body_size": size}
    if size > webhook_max_bytes():
        return _reject(fields, body[:EXCERPT_BYTES], InboxMessage.Rejection.TOO_LARGE,
                       Text(gettext_noop("the body has %(size)s bytes, over the limit of %(limit)s bytes (HUB_WEBHOOK_MAX_BYTES); only its "
                                         "first %(kept)s bytes are kept"), size=size, limit=webhook_max_bytes(), kept=EXCERPT_BYTES))
    if not _signature_ok(connector, endpoint, request):
        return _reject(fields, body[:EXCERPT_BYTES], InboxMessage.Rejection.SIGNATURE, Text(gettext_noop("signature does not match")))
    try:
        for name, value in request.headers.items():
            if "\x00" in name or "\x00" in value:
                raise RefusedData(Text(gettext_noop("the header %(name)s contains a NUL character"), name=escape_nul(name)[:100]))
        connector.parse_webhook(body)
    except ValueError as exc:
        return _reject(fields, body, InboxMessage.Rejection.MALFORMED, message_of(exc), signature_ok=True)
    try:
        with transaction.atomic():
            message = InboxMessage.objects.create(**fields, body=body, signature_ok=True)
    except IntegrityError:
        return InboxMessage.objects.create(**fields, body=body, signature_ok=True, status=InboxMessage.Status.DUPLICATE)
    transaction.on_commit(lambda: inbox_drain_request(message_id=message.pk))
    return message


def _signature_ok(connector, endpoint, request) -> bool:
    try:
        return bool(connector.verify_webhook(endpoint=endpoint, request=request))
    except Exception:  # a header the vendor's check cannot even read is a bad signature
        logger.warning("webhook signature check for %s raised; delivery rejected", endpoint.code, exc_info=True)
        return False


def _stored(message) -> dict | None:
    """A Text as stored (NUL characters escaped: PostgreSQL refuses them); None for a plain string."""
    if not isinstance(message, Text):
        return None
    return _nul_escaped(message.stored())


def _nul_escaped(value):
    if isinstance(value, str):
        return escape_nul(value)
    if isinstance(value, dict):
        return {escape_nul(key): _nul_escaped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nul_escaped(item) for item in value]
    return value


def _reject(fields: dict, body: bytes, reason: str, error: "Text | str", *, signature_ok: bool = False) -> InboxMessage:
    """Count the rejection for its source; keep the delivery in the inbox unless this source has
    already had REJECTED_KEPT_PER_HOUR of this kind kept this hour (a flood is only counted)."""
    now = timezone.now()
    source = {"endpoint": fields["endpoint"], "remote_addr": fields["remote_addr"] or "", "reason": reason}
    message = InboxMessage(**fields, body=body, signature_ok=signature_ok, status=InboxMessage.Status.REJECTED, rejection=reason,
                           error=escape_nul(str(error)), error_text=_stored(error))
    with transaction.atomic():
        counter = InboxRejection.objects.select_for_update().filter(**source).first()
        if counter is None:
            try:
                with transaction.atomic():
                    counter = InboxRejection.objects.create(**source, last_at=now)
            except IntegrityError:  # another delivery from the same source counted first
                counter = InboxRejection.objects.select_for_update().get(**source)
        if counter.window_start is None or now - counter.window_start >= timedelta(hours=1):
            counter.window_start, counter.window_kept = now, 0
        keep = counter.window_kept < REJECTED_KEPT_PER_HOUR
        counter.count += 1
        counter.bytes_received += fields["body_size"]
        counter.window_kept += keep
        counter.last_at = now
        counter.save(update_fields=["count", "bytes_received", "window_start", "window_kept", "last_at"])
        if keep:
            message.save()
    return message


def inbox_signature_check(*, message: InboxMessage) -> bool:
    """Check the stored delivery's signature again, against its stored bytes and headers (a proof
    carried in the webhook URL's query string is not stored, so it cannot be checked again)."""
    connector = connector_for(message.endpoint)
    request = InboundRequest(method="POST", path=f"/webhooks/{message.endpoint.code}/", query={},
                             headers=CaseInsensitiveMapping(message.headers), body=bytes(message.body), remote_addr=message.remote_addr or "",
                             content_type=CaseInsensitiveMapping(message.headers).get("Content-Type", "").split(";")[0].strip())
    return _signature_ok(connector, message.endpoint, request)


# --- Processing: a drain task per burst of deliveries, not a task per delivery -----------------
#
# A stored delivery asks for a drain (`inbox_drain_request`, after its commit). Within
# DRAIN_GATE_SECONDS of a request, later deliveries of the same slot (one slot per task-cluster
# worker, so that the workers drain side by side) queue nothing; the task that was queued
# drains until the inbox is empty and, if it finishes before its request's gate closes, looks
# again once it has closed, so every delivery the gate let through is seen. A scheduled sweep
# catches what a lost task or a clock difference between machines would leave.

DRAIN_GATE_SECONDS = 1.0
DRAIN_BATCH = 100
DRAIN_BUDGET_SECONDS = 50


def _drain_slots() -> int:
    return max(1, int(settings.Q_CLUSTER.get("workers") or 1))


def inbox_drain_request(*, message_id: int) -> None:
    """Have the accepted delivery processed soon: queue a drain unless one of its slot was
    queued less than DRAIN_GATE_SECONDS ago (synchronous task mode: always, and it runs now)."""
    from django_q.tasks import async_task

    if settings.Q_CLUSTER.get("sync"):
        async_task("connectors.tasks.inbox_drain_task", None)
        return
    if cache.add(f"connectors:inbox-drain:{message_id % _drain_slots()}", 1, timeout=DRAIN_GATE_SECONDS):
        async_task("connectors.tasks.inbox_drain_task", time.time())


def inbox_drain(*, requested_at: float | None = None, batch: int = DRAIN_BATCH, budget_seconds: float = DRAIN_BUDGET_SECONDS) -> int:
    """Process accepted deliveries, oldest first, until none is left or the time budget is
    spent (another drain then carries on). Each delivery in its own transaction, so one that
    fails is recorded as failed and the others go on; a delivery another drain is processing
    is skipped (PostgreSQL's SKIP LOCKED; SQLite's writers take turns). Returns how many this
    run applied. Safe to run twice and side by side: a message is applied once."""
    deadline = time.monotonic() + budget_seconds
    reopen_at = (requested_at + DRAIN_GATE_SECONDS) if requested_at else None
    done = 0
    while time.monotonic() < deadline:
        ids = list(InboxMessage.objects.filter(status=InboxMessage.Status.RECEIVED, signature_ok=True)
                   .order_by("id").values_list("pk", flat=True)[:batch])
        for message_id in ids:
            if time.monotonic() >= deadline:
                break
            done += _process_one(message_id, {InboxMessage.Status.RECEIVED}, skip_locked=True)[1]
        if len(ids) == batch:
            continue
        wait = (reopen_at - time.time()) if reopen_at else 0
        if wait <= 0 or time.monotonic() + wait >= deadline:
            if reopen_at and wait > 0:
                _drain_again()  # out of budget: another run takes the last look
            break
        time.sleep(wait)
        reopen_at = None  # one more pass after the gate has closed, then done
    else:
        _drain_again()  # out of budget with deliveries left: another run carries on
    return done


def _drain_again() -> None:
    from django_q.tasks import async_task

    async_task("connectors.tasks.inbox_drain_task", None)


def inbox_process(*, message_id: int, replay: bool = False) -> InboxMessage:
    """Apply one accepted message. Safe to run twice: a processed message is left alone unless
    replayed on purpose (order import is idempotent anyway)."""
    allowed = {InboxMessage.Status.RECEIVED} | ({InboxMessage.Status.FAILED, InboxMessage.Status.PROCESSED} if replay else set())
    return _process_one(message_id, allowed, skip_locked=False)[0]


def _process_one(message_id: int, allowed: set, *, skip_locked: bool) -> tuple[InboxMessage | None, bool]:
    """Lock the message, apply it and record the outcome in one transaction (the outcome is
    committed with what it did, so a message is never applied twice), and whether it was applied
    now; (None, False) when another worker holds it and `skip_locked`. A failure rolls back what the message did (a savepoint) and is
    recorded on the message for a person to fix."""
    with transaction.atomic():
        message = (InboxMessage.objects.select_for_update(of=("self",), skip_locked=skip_locked)
                   .select_related("endpoint__channel").filter(pk=message_id).first())
        if message is None:
            if skip_locked:
                return None, False
            raise InboxMessage.DoesNotExist(f"no inbox message {message_id}")
        if message.status not in allowed or not message.signature_ok:
            return message, False
        message.attempts += 1
        try:
            with transaction.atomic():
                outcome = connector_for(message.endpoint).process(message=message)
        except Exception as exc:  # any mapping or validation problem is recorded for a person to fix
            logger.warning("inbox message %s failed: %s", message.pk, exc)
            error = Text(gettext_noop("%(kind)s: %(error)s"), kind=type(exc).__name__, error=message_of(exc))
            message.status, message.error, message.error_text = InboxMessage.Status.FAILED, escape_nul(str(error)[:5000]), _stored(error)
        else:
            message.status = InboxMessage.Status.IGNORED if outcome == "ignored" else InboxMessage.Status.PROCESSED
            message.error, message.error_text = escape_nul(str(outcome)), _stored(outcome)
        message.processed_at = timezone.now()
        message.save(update_fields=["attempts", "status", "error", "error_text", "processed_at"])
    return message, True


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


def endpoint_secrets_reseal() -> int:
    """Seal every endpoint's secrets with the first key of HUB_CREDENTIALS_KEYS (key rotation), in
    one transaction: a secret no configured key opens stops it with nothing changed."""
    from connectors.vault import reseal

    with transaction.atomic():
        endpoints = list(Endpoint.objects.select_for_update())
        for endpoint in endpoints:
            Endpoint.objects.filter(pk=endpoint.pk).update(credentials_sealed=reseal(endpoint.credentials_sealed),
                                                           webhook_secret_sealed=reseal(endpoint.webhook_secret_sealed))
    return len(endpoints)
