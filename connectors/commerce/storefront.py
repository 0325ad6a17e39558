"""What a storefront connector supplies: its protocol, as hooks the storefront flows call.

The flows (`connectors.commerce.flows`) and the inbound handlers (`connectors.commerce.inbound`)
are written once; each storefront package subclasses `Storefront` and implements
the hooks below with its client and its pure mapping functions."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from connectors.options import ConnectorSettings, price_list_field, warehouse_map_field
from connectors.registry import Connector


class StorefrontSettings(ConnectorSettings):
    price_list = price_list_field(help_text=_("Prices published to the shop; empty: the sales channel's public list."))
    warehouse_map = warehouse_map_field(help_text=_("Hub warehouse code → the shop's location id (one pair per line); "
                                                    "stock is pushed only for mapped warehouses."))


@dataclass
class VariantRef:
    """One sellable variant as the shop knows it."""

    sku: str
    external_id: str
    data: dict = field(default_factory=dict)  # vendor ids the flows need later (inventory item, parent product…)


@dataclass
class ProductRef:
    """A product as the shop answered (created, updated or found)."""

    external_id: str
    variants: list[VariantRef] = field(default_factory=list)


@dataclass
class ProductDocument:
    """What the hub publishes for one parent product: the vendor's document and the variants it holds."""

    parent: object
    variants: list
    prices: dict  # SKU → Decimal unit price
    body: dict


@dataclass
class RefundData:
    refund_id: str
    order_external_id: str
    amount: Decimal
    lines: list[dict]  # {"sku", "quantity", "amount", "line_ref"}
    reference: str


class Storefront(Connector):
    """A shop the hub publishes its catalogue, prices and stock to, and takes orders from."""

    settings_form = StorefrontSettings
    order_topics: dict[str, bool] = {}  # vendor topic → True when it means "cancelled"
    customer_topics: tuple[str, ...] = ()
    refund_topics: tuple[str, ...] = ()

    # --- products out ---------------------------------------------------------------------------
    def published_price_lists(self, endpoint) -> list:
        """The price lists whose changes re-publish a product: the endpoint's list, and any other a
        storefront sends (customer-group prices)."""
        from connectors.commerce.flows import endpoint_price_list

        price_list = endpoint_price_list(endpoint)
        return [price_list] if price_list is not None else []

    def product_document(self, *, endpoint, parent, variants, prices) -> dict:
        raise NotImplementedError

    def product_find(self, ctx, *, document: ProductDocument) -> ProductRef | None:
        """The shop's product for these SKUs, if it already has one (exactly-once creates)."""
        raise NotImplementedError

    def product_create(self, ctx, *, document: ProductDocument) -> ProductRef:
        raise NotImplementedError

    def product_update(self, ctx, *, external_id: str, document: ProductDocument, variant_ids: dict[str, str]) -> ProductRef:
        raise NotImplementedError

    # --- stock out ------------------------------------------------------------------------------
    def stock_locations(self, endpoint) -> dict[str, list[str]]:
        """The shop's location id → the hub warehouse codes that feed it."""
        locations: dict[str, list[str]] = {}
        for warehouse_code, location_id in (endpoint.config.get("warehouse_map") or {}).items():
            locations.setdefault(str(location_id), []).append(warehouse_code)
        return locations

    def location_channel(self, endpoint, location_id: str):
        """The sales channel whose stock policy (warehouses, safety buffer) sets what this location
        may sell; a marketplace endpoint has one channel per marketplace."""
        return endpoint.channel

    def stock_ready(self, variant_data: dict) -> bool:
        """Whether a bound variant can take stock (some shops need an inventory item id first)."""
        return True

    def stock_set(self, ctx, *, rows: list[tuple[dict, str, int]]) -> None:
        """rows: (the variant binding's data incl. "external_id", location id, units) — absolute quantities."""
        raise NotImplementedError

    def stock_read(self, ctx, *, variants: dict[str, dict], locations: list[str]) -> dict[tuple[str, str], int | None]:
        """What the shop shows: (variant external id, location id) → units."""
        raise NotImplementedError

    # --- fulfilments and cancellations out ------------------------------------------------------
    def fulfilment_find(self, ctx, *, order_id: str, tracking_number: str) -> str | None:
        raise NotImplementedError

    def fulfilment_create(self, ctx, *, order_id: str, lines: list[dict], tracking: dict, order_shipped: bool) -> str:
        """Send one shipment; `order_shipped` says whether it completes the order."""
        raise NotImplementedError

    def order_is_cancelled(self, ctx, *, order_id: str) -> bool:
        raise NotImplementedError

    def order_cancel(self, ctx, *, order_id: str, reason: str) -> None:
        raise NotImplementedError

    # --- orders, customers and refunds in -------------------------------------------------------
    def orders_changed_since(self, ctx, *, since: datetime):
        """Every order the shop changed since `since`, oldest first (vendor JSON)."""
        raise NotImplementedError

    def order_channel(self, endpoint, order: dict):
        """The sales channel an order belongs to (a marketplace endpoint: the order's marketplace)."""
        return endpoint.channel

    def order_map(self, order: dict) -> dict:
        """Vendor order → the hub's order payload (`orders.validation`)."""
        raise NotImplementedError

    def order_external_id(self, order: dict) -> str:
        return str(order["id"])

    def order_label(self, order: dict) -> str:
        return str(order.get("name") or order.get("number") or order.get("id"))

    def order_updated_at(self, order: dict) -> datetime | None:
        raise NotImplementedError

    def order_cancellation(self, order: dict) -> str | None:
        """The reason when the shop cancelled this order, else None."""
        raise NotImplementedError

    def customer_map(self, customer: dict) -> dict:
        raise NotImplementedError

    def refund_map(self, refund: dict, *, prices_include_tax: bool) -> RefundData:
        raise NotImplementedError

    # --- inbound dispatch -----------------------------------------------------------------------
    def topic_handlers(self) -> dict:
        from connectors.commerce import inbound

        handlers = {topic: inbound.order_handler(cancelled=cancelled) for topic, cancelled in self.order_topics.items()}
        handlers.update({topic: inbound.customer_apply for topic in self.customer_topics})
        handlers.update({topic: inbound.refund_apply for topic in self.refund_topics})
        return handlers

    def topics(self) -> set[str]:
        return set(self.topic_handlers())

    def process(self, *, message):
        handler = self.topic_handlers().get(message.topic)
        if handler is None:
            return "ignored"
        return handler(endpoint=message.endpoint, payload=self.parse_webhook(bytes(message.body)))

    def apply_order(self, *, endpoint, order_json: dict, cancelled: bool = False) -> bool:
        from connectors.commerce.inbound import order_apply

        return order_apply(endpoint=endpoint, order=order_json, cancelled=cancelled)
