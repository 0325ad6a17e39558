"""What the hub remembers about its 3PLs, through the binder: items, released order parts,
shipments and returns, and the reads built on them (what is still awaiting shipment)."""

import hashlib
import json
import logging
from datetime import datetime
from datetime import timezone as dt_timezone

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from connectors.binder import RETURN, Binder, binding_type
from connectors.errors import PermanentError
from hub.texts import Text

logger = logging.getLogger(__name__)

ITEM = binding_type("fulfilment_item", "3PL item", "catalog.product")
RELEASE = binding_type("fulfilment_release", "Order part at a 3PL", "orders.salesorder")
PARCEL = binding_type("fulfilment_shipment", "3PL shipment", "orders.shipment")
EXPECTED_RETURN = RETURN

# States of a released part (binding data "state"): the 3PL may still ship "open" and "held"
# parts; "cancelled" ones it will not; "closed" ones are shipped in full.
OPEN, HELD, CANCELLED, CLOSED = "open", "held", "cancelled", "closed"
LIVE_STATES = (OPEN, HELD)


def fingerprint(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def release_key(order_id, warehouse_code: str) -> str:
    return f"{order_id}:{warehouse_code}"


def release_reference(order_number: str, warehouse_code: str, generation: int) -> str:
    """The idempotency key of a part: the order number and its warehouse; a part released again
    after a cancellation (a hold at a 3PL without holds, a move) gets a new one."""
    base = f"{order_number}-{warehouse_code}"
    return base if generation <= 1 else f"{base}-{generation}"


def now_iso() -> str:
    return stamp(timezone.now())


def stamp(moment: datetime) -> str:
    """A moment as stored in binding data: UTC, always with microseconds, so the text sorts as time."""
    return moment.astimezone(dt_timezone.utc).isoformat(timespec="microseconds")


def mapped_locations(endpoint) -> dict[str, str]:
    """The endpoint's warehouse map as its settings say, unchecked: for deciding, inside a domain
    write, whether a change concerns the endpoint (a conflict shows when the job runs)."""
    from connectors.registry import connector_for

    try:
        return connector_for(endpoint).locations(endpoint)
    except Exception:  # settings that no longer validate: the job will say so
        return dict((endpoint.settings or {}).get("warehouse_map") or {})


def served_locations(endpoint) -> dict[str, str]:
    """The endpoint's warehouses (code → fulfilment centre id), refusing a warehouse another
    active endpoint serves too: one warehouse, one 3PL."""
    from connectors.fulfilment.provider import FulfilmentProvider
    from connectors.models import Endpoint
    from connectors.registry import connector_for

    locations = connector_for(endpoint).locations(endpoint)
    if not locations:
        return {}
    for other in Endpoint.objects.filter(is_active=True).exclude(pk=endpoint.pk):
        claimed = set((other.settings or {}).get("warehouse_map") or {}) & set(locations)
        if claimed:
            try:
                is_3pl = isinstance(connector_for(other), FulfilmentProvider)
            except LookupError:
                continue
            if is_3pl:
                raise PermanentError(Text(gettext_noop("warehouse %(warehouses)s is mapped by endpoints %(endpoint)s and %(other)s; a 3PL "
                                                       "warehouse is served by one endpoint: remove it from one of their warehouse maps"),
                                          warehouses=", ".join(sorted(claimed)), endpoint=endpoint.code, other=other.code))
    return locations


def release_bindings(endpoint, *, order_ids=None, warehouse_codes=(), warehouse_code=None, live_only=False):
    """The endpoint's released parts: of these orders in these warehouses (read by their keys, which
    the binding index serves), or of one warehouse, or all."""
    rows = Binder(endpoint).all(RELEASE)
    if order_ids is not None:
        rows = rows.filter(local_id__in=[release_key(order_id, code) for order_id in order_ids for code in warehouse_codes])
    if warehouse_code is not None:
        rows = rows.filter(data__warehouse=warehouse_code)
    if live_only:
        rows = rows.filter(data__state__in=list(LIVE_STATES))
    return rows


def release_for_shipment(endpoint, *, order_external_id: str, reference: str):
    """The released part a 3PL shipment belongs to: by the 3PL's order id, else by our reference."""
    binder = Binder(endpoint)
    if order_external_id:
        found = binder.all(RELEASE).filter(external_id=str(order_external_id)).first()
        if found is not None:
            return found
    if reference:
        return binder.all(RELEASE).filter(data__reference=reference).first()
    return None


def awaiting_shipment(endpoint, *, warehouse_code: str, as_of: datetime | None = None) -> dict[str, int]:
    """SKU → units the hub handed to the 3PL for this warehouse and has not seen shipped: what the
    3PL holds for our orders (its "committed"). Parts released after `as_of` are left out, and
    parts whose cancellation the 3PL acknowledged before `as_of` too."""
    from orders.selectors import shipped_quantities

    rows = release_bindings(endpoint, warehouse_code=warehouse_code)
    live = Q(data__state__in=list(LIVE_STATES))
    # A part cancelled after `as_of` was still the 3PL's when the levels were read (its binding was written then).
    rows = rows.filter(live | Q(data__state=CANCELLED, synced_at__gte=as_of)) if as_of else rows.filter(live)
    cutoff = stamp(as_of) if as_of else None
    counted = []
    for binding in rows:
        data = binding.data
        if cutoff and (data.get("released_at") or "") > cutoff:
            continue
        if data.get("state") == CANCELLED and (not cutoff or (data.get("changed_at") or "") <= cutoff):
            continue
        counted.append(binding)
    shipped = shipped_quantities(order_ids=[b.data["order"] for b in counted], warehouse_code=warehouse_code)
    totals: dict[str, int] = {}
    for binding in counted:
        for sku, units in (binding.data.get("lines") or {}).items():
            left = units - shipped.get((binding.data["order"], sku), 0)
            if left > 0:
                totals[sku] = totals.get(sku, 0) + left
    return totals


def busy_skus(endpoint, *, warehouse_code: str, since: datetime) -> set[str]:
    """SKUs of parts released or cancelled at the 3PL since `since`: a stock read that overlapped
    the change cannot tell which side of it the 3PL counted, so they wait for the next check."""
    cutoff = stamp(since)
    skus: set[str] = set()
    # A binding is written when its part is released or changes: only those written since can be busy.
    for binding in release_bindings(endpoint, warehouse_code=warehouse_code).filter(synced_at__gte=since):
        data = binding.data
        if (data.get("released_at") or "") >= cutoff or (data.get("changed_at") or "") >= cutoff:
            skus.update((data.get("lines") or {}).keys())
    return skus


def alert(*, endpoint, subject: str, body: str) -> None:
    """Tell the people who watch this endpoint, at once (not after the failure threshold)."""
    recipients = [a.strip() for a in (endpoint.alert_emails or "").split(",") if a.strip()] or list(settings.HUB_ALERT_EMAILS)
    logger.warning("%s: %s", endpoint.code, subject)
    if recipients:
        send_mail(f"[ERP Hub] {endpoint.name} ({endpoint.code}): {subject}", body, None, recipients, fail_silently=True)
