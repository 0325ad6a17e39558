"""A simulated 3PL warehouse for the 3PL sandboxes: stock per fulfilment centre (and lot), orders
it picks, packs and ships after a delay — sometimes in part, sometimes short of stock, sometimes
in several parcels — expected returns it receives and processes, and a history of every stock
movement with its reason. Each vendor sandbox keeps one and renders it in its vendor's protocol;
`on_event(kind, **details)` is how the warehouse tells it something happened (shipped, short,
return processed…) so it can send its webhooks.

Standard library only (no hub code, no Django): it runs inside the sandboxes' processes."""

import itertools
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

CARRIERS = [
    ("Colissimo", "Domicile sans signature", "6A{n:011d}", "https://www.laposte.fr/outils/suivre-vos-envois?code={number}"),
    ("Chronopost", "Chrono 13", "XW{n:09d}FR", "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={number}"),
    ("DHL Parcel", "Europack", "JJD{n:018d}", "https://www.dhl.com/fr-fr/home/tracking.html?tracking-id={number}"),
]


class Refused(Exception):
    """The warehouse will not do it any more (already picked, already shipped)."""


@dataclass
class Parcel:
    id: int
    order_id: int
    location: str
    lines: dict[str, int]
    carrier: str
    service: str
    tracking_number: str
    tracking_url: str
    shipped_at: datetime
    lots: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


@dataclass
class Order:
    id: int
    reference: str
    location: str
    lines: dict[str, int]
    address: dict
    service: str
    created_at: datetime
    updated_at: datetime
    status: str = "open"                 # open → picked → (shipped | partially shipped, still open) ; held ; cancelled
    shipped: dict[str, int] = field(default_factory=dict)
    parcels: list[Parcel] = field(default_factory=list)
    picked_at: datetime | None = None
    short_reported: bool = False
    plan: dict = field(default_factory=dict)     # a test's or a person's say on the next shipment
    extra: dict = field(default_factory=dict)    # the vendor's own fields

    def left(self) -> dict[str, int]:
        return {sku: units - self.shipped.get(sku, 0) for sku, units in self.lines.items() if units - self.shipped.get(sku, 0) > 0}

    @property
    def live(self) -> bool:
        return self.status in ("open", "picked", "held")


@dataclass
class ExpectedReturn:
    id: int
    reference: str
    location: str
    lines: dict[str, int]
    created_at: datetime
    updated_at: datetime
    status: str = "awaiting"             # awaiting → arrived → completed ; cancelled
    outcomes: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)   # sku → [(units, restock|quarantine|dispose, reason)]
    extra: dict = field(default_factory=dict)


@dataclass
class StockEvent:
    id: int
    at: datetime
    location: str
    sku: str
    lot: str
    change: int
    category: str        # InventoryAdjusted, InventoryReceived, OrderPicked, InventoryRestocked
    reason: str
    order_id: int | None = None


