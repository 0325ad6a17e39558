"""A request scheduler shared by every worker process, kept in the database.

Generic cell rate algorithm: a bucket holds a "theoretical arrival time"; each request reserves
the next slot in one atomic UPDATE … RETURNING and sleeps until its slot, so a burst queues
instead of failing. `burst` slots may be used at once (the vendor's bucket size), and a vendor's
own numbers (bucket fill, Retry-After) push the schedule forward.

The endpoint row holds its one default bucket; vendors that give each operation its own quota
(`bucket="getOrders"`) get one `ThrottleBucket` row per operation. `OperationBuckets` is the
client side of those: wait for the operation's bucket, follow the rate the vendor announces, and
treat a 429 as "wait for the bucket" rather than a failure."""

import time
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from connectors.models import Endpoint, ThrottleBucket


def _greatest() -> str:
    return "GREATEST" if connection.vendor == "postgresql" else "MAX"


def _row(endpoint_id: int, bucket: str) -> tuple[str, str, list]:
    """(table, column, WHERE clause and its parameters) holding the bucket's arrival time."""
    if not bucket:
        return Endpoint._meta.db_table, "throttle_tat", ["id = %s", endpoint_id]
    return ThrottleBucket._meta.db_table, "tat", ["endpoint_id = %s AND name = %s", endpoint_id, bucket]


def _bucket_create(endpoint_id: int, bucket: str) -> None:
    try:
        with transaction.atomic():
            ThrottleBucket.objects.create(endpoint_id=endpoint_id, name=bucket)
    except IntegrityError:  # another process created it first
        pass


def throttle_reserve(*, endpoint_id: int, rate_per_second: float, burst: float, bucket: str = "", cost: float = 1.0) -> float:
    """Reserve `cost` units of the bucket (1 for a request; a query's points for cost-metered
    APIs, where `rate_per_second` is the points restored per second and `burst` the bucket's
    size); returns the seconds to wait before sending (0 when free)."""
    interval = 1.0 / rate_per_second
    table, column, (where, *keys) = _row(endpoint_id, bucket)
    now = time.time()
    for _ in range(2):
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET {column} = {_greatest()}({column}, %s) + %s WHERE {where} RETURNING {column}",
                               [now, min(cost, burst) * interval, *keys])
                row = cursor.fetchone()
        if row is not None:
            break
        _bucket_create(endpoint_id, bucket)  # the first request of this bucket
    (tat_after,) = row
    return max(0.0, tat_after - burst * interval - now)


def throttle_wait(*, endpoint_id: int, rate_per_second: float, burst: float, sleep=time.sleep, bucket: str = "", cost: float = 1.0) -> float:
    wait = throttle_reserve(endpoint_id=endpoint_id, rate_per_second=rate_per_second, burst=burst, bucket=bucket, cost=cost)
    if wait > 0:
        sleep(wait)
    return wait


def throttle_push_back(*, endpoint_id: int, not_before_seconds: float, rate_per_second: float, burst: float, bucket: str = "") -> None:
    """The vendor sent 429 + Retry-After (or its quota is spent): no slot is handed out before
    `now + not_before_seconds`."""
    _raise_arrival_time(endpoint_id, bucket, time.time() + not_before_seconds + (burst - 1) / rate_per_second)


def throttle_fill(*, endpoint_id: int, used: float, rate_per_second: float, bucket: str = "") -> None:
    """The vendor says its bucket holds `used` units now (requests or points): ours is at least
    that full. Reservations still in flight may make ours fuller; the fuller one is kept."""
    _raise_arrival_time(endpoint_id, bucket, time.time() + max(0.0, used) / rate_per_second)


def _raise_arrival_time(endpoint_id: int, bucket: str, floor: float) -> None:
    table, column, (where, *keys) = _row(endpoint_id, bucket)
    if bucket:
        _bucket_create(endpoint_id, bucket)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {column} = {_greatest()}({column}, %s) WHERE {where}", [floor, *keys])


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


@dataclass(frozen=True)
class Quota:
    rate_per_second: float
    burst: int


class OperationBuckets:
    """Mixin for an `ApiClient` whose vendor meters each operation separately. The client names
    the operation of each call (`with self.operation("getOrders"): …`); `quotas` gives each
    operation's documented rate and burst, and `rate_limit_header`, when the vendor sends one,
    the rate actually granted to this account (stored, so every process follows it)."""

    quotas: dict[str, Quota] = {}
    default_quota = Quota(1.0, 1)
    rate_limit_header = ""
    max_rate_limit_waits = 200  # each 429 only re-queues the request behind the bucket
    current_operation = ""

    def operation(self, name: str):
        client = self

        class _Operation:
            def __enter__(self):
                self.previous, client.current_operation = client.current_operation, name

            def __exit__(self, *exc):
                client.current_operation = self.previous

        return _Operation()

    announced_ttl = 5.0  # seconds a process trusts the rate it last read from the database

    def _announced(self, operation: str) -> float | None:
        cache = self.__dict__.setdefault("_announced_rates", {})
        known = cache.get(operation)
        if known is None or known[1] < time.monotonic():
            rate = ThrottleBucket.objects.filter(endpoint_id=self.endpoint.pk, name=operation).values_list("rate_per_second", flat=True).first()
            known = cache[operation] = (rate, time.monotonic() + self.announced_ttl)
        return known[0]

    def quota(self, operation: str | None = None) -> Quota:
        operation = self.current_operation if operation is None else operation
        documented = self.quotas.get(operation, self.default_quota)
        announced = self._announced(operation)
        return Quota(announced, documented.burst) if announced else documented

    def before_request(self) -> None:
        quota = self.quota()
        # One token of the vendor's bucket is left as headroom: requests reach the vendor a little
        # earlier or later than their slot, and at full speed the bucket is otherwise empty.
        throttle_wait(endpoint_id=self.endpoint.pk, rate_per_second=quota.rate_per_second, burst=max(1, quota.burst - 1),
                      sleep=self.sleep, bucket=self.current_operation)

    def after_response(self, response) -> None:
        announced = response.headers.get(self.rate_limit_header) if self.rate_limit_header else None
        try:
            rate = float(announced) if announced else 0.0
        except ValueError:
            rate = 0.0
        if rate > 0 and rate != self._announced(self.current_operation):
            _bucket_create(self.endpoint.pk, self.current_operation)
            ThrottleBucket.objects.filter(endpoint_id=self.endpoint.pk, name=self.current_operation).update(rate_per_second=rate)
            self._announced_rates[self.current_operation] = (rate, time.monotonic() + self.announced_ttl)

    def on_rate_limited(self, response) -> float:
        """The vendor's bucket is empty: nothing is sent before it holds a token again (the next
        `before_request` waits for that slot); the request is not counted as failed."""
        from connectors.http import retry_after_seconds

        quota = self.quota()
        wait = retry_after_seconds(response, 1.0 / quota.rate_per_second)
        throttle_push_back(endpoint_id=self.endpoint.pk, not_before_seconds=wait,
                           rate_per_second=quota.rate_per_second, burst=quota.burst, bucket=self.current_operation)
        return 0.0
