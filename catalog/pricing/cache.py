"""What each web process keeps of pricing, evicted by what changed.

Database triggers (migration orders 0010) record every committed write a price
depends on in `pricing_change`: the SKU whose entries or status changed (kind `s`), the
customer code whose lists, group, currency or channels changed (`c`), or `*` for a change to
price lists, channel catalogues, group lists, tokens or channels (every customer and token
kept is dropped). Each change row carries the (slot, value) of a counter row in
`pricing_slot` that its transaction bumped once; values of one slot grow in commit
order (the row is locked until commit), so a process that knows the values it has seen reads
exactly the changes committed since, and knows it missed some (pruned rows) when a value is
absent: it then drops everything. A call costs one query when nothing changed.

Nothing is synced or kept inside a transaction (it could see its own uncommitted writes).
"""

import threading

from django.db import connection
from django.utils import timezone

SKUS, CUSTOMERS, TOKENS = "s", "c", "t"


class PriceCache:
    def __init__(self):
        self.lock = threading.Lock()
        self.epoch = 0
        self.clear()

    def clear(self) -> None:
        self.triggers_ok = None  # checked by the first user (orders.pricing.price_cache_size)
        self.reset(None)

    def reset(self, day) -> None:
        self.day, self.total, self.seen = day, None, None
        self.maps = {SKUS: {}, CUSTOMERS: {}, TOKENS: {}}
        self.epoch += 1

    def sync(self, max_skus: int) -> int | None:
        """Apply the changes committed since the last call; the epoch to pass to `keep`, or None
        when the cache may not be used (turned off, or inside a transaction)."""
        if not max_skus or connection.in_atomic_block:
            return None
        today = timezone.localdate()
        with connection.cursor() as cursor:
            cursor.execute("SELECT CAST(SUM(value) AS BIGINT) FROM pricing_slot")
            if cursor.fetchone()[0] == self.total and today == self.day:
                return self.epoch
            with self.lock:
                cursor.execute("SELECT slot, value FROM pricing_slot")
                now = dict(cursor.fetchall())
                moved = {slot: (self.seen.get(slot, 0), value) for slot, value in now.items()
                         if value != self.seen.get(slot, 0)} if self.seen is not None and today == self.day else None
                if moved is None:
                    self.reset(today)
                elif moved:
                    cursor.execute("SELECT slot, value, kind, key FROM pricing_change WHERE "
                                   + " OR ".join(["(slot = %s AND value > %s AND value <= %s)"] * len(moved)),
                                   [n for slot, (old, new) in moved.items() for n in (slot, old, new)])
                    self.evict(cursor.fetchall(), sum(new - old for old, new in moved.values()))
                self.seen, self.total = now, sum(now.values())
        if len(self.maps[SKUS]) > max_skus:
            self.maps[SKUS] = {}
        return self.epoch

    def evict(self, changes, expected: int) -> None:
        if len({(slot, value) for slot, value, _, _ in changes}) != expected:
            self.reset(self.day)  # some changes were pruned: start afresh
            return
        maps = self.maps
        for _, _, kind, key in changes:
            if kind == "*":
                maps[CUSTOMERS].clear()
                maps[TOKENS].clear()
            else:
                maps[kind].pop(key, None)
        self.epoch += 1

    def get(self, epoch, kind, key, default=None):
        return self.maps[kind].get(key, default) if epoch is not None else default

    def keep(self, epoch, kind, key, value) -> None:
        """Keep what was read after the sync that gave `epoch`, unless changes were applied since
        (another thread may have evicted what this one read before)."""
        if epoch is not None and epoch == self.epoch:
            self.maps[kind][key] = value


price_cache = PriceCache()
