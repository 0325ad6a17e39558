"""Writing the change feed, and marking where a change came from (against ping-pong)."""

import contextlib
import contextvars

from django.db import transaction

from hub.models import ChangeEvent

_origin: contextvars.ContextVar[str] = contextvars.ContextVar("change_origin", default="")


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
    return ChangeEvent.objects.create(
        topic=topic, object_id=str(object_id), action=action, origin=current_origin(), data=data or {}
    )


def change_record_many(*, topic: str, object_ids, action: str = ChangeEvent.Action.UPDATED, batch_size: int = 2000) -> int:
    """Bulk form for imports: one row per object, written in batches."""
    origin = current_origin()
    from hub.bulk import bulk_insert

    rows = [{"topic": topic, "object_id": str(pk), "action": action, "origin": origin, "data": {}} for pk in object_ids]
    return bulk_insert(ChangeEvent, rows, batch_size=batch_size)


def on_commit(func) -> None:
    transaction.on_commit(func)
