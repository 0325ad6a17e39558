"""Pure functions between SP-API JSON (Orders v0, Listings Items 2021-08-01) and the hub's records."""

import hashlib
from datetime import datetime, timezone
from decimal import Decimal

from django.utils.translation import gettext_noop

from connectors.errors import RefusedData
from hub.texts import Text

# Marketplace id → (country, currency, prices include VAT), from the SP-API marketplace id table.
MARKETPLACES = {
    "A13V1IB3VIYZZH": ("FR", "EUR", True), "A1PA6795UKMFR9": ("DE", "EUR", True), "A1RKKUPIHCS9HS": ("ES", "EUR", True),
    "APJ6JRA9NG5V4": ("IT", "EUR", True), "A1F83G8C2ARO7P": ("GB", "GBP", True), "A1805IZSGTT6HS": ("NL", "EUR", True),
    "AMEN7PMS3EDWL": ("BE", "EUR", True), "A2NODRKZP88ZB9": ("SE", "SEK", True), "A1C3SOZRARQ6R3": ("PL", "PLN", True),
    "A28R8C7NBKEWEA": ("IE", "EUR", True), "ATVPDKIKX0DER": ("US", "USD", False), "A2EUQ1WTGCTBG2": ("CA", "CAD", False),
}
COUNTRY_MARKETPLACE = {country: marketplace_id for marketplace_id, (country, _, _) in MARKETPLACES.items()}
COUNTRY_MARKETPLACE["UK"] = COUNTRY_MARKETPLACE["GB"]

# Orders v0 OrderStatus: Pending orders are not yet paid and may still disappear (held until
# Unshipped); Canceled is a cancellation.
NOT_YET_ORDERS = {"Pending", "PendingAvailability"}
CANCELLED_STATUSES = {"Canceled": "cancelled in Amazon", "Unfulfillable": "unfulfillable in Amazon"}

# Carrier codes Amazon knows (the CarrierCode list); any other carrier goes as "Other" with its name.
CARRIER_CODES = {code.lower(): code for code in (
    "Chronopost", "Colissimo", "DHL", "DPD", "FedEx", "GLS", "Hermes", "La Poste", "Mondial Relay", "Royal Mail", "SEUR",
    "TNT", "UPS", "USPS", "Poste Italiane", "Correos", "Deutsche Post", "Parcelforce", "Yodel", "Evri", "Colis Prive")}


def money(value: dict | None) -> Decimal:
    return Decimal(str((value or {}).get("Amount") or "0"))


