"""Pure functions between eBay Sell API JSON (Fulfillment v1, Inventory v1) and the hub's records."""

from datetime import datetime, timezone
from decimal import Decimal

from django.utils.translation import gettext_noop

from connectors.errors import RefusedData
from hub.texts import Text

# eBay marketplace id → (country, currency, Content-Language for inventory writes).
MARKETPLACES = {
    "EBAY_FR": ("FR", "EUR", "fr-FR"), "EBAY_DE": ("DE", "EUR", "de-DE"), "EBAY_ES": ("ES", "EUR", "es-ES"),
    "EBAY_IT": ("IT", "EUR", "it-IT"), "EBAY_GB": ("GB", "GBP", "en-GB"), "EBAY_US": ("US", "USD", "en-US"),
    "EBAY_NL": ("NL", "EUR", "nl-NL"), "EBAY_BE": ("BE", "EUR", "fr-BE"), "EBAY_AT": ("AT", "EUR", "de-AT"),
}
PAID = {"PAID", "PARTIALLY_REFUNDED", "FULLY_REFUNDED"}


def money(value: dict | None) -> Decimal:
    return Decimal(str((value or {}).get("value") or "0"))


def stamp(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def marketplace_of(order: dict) -> str:
    return next((item.get("listingMarketplaceId") for item in order.get("lineItems") or [] if item.get("listingMarketplaceId")), "")


def order_payload(order: dict) -> dict:
    """Line costs are for the whole quantity, VAT included where the marketplace's prices are;
    promotions are line discounts; the order total is eBay's `pricingSummary.total`."""
    currency = (order.get("pricingSummary") or {}).get("total", {}).get("currency") or "EUR"
    country = MARKETPLACES.get(marketplace_of(order), ("FR",))[0]
    lines = []
    for item in order.get("lineItems") or []:
        quantity = int(item.get("quantity") or 0)
        if quantity <= 0:
            continue
        cost = money(item.get("lineItemCost"))
        discount = sum((money(p.get("discountAmount")) for p in item.get("appliedPromotions") or []), Decimal(0))
        lines.append({"sku": item.get("sku") or f"ebay-{item.get('legacyItemId')}", "name": (item.get("title") or "")[:255],
                      "quantity": quantity, "unit_price": str((cost / quantity).quantize(Decimal("0.0001"))), "discount": str(discount)})
    summary = order.get("pricingSummary") or {}
    delivery = money(summary.get("deliveryCost")) - money(summary.get("deliveryDiscount"))
    ship_to = ((order.get("fulfillmentStartInstructions") or [{}])[0].get("shippingStep") or {}).get("shipTo") or {}
    buyer = order.get("buyer") or {}
    registration = buyer.get("buyerRegistrationAddress") or {}
    payload = {
        "external_id": order["orderId"], "currency": currency,
        "customer": {"external_id": buyer.get("username") or "", "email": registration.get("email") or ship_to.get("email") or "",
                     "name": registration.get("fullName") or ship_to.get("fullName") or ""},
        "lines": lines, "prices_include_tax": True, "tax_total": "0",
        "shipping_lines": [{"title": "eBay shipping", "code": "ebay", "price": str(max(delivery, Decimal(0)))}] if delivery else [],
        "total": str(money(summary.get("total"))),
        "payment_status": "paid" if order.get("orderPaymentStatus") in PAID else "pending",
        "payment_method": "ebay_managed_payments", "payment_reference": order["orderId"],
        "placed_at": (stamp(order.get("creationDate")) or datetime.now(timezone.utc)).isoformat(),
    }
    address = ship_to.get("contactAddress") or {}
    if address.get("addressLine1"):
        payload["shipping_address"] = {"name": ship_to.get("fullName") or "—", "line1": address["addressLine1"],
                                       "line2": address.get("addressLine2") or "", "postcode": address.get("postalCode") or "—",
                                       "city": address.get("city") or "—", "country": (address.get("countryCode") or country).upper(),
                                       "phone": (ship_to.get("primaryPhone") or {}).get("phoneNumber") or ""}
    return payload


def cancellation(order: dict) -> str | None:
    if ((order.get("cancelStatus") or {}).get("cancelState")) == "CANCELED":
        return "cancelled in eBay"
    if order.get("orderPaymentStatus") == "FAILED":
        return "payment failed in eBay"
    return None


def refunds(order: dict) -> list[dict]:
    """Each completed refund of the order with the lines it names: [{refund_id, amount, lines}]."""
    found: dict[str, dict] = {}
    for item in order.get("lineItems") or []:
        for refund in item.get("refunds") or []:
            entry = found.setdefault(refund["refundId"], {"refund_id": refund["refundId"], "amount": Decimal(0), "lines": []})
            amount = money(refund.get("amount"))
            entry["amount"] += amount
            whole_line = amount >= money(item.get("lineItemCost"))  # eBay names no quantity: a full line refund returns the line
            entry["lines"].append({"sku": item.get("sku") or "", "quantity": int(item.get("quantity") or 0) if whole_line else 0, "amount": amount,
                                   "line_ref": item.get("lineItemId") or ""})
    for refund in (order.get("paymentSummary") or {}).get("refunds") or []:
        if refund.get("refundStatus") != "REFUNDED":
            found.pop(refund.get("refundId"), None)
    return list(found.values())


def fulfilment_body(*, line_items: dict[str, str], lines: list[dict], tracking: dict, shipped: datetime) -> dict:
    """`createShippingFulfillment` body; `line_items` maps SKU → lineItemId."""
    missing = [line["sku"] for line in lines if line["sku"] not in line_items]
    if missing:
        raise RefusedData(Text(gettext_noop("%(skus)s is not a line of this eBay order"), skus=", ".join(missing)))
    return {"lineItems": [{"lineItemId": line_items[line["sku"]], "quantity": int(line["quantity"])} for line in lines],
            "shippedDate": iso(shipped), "shippingCarrierCode": (tracking.get("company") or "Other").replace(" ", "_"),
            "trackingNumber": tracking.get("number") or ""}
