"""What a 3PL connector supplies: its protocol, as hooks the fulfilment flows call.

The flows (`connectors.fulfilment.flows`) and the inbound handlers (`connectors.fulfilment.inbound`)
are written once; each 3PL package subclasses `FulfilmentProvider` and implements the hooks below
with its client and its pure mapping functions. A hook a 3PL cannot honour says so (see
`creates_items_from_orders`, `release_hold` returning False, `reads_stock`, `takes_returns`)."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from connectors.errors import PermanentError, RefusedData
from connectors.options import ConnectorSettings, MappingField
from connectors.registry import Connector
from hub.texts import Text


def third_party_warehouse_map_field(**kwargs) -> MappingField:
    """Hub warehouse code (kind 3PL) → the 3PL's fulfilment centre (or warehouse) id."""
    from inventory.models import Warehouse

    kwargs.setdefault("label", _("Warehouse → fulfilment centre map"))
    kwargs.setdefault("help_text", _("One HUB-3PL-WAREHOUSE-CODE=FULFILMENT-CENTRE-ID pair per line; only warehouses of kind 3PL. "
                                      "Each warehouse is served by one endpoint."))
    return MappingField(known_codes=lambda: Warehouse.objects.filter(kind=Warehouse.Kind.THIRD_PARTY).values_list("code", flat=True),
                        code_label=_("3PL warehouse code(s)"), **kwargs)


class FulfilmentSettings(ConnectorSettings):
    warehouse_map = third_party_warehouse_map_field()
    service_map = MappingField(label=_("Shipping service map"), code_label=_("shipping code(s)"),
                               help_text=_("Shipping line code (or title) of the order → the 3PL's shipping method or service, "
                                           "one CODE=SERVICE pair per line; unmapped: the default below."))
    default_service = forms.CharField(required=False, initial="Standard", label=_("Default shipping service"),
                                      help_text=_("Asked for when the order's shipping line is not in the map."))


class FulfilmentRefused(PermanentError):
    """The 3PL will not do it any more (a cancellation after picking, an address change after
    packing): the hub leaves its order as it is and a person is alerted."""


@dataclass
class ItemRef:
    """An item as the 3PL knows it: its id for the SKU, and other ids the flows need later."""

    external_id: str
    data: dict = field(default_factory=dict)


@dataclass
class Release:
    """One part of a hub order handed to one 3PL warehouse."""

    reference: str            # the idempotency key: the order number and the warehouse (and a generation after a re-release)
    order_number: str
    warehouse_code: str
    location_id: str
    lines: list[dict]          # {"sku", "name", "quantity", "unit_price"}
    ship_to: dict              # the order's shipping address (hub shape: name, company, line1, line2, postcode, city, country, phone)
    email: str
    service: str               # the 3PL's shipping method/service asked for
    requested_service: str    # what the customer chose, as the shop named it
    placed_at: datetime | None
    currency: str
    state: str = "open"        # what the 3PL should do with it: open (pick and ship) or held

    def as_payload(self) -> dict:
        return {"reference": self.reference, "order_number": self.order_number, "warehouse": self.warehouse_code,
                "location_id": self.location_id, "lines": self.lines, "ship_to": self.ship_to, "email": self.email,
                "service": self.service, "requested_service": self.requested_service,
                "placed_at": self.placed_at.isoformat() if self.placed_at else None, "currency": self.currency, "state": self.state}

    @classmethod
    def from_payload(cls, payload: dict) -> "Release":
        placed = payload.get("placed_at")
        return cls(reference=payload["reference"], order_number=payload["order_number"], warehouse_code=payload["warehouse"],
                   location_id=str(payload["location_id"]), lines=payload["lines"], ship_to=payload["ship_to"], email=payload.get("email", ""),
                   service=payload.get("service", ""), requested_service=payload.get("requested_service", ""),
                   placed_at=datetime.fromisoformat(placed) if placed else None, currency=payload.get("currency", "EUR"),
                   state=payload.get("state", "open"))


@dataclass
class ReleaseRef:
    """A released order as the 3PL answered: its id, and ids that go with it (e.g. its shipments)."""

    external_id: str
    data: dict = field(default_factory=dict)


@dataclass
class Parcel:
    tracking_number: str
    tracking_url: str = ""


@dataclass
class ShipmentData:
    """A shipment as the 3PL reports it (webhook or poll)."""

    external_id: str
    order_external_id: str
    reference: str
    status: str                          # "shipped" once it has left (labelled or handed over); else the 3PL's word
    lines: list[tuple[str, int]]         # (SKU, units)
    parcels: list[Parcel] = field(default_factory=list)
    carrier: str = ""
    service: str = ""
    location_id: str = ""
    shipped_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class StockRow:
    """What the 3PL says it holds of one SKU (and lot) in one fulfilment centre."""

    sku: str
    location_id: str
    on_hand: int
    committed: int = 0       # held for orders it has not shipped yet
    in_transit: int = 0      # on its way in (announced receipts, transfers between its centres): not on hand
    lot: str = ""
    expiry: date | None = None


@dataclass
class ReturnLine:
    sku: str
    quantity: int            # units the 3PL received and processed
    outcome: str             # "restock", "quarantine" or "dispose"
    reason: str = ""


@dataclass
class ReturnReceipt:
    """A return as the 3PL reports it; `completed` once it has received and processed the goods."""

    external_id: str
    reference: str
    completed: bool
    status: str
    lines: list[ReturnLine] = field(default_factory=list)
    updated_at: datetime | None = None


