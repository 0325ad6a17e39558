"""A request scheduler shared by every worker process, kept on the endpoint row.

Generic cell rate algorithm: the endpoint holds a "theoretical arrival time"; each request
reserves the next slot in one atomic UPDATE … RETURNING and sleeps until its slot, so a burst
queues instead of failing. `burst` slots may be used at once (the vendor's bucket size), and a
vendor's own numbers (bucket fill, Retry-After) push the schedule forward."""

import time

from django.db import connection, transaction

from connectors.models import Endpoint


def _greatest() -> str:
    return "GREATEST" if connection.vendor == "postgresql" else "MAX"


def throttle_reserve(*, endpoint_id: int, rate_per_second: float, burst: int) -> float:
    """Reserve one request slot; returns the seconds to wait before sending (0 when free)."""
    interval = 1.0 / rate_per_second
    now = time.time()
    table = Endpoint._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET throttle_tat = {_greatest()}(throttle_tat, %s) + %s WHERE id = %s RETURNING throttle_tat",
                           [now, interval, endpoint_id])
            (tat_after,) = cursor.fetchone()
    slot = tat_after - interval
    return max(0.0, slot - (burst - 1) * interval - now)


def throttle_wait(*, endpoint_id: int, rate_per_second: float, burst: int, sleep=time.sleep) -> float:
    wait = throttle_reserve(endpoint_id=endpoint_id, rate_per_second=rate_per_second, burst=burst)
    if wait > 0:
        sleep(wait)
    return wait


def throttle_push_back(*, endpoint_id: int, not_before_seconds: float, rate_per_second: float, burst: int) -> None:
    """The vendor says the bucket is fuller than we thought (or sent 429 + Retry-After): no slot
    is handed out before `now + not_before_seconds`."""
    interval = 1.0 / rate_per_second
    floor = time.time() + not_before_seconds + (burst - 1) * interval
    table = Endpoint._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET throttle_tat = {_greatest()}(throttle_tat, %s) WHERE id = %s", [floor, endpoint_id])


def throttle_quota_left(*, endpoint_id: int, left: int, reset_seconds: float, rate_per_second: float, burst: int,
                        keep: int = 0) -> bool:
    """For vendors whose limit is a quota of requests per time window (refilled all at once, shared
    with the shop's other apps) and who announce what is left and when it refills in their answers
    (X-Rate-Limit-Requests-Left / -Time-Reset-Ms, X-Rate-Limit-Remaining / -Reset…): once no more
    than `keep` requests are left (room for requests already in flight), no slot is handed out
    before the refill, in any process. The schedule's own rate and burst pace the next window.
    Returns True when the schedule was pushed back."""
    if left > keep:
        return False
    throttle_push_back(endpoint_id=endpoint_id, not_before_seconds=max(0.0, reset_seconds), rate_per_second=rate_per_second, burst=burst)
    return True