class SimulatedWarehouse:
    def __init__(self, *, now: Callable[[], datetime], rng: random.Random | None = None, pick_after: float = 20.0,
                 ship_after: float = 20.0, partial_rate: float = 0.0, parcels_rate: float = 0.0, on_event=None):
        self.now = now
        self.rng = rng or random.Random(0)
        self.pick_after, self.ship_after = pick_after, ship_after
        self.partial_rate, self.parcels_rate = partial_rate, parcels_rate
        self.on_event = on_event or (lambda kind, **details: None)
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.on_hand: dict[tuple[str, str, str], int] = {}
            self.expiry: dict[tuple[str, str, str], date | None] = {}
            self.quarantined: dict[tuple[str, str], int] = {}
            self.inbound: dict[tuple[str, str], int] = {}
            self.orders: dict[int, Order] = {}
            self.returns: dict[int, ExpectedReturn] = {}
            self.history: list[StockEvent] = []
            self._ids = {kind: itertools.count(start) for kind, start in (("order", 100001), ("parcel", 500001), ("return", 9001),
                                                                          ("event", 1), ("tracking", 1))}

    def next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    # --- stock ----------------------------------------------------------------------------------
    def _record(self, location, sku, lot, change, category, reason, order_id=None) -> StockEvent:
        event = StockEvent(self.next_id("event"), self.now(), location, sku, lot, change, category, reason, order_id)
        self.history.append(event)
        return event

    def receive(self, location: str, sku: str, quantity: int, *, lot: str = "", expiry: date | None = None, reason: str = "Received") -> None:
        with self.lock:
            key = (location, sku, lot)
            self.on_hand[key] = self.on_hand.get(key, 0) + quantity
            if lot:
                self.expiry[key] = expiry or self.expiry.get(key)
            self.inbound[(location, sku)] = max(0, self.inbound.get((location, sku), 0) - quantity)
            self._record(location, sku, lot, quantity, "InventoryReceived", reason)

    def announce(self, location: str, sku: str, quantity: int) -> None:
        """Goods on their way in: counted as in transit until received."""
        with self.lock:
            self.inbound[(location, sku)] = self.inbound.get((location, sku), 0) + quantity

    def adjust(self, location: str, sku: str, change: int, *, reason: str, lot: str = "") -> int:
        """A count, damage, a found unit…: on hand moves by `change` (never below zero). Returns the change made."""
        with self.lock:
            key = (location, sku, lot)
            before = self.on_hand.get(key, 0)
            self.on_hand[key] = max(0, before + change)
            made = self.on_hand[key] - before
            if made:
                self._record(location, sku, lot, made, "InventoryAdjusted", reason)
            return made

    def stock(self, location: str, sku: str) -> int:
        return sum(units for (loc, s, _), units in self.on_hand.items() if loc == location and s == sku)

    def lots(self, location: str, sku: str) -> list[tuple[str, int, date | None]]:
        return sorted(((lot, units, self.expiry.get((location, sku, lot))) for (loc, s, lot), units in self.on_hand.items()
                       if loc == location and s == sku), key=lambda item: (item[2] is None, item[2] or date.max, item[0]))

    def committed(self, location: str, sku: str) -> int:
        return sum(order.left().get(sku, 0) for order in self.orders.values() if order.live and order.location == location)

    def levels(self) -> dict[tuple[str, str], dict]:
        """(location, sku) → on_hand, committed, in_transit, fulfillable, per-lot on hand."""
        with self.lock:
            places = {(loc, sku) for loc, sku, _ in self.on_hand} | set(self.inbound)
            places |= {(order.location, sku) for order in self.orders.values() if order.live for sku in order.left()}
            result = {}
            for location, sku in sorted(places):
                on_hand, committed = self.stock(location, sku), self.committed(location, sku)
                result[(location, sku)] = {"on_hand": on_hand, "committed": committed, "in_transit": self.inbound.get((location, sku), 0),
                                           "fulfillable": max(0, on_hand - committed), "lots": self.lots(location, sku)}
            return result

    def _take(self, location: str, sku: str, units: int, order_id: int) -> list[tuple[str, int]]:
        """Take units off the shelves, first-expiring lots first; returns (lot, units) taken."""
        taken = []
        for lot, on_hand, _ in self.lots(location, sku):
            if not units:
                break
            take = min(units, on_hand)
            if take:
                self.on_hand[(location, sku, lot)] -= take
                self._record(location, sku, lot, -take, "OrderPicked", "Picked for an order", order_id)
                taken.append((lot, take))
                units -= take
        return taken

    # --- orders ---------------------------------------------------------------------------------
    def place(self, *, reference: str, location: str, lines: dict[str, int], address: dict, service: str, extra=None,
              order_id: int | None = None) -> Order:
        """A new order (`order_id` to bring back one the warehouse had before a restart)."""
        with self.lock:
            now = self.now()
            order = Order(order_id or self.next_id("order"), reference, location, dict(lines), dict(address), service, now, now, extra=extra or {})
            self.orders[order.id] = order
            if order_id:
                self._ids["order"] = itertools.count(max(self.orders) + 1)
            return order

    def find(self, reference: str) -> Order | None:
        with self.lock:
            return next((o for o in self.orders.values() if o.reference == reference), None)

    def cancel(self, order: Order) -> None:
        with self.lock:
            if order.status == "cancelled":
                return
            if order.status == "picked" or order.parcels or order.status == "shipped":
                raise Refused(f"order {order.reference} is already {'shipped' if order.parcels else 'picked'}")
            order.status, order.updated_at = "cancelled", self.now()

    def hold(self, order: Order) -> None:
        with self.lock:
            if order.status == "held":
                return
            if order.status != "open":
                raise Refused(f"order {order.reference} is already {order.status}")
            order.status, order.updated_at = "held", self.now()

    def resume(self, order: Order) -> None:
        with self.lock:
            if order.status == "held":
                order.status, order.updated_at = "open", self.now()
                order.created_at = self.now()  # picking starts over from now

    def readdress(self, order: Order, address: dict) -> None:
        with self.lock:
            if order.status not in ("open", "held"):
                raise Refused(f"order {order.reference} is already {order.status}; its label is printed")
            order.address, order.updated_at = dict(address), self.now()

    def plan(self, order: Order, *, ship: dict[str, int] | None = None, parcels: int = 1) -> None:
        """Say what the next shipment of `order` carries (a subset: a partial shipment) and in how many parcels."""
        with self.lock:
            order.plan = {"ship": dict(ship or {}), "parcels": max(1, int(parcels))}

    def advance(self, *, force: bool = False) -> list[Parcel]:
        """Move every order on: pick what is due, ship what is picked and due. `force` does both now."""
        shipped = []
        with self.lock:
            now = self.now()
            for order in sorted(self.orders.values(), key=lambda o: o.id):
                if order.status == "open" and (force or now - order.created_at >= timedelta(seconds=self.pick_after)):
                    order.status, order.picked_at, order.updated_at = "picked", now, now
                if order.status == "picked" and (force or now - order.picked_at >= timedelta(seconds=self.ship_after)):
                    shipped.extend(self._ship(order, now))
        return shipped

    def _ship(self, order: Order, now: datetime) -> list[Parcel]:
        left = order.left()
        plan, order.plan = order.plan, {}
        wanted = {sku: min(units, plan["ship"].get(sku, 0)) for sku, units in left.items()} if plan.get("ship") else dict(left)
        if not plan and len(left) and self.rng.random() < self.partial_rate:
            first = sorted(left)[0]
            wanted = {first: left[first]} if len(left) > 1 else {first: max(1, left[first] // 2)}
        can = {sku: min(units, self.stock(order.location, sku)) for sku, units in wanted.items()}
        short = {sku: wanted[sku] - units for sku, units in can.items() if units < wanted[sku]}
        can = {sku: units for sku, units in can.items() if units}
        parcels = []
        if can:
            count = plan.get("parcels") or (2 if self.rng.random() < self.parcels_rate and sum(can.values()) > 1 else 1)
            for units_in_parcel in _split(can, count):
                carrier, service, number_format, url_format = self.rng.choice(CARRIERS)
                number = number_format.format(n=self.rng.randrange(10 ** 8, 10 ** 9) * 100 + self.next_id("tracking") % 100)
                parcel = Parcel(self.next_id("parcel"), order.id, order.location, units_in_parcel, carrier, service, number,
                                url_format.format(number=number), now)
                for sku, units in units_in_parcel.items():
                    parcel.lots[sku] = self._take(order.location, sku, units, order.id)
                    order.shipped[sku] = order.shipped.get(sku, 0) + units
                order.parcels.append(parcel)
                parcels.append(parcel)
        order.updated_at = now
        order.status = "shipped" if not order.left() else "open"
        if order.status == "open":
            order.created_at = now  # the rest is picked again after the delay
        for parcel in parcels:
            self.on_event("shipped", order=order, parcel=parcel)
        if short and not order.short_reported:
            order.short_reported = True
            self.on_event("short", order=order, missing=short)
        return parcels

    # --- returns --------------------------------------------------------------------------------
    def expect_return(self, *, reference: str, location: str, lines: dict[str, int], extra=None) -> ExpectedReturn:
        with self.lock:
            now = self.now()
            expected = ExpectedReturn(self.next_id("return"), reference, location, dict(lines), now, now, extra=extra or {})
            self.returns[expected.id] = expected
            return expected

    def cancel_return(self, expected: ExpectedReturn) -> None:
        with self.lock:
            if expected.status == "completed":
                raise Refused(f"return {expected.reference} is already processed")
            expected.status, expected.updated_at = "cancelled", self.now()

    def process_return(self, expected: ExpectedReturn, outcomes: dict[str, list[tuple[int, str, str]]] | None = None) -> None:
        """The parcel came back: each unit restocked, quarantined or disposed of (default: all restocked)."""
        with self.lock:
            if expected.status in ("completed", "cancelled"):
                raise Refused(f"return {expected.reference} is {expected.status}")
            outcomes = outcomes or {sku: [(units, "restock", "Item in good condition")] for sku, units in expected.lines.items()}
            for sku, pieces in outcomes.items():
                for units, outcome, reason in pieces:
                    if outcome == "restock":
                        key = (expected.location, sku, "")
                        self.on_hand[key] = self.on_hand.get(key, 0) + units
                        self._record(expected.location, sku, "", units, "InventoryRestocked", f"Return {expected.reference}: {reason}")
                    elif outcome == "quarantine":
                        self.quarantined[(expected.location, sku)] = self.quarantined.get((expected.location, sku), 0) + units
            expected.outcomes = outcomes
            expected.status, expected.updated_at = "completed", self.now()
            self.on_event("return_completed", expected=expected)


def _split(units: dict[str, int], parcels: int) -> list[dict[str, int]]:
    """Spread units over `parcels` parcels (never an empty one)."""
    flat = [sku for sku, count in sorted(units.items()) for _ in range(count)]
    parcels = max(1, min(parcels, len(flat)))
    size = math.ceil(len(flat) / parcels)
    result = []
    for start in range(0, len(flat), size):
        piece: dict[str, int] = {}
        for sku in flat[start:start + size]:
            piece[sku] = piece.get(sku, 0) + 1
        result.append(piece)
    return result