class FulfilmentProvider(Connector):
    """A 3PL: the hub sends it items, orders and expected returns; it sends back shipments with
    tracking, stock levels and return receipts."""

    settings_form = FulfilmentSettings
    needs_channel = False
    creates_items_from_orders = False      # the 3PL has no item creation: an item appears with its first order
    reads_stock = True                      # the 3PL reports stock levels (stock in, reconciliation)
    takes_returns = True                    # the 3PL accepts expected returns
    shipment_topics: tuple[str, ...] = ()   # webhook topics that carry (or point at) shipments
    stock_topics: tuple[str, ...] = ()      # webhook topics after which the stock of some SKUs is checked
    return_topics: tuple[str, ...] = ()     # webhook topics that carry returns
    poll_overlap = timedelta(minutes=10)    # the shipments poll reads back this far before its cursor

    # --- warehouses -----------------------------------------------------------------------------
    def locations(self, endpoint) -> dict[str, str]:
        """Hub warehouse code → the 3PL's fulfilment centre id, for the warehouses this endpoint serves."""
        return {code: str(location) for code, location in (endpoint.config.get("warehouse_map") or {}).items()}

    def service_for(self, endpoint, *, code: str, title: str) -> str:
        services = endpoint.config.get("service_map") or {}
        return services.get(code) or services.get(title) or endpoint.config.get("default_service") or title or "Standard"

    # --- items out ------------------------------------------------------------------------------
    def item_document(self, *, endpoint, product) -> dict:
        raise NotImplementedError

    def item_find(self, ctx, *, sku: str) -> ItemRef | None:
        raise NotImplementedError

    def item_create(self, ctx, *, sku: str, document: dict) -> ItemRef | None:
        """None when the 3PL creates items from orders (`creates_items_from_orders`)."""
        raise NotImplementedError

    def item_update(self, ctx, *, ref: ItemRef, document: dict) -> ItemRef:
        raise NotImplementedError

    # --- orders out -----------------------------------------------------------------------------
    def release_create(self, ctx, *, release: Release) -> ReleaseRef:
        """Hand the part to the 3PL, exactly once in effect: sent again with the same reference
        (after a timeout), it answers the order it already has."""
        raise NotImplementedError

    def release_update(self, ctx, *, ref: ReleaseRef, release: Release) -> ReleaseRef:
        """New address or service for a part not picked yet; FulfilmentRefused when too late."""
        raise NotImplementedError

    def release_hold(self, ctx, *, ref: ReleaseRef, release: Release) -> bool:
        """Stop picking until resumed; False when the 3PL has no holds (the part is cancelled instead)."""
        return False

    def release_resume(self, ctx, *, ref: ReleaseRef, release: Release) -> ReleaseRef:
        raise NotImplementedError

    def release_cancel(self, ctx, *, ref: ReleaseRef, release: Release, reason: str) -> None:
        """Cancel a part; FulfilmentRefused when it is already picked or shipped."""
        raise NotImplementedError

    # --- shipments in ---------------------------------------------------------------------------
    def shipments_since(self, ctx, *, since: datetime):
        """Every shipment the 3PL changed since `since` (the polling safety net)."""
        raise NotImplementedError

    def shipments_from_event(self, *, endpoint, topic: str, payload: dict) -> list[ShipmentData]:
        raise NotImplementedError

    # --- stock in -------------------------------------------------------------------------------
    def stock_levels(self, ctx, *, location_ids: list[str], skus: list[str] | None = None):
        """StockRows for these fulfilment centres (every SKU it holds, or these SKUs)."""
        raise NotImplementedError

    def stock_reasons(self, ctx, *, location_id: str, skus: list[str], since: datetime | None) -> dict[str, str]:
        """The 3PL's own words for recent changes of these SKUs there (adjustments, counts), if it says."""
        return {}

    def stock_event_skus(self, *, endpoint, topic: str, payload: dict) -> list[str]:
        return []

    # --- returns --------------------------------------------------------------------------------
    def return_create(self, ctx, *, reference: str, location_id: str, lines: list[dict], original_shipment: str,
                      tracking_number: str) -> str:
        """Announce an expected return (exactly once by `reference`); returns the 3PL's id."""
        raise NotImplementedError

    def return_update(self, ctx, *, external_id: str, reference: str, location_id: str, lines: list[dict], original_shipment: str,
                      tracking_number: str) -> bool:
        """Give an expected return the tracking number its label got after it was announced; False
        when the 3PL can no longer change it (the parcel arrived) or has no way to."""
        return False

    def return_cancel(self, ctx, *, external_id: str) -> None:
        raise NotImplementedError

    def return_fetch(self, ctx, *, external_id: str) -> ReturnReceipt:
        raise NotImplementedError

    def return_from_event(self, *, endpoint, topic: str, payload: dict) -> ReturnReceipt | None:
        return None

    # --- inbound dispatch -----------------------------------------------------------------------
    def topic_handlers(self) -> dict:
        from connectors.fulfilment import inbound

        handlers = {topic: inbound.shipments_event for topic in self.shipment_topics}
        handlers.update({topic: inbound.stock_event for topic in self.stock_topics})
        handlers.update({topic: inbound.return_event for topic in self.return_topics})
        return handlers

    def topics(self) -> set[str]:
        return set(self.topic_handlers())

    def process(self, *, message):
        import json

        handler = self.topic_handlers().get(message.topic)
        if handler is None:
            return "ignored"
        try:
            payload = json.loads(message.body)
        except ValueError:
            raise RefusedData(Text(gettext_noop("the body is not JSON"))) from None
        return handler(endpoint=message.endpoint, topic=message.topic, payload=payload)
