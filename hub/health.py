"""Probes behind `/healthz`."""

import time

from django.conf import settings
from django.db import connection
from django.utils import timezone

from hub.models import Heartbeat

WORKER_STALE_AFTER_SECONDS = 180


def probe_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means unhealthy
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "vendor": connection.vendor, "ms": round((time.perf_counter() - started) * 1000, 2)}


def probe_broker() -> dict:
    started = time.perf_counter()
    try:
        if settings.REDIS_URL:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
            kind = "redis"
            queued = None
        else:
            from django_q.models import OrmQ

            queued = OrmQ.objects.count()
            kind = "orm"
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    result = {"ok": True, "kind": kind, "ms": round((time.perf_counter() - started) * 1000, 2)}
    if queued is not None:
        result["queued"] = queued
    return result


def probe_worker() -> dict:
    """Informational: a cluster may legitimately run elsewhere or be starting."""
    beat = Heartbeat.objects.filter(name="worker").first()
    if beat is None:
        return {"seen": False}
    age = (timezone.now() - beat.seen_at).total_seconds()
    return {"seen": True, "last_seen": beat.seen_at.isoformat(), "age_s": round(age, 1), "stale": age > WORKER_STALE_AFTER_SECONDS}


def health_report() -> tuple[bool, dict]:
    database = probe_database()
    broker = probe_broker() if database["ok"] or settings.REDIS_URL else {"ok": False, "error": "database unavailable"}
    worker = probe_worker() if database["ok"] else {"seen": False}
    healthy = database["ok"] and broker["ok"]
    return healthy, {"status": "ok" if healthy else "unavailable", "database": database, "broker": broker, "worker": worker}
