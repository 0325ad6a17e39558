"""Writing the change feed, and marking where a change came from (against ping-pong)."""

import contextlib
import contextvars

from django.db import transaction

from hub.models import ChangeEvent

_origin: contextvars.ContextVar[str] = contextvars.ContextVar("change_origin", default="")
_subscribers: list = []


def change_subscribe(subscriber) -> None:
    """Register `subscriber(*, topic, object_ids, origin, data_by_id)`, called inside the
    transaction that records changes (the outbox of later apps, e.g. connectors' sync jobs)."""
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)


def _notify(*, topic: str, object_ids: list[str], origin: str, data_by_id: dict) -> None:
    for subscriber in _subscribers:
        subscriber(topic=topic, object_ids=object_ids, origin=origin, data_by_id=data_by_id)


@contextlib.contextmanager
def change_origin(origin: str):
    """Changes recorded inside this block are attributed to `origin` (e.g. an endpoint code)."""
    token = _origin.set(origin)
    try:
        yield
    finally:
        _origin.reset(token)


def current_origin() -> str:
    return _origin.get()


def change_record(*, topic: str, object_id, action: str = ChangeEvent.Action.UPDATED, data: dict | None = None) -> ChangeEvent:
    """Append one change to the feed; call inside the transaction that makes the change."""
    event = ChangeEvent.objects.create(
        topic=topic, object_id=str(object_id), action=action, origin=current_origin(), data=data or {}
    )
    _notify(topic=topic, object_ids=[event.object_id], origin=event.origin, data_by_id={event.object_id: event.data})
    return event


def change_record_many(*, topic: str, object_ids, action: str = ChangeEvent.Action.UPDATED, batch_size: int = 2000) -> int:
    """Bulk form for imports: one row per object, written in batches."""
    origin = current_origin()
    from hub.bulk import bulk_insert

    rows = [{"topic": topic, "object_id": str(pk), "action": action, "origin": origin, "data": {}} for pk in object_ids]
    written = bulk_insert(ChangeEvent, rows, batch_size=batch_size)
    _notify(topic=topic, object_ids=[row["object_id"] for row in rows], origin=origin, data_by_id={})
    return written


def on_commit(func) -> None:
    transaction.on_commit(func)
