"""Writing the change feed, and marking where a change came from (against ping-pong)."""

import contextlib
import contextvars
from dataclasses import dataclass

from django.db import transaction

from hub.models import ChangeEvent

_origin: contextvars.ContextVar[str] = contextvars.ContextVar("change_origin", default="")
_batch: contextvars.ContextVar[list | None] = contextvars.ContextVar("change_batch", default=None)
_subscribers: list = []


@dataclass(frozen=True)
class ChangeSet:
    """Changes of one topic from one origin: the objects' ids, and each one's (last) data."""

    topic: str
    object_ids: list[str]
    origin: str
    data_by_id: dict


def change_subscribe(subscriber) -> None:
    """Register `subscriber(*, changes: list[ChangeSet])`, called inside the transaction that
    records the changes (the outbox of later apps, e.g. connectors' sync jobs)."""
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)


def _notify(changes: list[ChangeSet]) -> None:
    for subscriber in _subscribers:
        subscriber(changes=changes)


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
    """Append one change to the feed; call inside the transaction that makes the change. Inside
    `change_batch()` the event is written when the batch ends (its pk is unset until then)."""
    event = ChangeEvent(topic=topic, object_id=str(object_id), action=action, origin=current_origin(), data=data or {})
    pending = _batch.get()
    if pending is not None:
        pending.append(event)
        return event
    event.save()
    _notify([ChangeSet(topic=topic, object_ids=[event.object_id], origin=event.origin, data_by_id={event.object_id: event.data})])
    return event


@contextlib.contextmanager
def change_batch():
    """Changes recorded inside this block are written together when it ends without an error:
    one insert for all of them, in the order they were recorded, and subscribers told once per
    topic and origin (with each object's last data). Open it inside the transaction that makes
    the changes; nested batches join the outer one."""
    if _batch.get() is not None:
        yield
        return
    pending: list[ChangeEvent] = []
    token = _batch.set(pending)
    try:
        yield
    finally:
        _batch.reset(token)
    _flush(pending)


def _flush(events: list[ChangeEvent]) -> None:
    if not events:
        return
    ChangeEvent.objects.bulk_create(events)
    groups: dict[tuple[str, str], dict[str, dict]] = {}
    for event in events:
        data_by_id = groups.setdefault((event.topic, event.origin), {})
        data_by_id.pop(event.object_id, None)  # keep first-seen order of the last occurrence
        data_by_id[event.object_id] = event.data
    _notify([ChangeSet(topic=topic, object_ids=list(data_by_id), origin=origin, data_by_id=data_by_id)
             for (topic, origin), data_by_id in groups.items()])


def change_record_many(*, topic: str, object_ids, action: str = ChangeEvent.Action.UPDATED, batch_size: int = 2000) -> int:
    """Bulk form for imports: one row per object, written in batches."""
    origin = current_origin()
    from hub.bulk import bulk_insert

    rows = [{"topic": topic, "object_id": str(pk), "action": action, "origin": origin, "data": {}} for pk in object_ids]
    written = bulk_insert(ChangeEvent, rows, batch_size=batch_size)
    _notify([ChangeSet(topic=topic, object_ids=[row["object_id"] for row in rows], origin=origin, data_by_id={})])
    return written


def on_commit(func) -> None:
    transaction.on_commit(func)
