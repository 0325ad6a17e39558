"""Writes on the shared kernel."""

import contextlib
import contextvars
import hashlib
import secrets
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from hub.models import ApiToken, Heartbeat, NumberSequence, SalesChannel, TimelineEvent
from hub.texts import Text, text_stored

TOKEN_PREFIX_LENGTH = 8


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def sales_channel_get_or_create(*, code: str, name: str | None = None, kind: str = SalesChannel.Kind.WEB,
                                currency: str = "EUR") -> tuple[SalesChannel, bool]:
    channel = SalesChannel(code=code, name=name or code, kind=kind, currency=currency)
    existing = SalesChannel.objects.filter(code=code).first()
    if existing:
        return existing, False
    channel.full_clean()
    channel.save()
    return channel, True


def api_token_create(*, channel: SalesChannel, name: str = "", created_by=None) -> tuple[ApiToken, str]:
    """Returns the token row and the clear key, which is never stored and cannot be shown again."""
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        channel=channel, name=name, prefix=key[:TOKEN_PREFIX_LENGTH], key_hash=hash_token_key(key), created_by=created_by
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def sequence_next(*, series: str) -> int:
    """The next number of a gapless series. Must run inside the issuing transaction: the row
    stays locked until it commits, and a rollback returns the number."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sequence_next must run inside the transaction that issues the document")
    # One statement: the UPDATE takes the row lock and RETURNING reads the new value under it
    # (SQLite 3.35+ and PostgreSQL); the first number of a series creates its row.
    table = connection.ops.quote_name(NumberSequence._meta.db_table)
    sql = f"UPDATE {table} SET last_value = last_value + 1 WHERE series = %s RETURNING last_value"
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(sql, [series])
        row = cursor.fetchone()
        if row is None:
            NumberSequence.objects.get_or_create(series=series)
            cursor.execute(sql, [series])
            row = cursor.fetchone()
    return int(row[0])


_timeline_batch: contextvars.ContextVar[list | None] = contextvars.ContextVar("timeline_batch", default=None)


def timeline_record(*, subject, event: str, message: str | Text = "", actor=None, actor_label: str = "", data: dict | None = None) -> TimelineEvent:
    """One event on the subject's timeline; inside `timeline_batch()` it is written when the batch ends.
    `message`: a `Text` the hub writes (shown in the reader's language) or a sentence someone typed."""
    entry = TimelineEvent(
        content_type=ContentType.objects.get_for_model(subject, for_concrete_model=True),
        object_id=str(subject.pk),
        event=event,
        message=str(message),
        message_text=text_stored(message),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=actor_label,
        data=data or {},
    )
    pending = _timeline_batch.get()
    if pending is None:
        entry.save()
    else:
        pending.append(entry)
    return entry


@contextlib.contextmanager
def timeline_batch():
    """Timeline events recorded inside this block are inserted together, in order, when it ends
    without an error (open it inside the transaction that makes the changes)."""
    if _timeline_batch.get() is not None:
        yield
        return
    pending: list[TimelineEvent] = []
    token = _timeline_batch.set(pending)
    try:
        yield
    finally:
        _timeline_batch.reset(token)
    if pending:
        TimelineEvent.objects.bulk_create(pending)


def heartbeat_beat(*, name: str = "worker") -> Heartbeat:
    beat, _ = Heartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})
    return beat


def retention_purge(*, now=None, batch_size: int = 5000) -> dict[str, int]:
    """Delete what each registered retention rule lets go, in batches (short transactions on a
    busy table). Returns rows deleted per rule."""
    from django.conf import settings

    from hub.registry import retention

    now = now or timezone.now()
    deleted = {}
    for spec in retention.values():
        days = int(getattr(settings, spec.setting))
        deleted[spec.name] = 0
        if days <= 0:
            continue
        expired = spec.expired(now - timedelta(days=days))
        while ids := list(expired.values_list("pk", flat=True)[:batch_size]):
            with transaction.atomic():
                expired.model.objects.filter(pk__in=ids).delete()
            deleted[spec.name] += len(ids)
    return deleted


def schedules_sync() -> list[str]:
    """Create or update django-q2 schedules for every registered recurring task. Idempotent, and
    safe when several clusters start at once: one at a time (an advisory lock on PostgreSQL,
    IMMEDIATE transactions on SQLite), and any duplicate row of a name is removed."""
    from django_q.models import Schedule

    from hub.registry import schedules

    names = []
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('hub.schedules_sync'))")
        for spec in schedules.values():
            wanted = {"func": spec.func, "schedule_type": Schedule.MINUTES, "minutes": spec.minutes, "repeats": -1}
            rows = list(Schedule.objects.select_for_update().filter(name=spec.name).order_by("id"))
            if not rows:
                Schedule.objects.create(name=spec.name, **wanted)
            else:
                Schedule.objects.filter(pk__in=[row.pk for row in rows[1:]]).delete()
                if any(getattr(rows[0], field) != value for field, value in wanted.items()):
                    Schedule.objects.filter(pk=rows[0].pk).update(**wanted)
            names.append(spec.name)
    return names


def staff_totp_enrol(*, user, name: str = "authenticator"):
    """A new confirmed TOTP authenticator for a staff user; its `config_url` (otpauth://) carries the key."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name=name, confirmed=True)


def staff_totp_remove(*, user) -> int:
    """Drops every TOTP authenticator of a user (a lost phone); returns how many."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    deleted, _ = TOTPDevice.objects.filter(user=user).delete()
    return deleted