def stamp(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _address(address: dict | None, *, fallback_country: str) -> dict | None:
    if not address or not (address.get("AddressLine1") or address.get("City")):
        return None
    return {"name": address.get("Name") or "—", "company": address.get("CompanyName") or "",
            "line1": address.get("AddressLine1") or "—",
            "line2": " ".join(p for p in (address.get("AddressLine2"), address.get("AddressLine3")) if p),
            "postcode": address.get("PostalCode") or "—", "city": address.get("City") or "—",
            "country": (address.get("CountryCode") or fallback_country).upper(), "phone": address.get("Phone") or ""}


def order_payload(order: dict) -> dict:
    """An order with its `OrderItems` (and, when fetched with a restricted data token, its
    `ShippingAddress` and `BuyerInfo`) → the hub's order payload.

    In VAT marketplaces `ItemPrice`, `ShippingPrice` and the discounts include VAT and
    `ItemTax`/`ShippingTax`/`PromotionDiscountTax` are the VAT they hold; elsewhere taxes come on
    top. `ItemPrice` is for the whole quantity. Promotions are line discounts; shipping discounts
    reduce the shipping line."""
    country, currency, vat_inclusive = MARKETPLACES.get(order.get("MarketplaceId"), ("FR", None, True))
    currency = (order.get("OrderTotal") or {}).get("CurrencyCode") or currency or "EUR"
    lines, shipping_price, shipping_tax = [], Decimal(0), Decimal(0)
    for item in order.get("OrderItems") or []:
        quantity = int(item.get("QuantityOrdered") or 0)
        if quantity <= 0:
            continue
        price, tax = money(item.get("ItemPrice")), money(item.get("ItemTax"))
        promotion, promotion_tax = money(item.get("PromotionDiscount")), money(item.get("PromotionDiscountTax"))
        net = (price - tax) if vat_inclusive else price
        rate = (tax / net).quantize(Decimal("0.0001")) if net else Decimal(0)
        lines.append({"sku": item.get("SellerSKU") or f"amazon-{item.get('ASIN')}", "name": (item.get("Title") or "")[:255],
                      "quantity": quantity, "unit_price": str((price / quantity).quantize(Decimal("0.0001"))),
                      "discount": str(promotion), "tax_rate": str(rate), "tax_amount": str(max(tax - promotion_tax, Decimal(0)))})
        shipping_price += money(item.get("ShippingPrice")) - money(item.get("ShippingDiscount"))
        shipping_tax += money(item.get("ShippingTax")) - money(item.get("ShippingDiscountTax"))
    shipping = []
    if shipping_price or order.get("ShipServiceLevel"):
        shipping.append({"title": order.get("ShipServiceLevel") or "Shipping", "code": order.get("ShipmentServiceLevelCategory") or "",
                         "price": str(max(shipping_price, Decimal(0))), "tax_amount": str(max(shipping_tax, Decimal(0)))})
    buyer = order.get("BuyerInfo") or {}
    payload = {
        "external_id": order["AmazonOrderId"], "currency": currency,
        "customer": {"external_id": "", "email": buyer.get("BuyerEmail") or "",
                     "name": buyer.get("BuyerName") or (order.get("ShippingAddress") or {}).get("Name") or ""},
        "lines": lines, "shipping_lines": shipping, "prices_include_tax": vat_inclusive,
        "total": str(money(order.get("OrderTotal"))),
        "payment_status": "paid" if order.get("OrderStatus") not in NOT_YET_ORDERS else "pending",
        "payment_method": f"amazon-{order.get('PaymentMethod') or 'Other'}".lower()[:50],
        "placed_at": (stamp(order.get("PurchaseDate")) or datetime.now(timezone.utc)).isoformat(),
    }
    if not payload["customer"]["email"]:
        payload["customer"]["external_id"] = f"amazon-order-{order['AmazonOrderId']}"
    address = _address(order.get("ShippingAddress"), fallback_country=country)
    if address:
        payload["shipping_address"] = address
    return payload


def cancellation(order: dict) -> str | None:
    return CANCELLED_STATUSES.get(order.get("OrderStatus") or "")


def package_reference(order_id: str, tracking_number: str, shipment: str) -> str:
    """A positive number naming one package within an order, the same on every retry."""
    digest = hashlib.sha256(f"{order_id}|{shipment}|{tracking_number}".encode()).hexdigest()
    return str(int(digest[:12], 16) % 10**12 + 1)


def shipment_confirmation(*, marketplace_id: str, order_id: str, item_ids: dict[str, str], lines: list[dict], tracking: dict,
                          shipment: str, ship_date: datetime) -> dict:
    """`confirmShipment` body; `item_ids` maps SKU → OrderItemId."""
    carrier = (tracking.get("company") or "").strip()
    code = CARRIER_CODES.get(carrier.lower(), "Other")
    missing = [line["sku"] for line in lines if line["sku"] not in item_ids]
    if missing:
        raise RefusedData(Text(gettext_noop("%(skus)s is not an item of Amazon order %(order)s"), skus=", ".join(missing), order=order_id))
    package = {"packageReferenceId": package_reference(order_id, tracking.get("number") or "", shipment),
               "carrierCode": code, "trackingNumber": tracking.get("number") or "", "shipDate": iso(ship_date),
               "orderItems": [{"orderItemId": item_ids[line["sku"]], "quantity": int(line["quantity"])} for line in lines]}
    if code == "Other":
        package["carrierName"] = carrier or "Other"
    return {"marketplaceId": marketplace_id, "packageDetail": package}


def availability_patch(units: int) -> dict:
    return {"productType": "PRODUCT", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                                                   "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": int(units)}]}]}


def price_patch(*, marketplace_id: str, currency: str, price: Decimal) -> dict:
    return {"productType": "PRODUCT", "patches": [{"op": "replace", "path": "/attributes/purchasable_offer", "value": [
        {"marketplace_id": marketplace_id, "currency": currency, "our_price": [{"schedule": [{"value_with_tax": float(price)}]}]}]}]}
