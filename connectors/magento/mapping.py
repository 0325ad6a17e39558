"""Pure functions between the hub's records and Magento 2 REST JSON."""

import re
import unicodedata
from datetime import datetime, timezone
from decimal import Decimal

from django.utils.translation import gettext_noop

from hub.money import round_money
from hub.texts import Text

CANCELLED_STATES = {"canceled": Text(gettext_noop("canceled in Magento"))}
PAID_STATES = {"processing", "complete", "closed"}
CARRIER_CODES = {"ups": "ups", "usps": "usps", "fedex": "fedex", "dhl": "dhl"}  # Magento's own carriers; any other is "custom"


def money(value) -> Decimal:
    return Decimal(str(value if value not in (None, "") else "0"))


def utc(value: str | None) -> datetime | None:
    """Magento's sales dates (`created_at`, `updated_at`) are UTC as `Y-m-d H:i:s`."""
    if not value:
        return None
    stamp = datetime.fromisoformat(str(value).replace(" ", "T"))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def filter_stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def attribute_code(axis: str, attribute_map: dict) -> str:
    """The Magento attribute behind a hub option axis: the endpoint's map, else the axis's name as a code."""
    return attribute_map.get(axis) or slug(axis).replace("-", "_")


# --- orders in ------------------------------------------------------------------------------------

def top_items(order: dict) -> list[dict]:
    """The order's lines: a configurable line is a parent item (the chosen child's SKU and the
    price) with a child item (price 0) under it; only the parent is a line."""
    return [item for item in order.get("items") or [] if not item.get("parent_item_id")]


def _address(address: dict | None) -> dict | None:
    if not address or not (address.get("street") or address.get("city")):
        return None
    street = list(address.get("street") or [])
    name = " ".join(p for p in [address.get("firstname"), address.get("lastname")] if p)
    return {"name": name or address.get("company") or "—", "company": address.get("company") or "", "line1": (street[0] if street else "") or "—",
            "line2": ", ".join(street[1:]), "postcode": address.get("postcode") or "—", "city": address.get("city") or "—",
            "country": (address.get("country_id") or "FR").upper(), "phone": address.get("telephone") or ""}


def shipping_address(order: dict) -> dict | None:
    for assignment in (order.get("extension_attributes") or {}).get("shipping_assignments") or []:
        address = (assignment.get("shipping") or {}).get("address")
        if address:
            return address
    return None


def order_payload(order: dict) -> dict:
    """Item `price`, `row_total` and `discount_amount` are without tax; `tax_amount` is the line's
    tax after discount; the order's `tax_amount` includes the shipping's; `discount_amount` is
    negative and may include a shipping discount (kept as an order discount)."""
    lines = []
    for item in top_items(order):
        quantity = int(money(item.get("qty_ordered")))
        lines.append({"sku": item.get("sku") or f"magento-product-{item.get('product_id')}", "name": item.get("name") or "",
                      "quantity": quantity, "unit_price": str(money(item.get("price"))), "discount": str(money(item.get("discount_amount"))),
                      "tax_rate": str((money(item.get("tax_percent")) / 100).quantize(Decimal("0.0001"))),
                      "tax_amount": str(money(item.get("tax_amount")))})
    line_discounts = sum((money(line["discount"]) for line in lines), Decimal(0))
    order_discount = max(abs(money(order.get("discount_amount"))) - line_discounts, Decimal(0))
    shipping = []
    if money(order.get("shipping_amount")) or order.get("shipping_description"):
        method = ((order.get("extension_attributes") or {}).get("shipping_assignments") or [{}])[0].get("shipping", {}).get("method") or ""
        shipping.append({"title": order.get("shipping_description") or "Shipping", "code": method,
                         "price": str(money(order.get("shipping_amount"))), "tax_amount": str(money(order.get("shipping_tax_amount")))})
    grand_total = money(order.get("grand_total"))
    paid = order.get("state") in PAID_STATES and money(order.get("total_paid")) >= grand_total > 0
    name = " ".join(p for p in [order.get("customer_firstname"), order.get("customer_lastname")] if p)
    payload = {
        "external_id": str(order["entity_id"]), "currency": order.get("order_currency_code") or "EUR",
        "customer": {"external_id": "" if order.get("customer_is_guest") or not order.get("customer_id") else str(order["customer_id"]),
                     "email": order.get("customer_email") or "", "name": name, "company": "", "phone": ""},
        "lines": lines, "shipping_lines": shipping, "discount_codes": [], "order_discount": str(order_discount),
        "prices_include_tax": False, "tax_total": str(money(order.get("tax_amount"))), "total": str(grand_total),
        "payment_status": "paid" if paid else "pending",
        "placed_at": (utc(order.get("created_at")) or datetime.now(timezone.utc)).isoformat(),
        "notes": "",
    }
    if order.get("discount_description") and line_discounts + order_discount:
        payload["discount_codes"] = [{"code": str(order["discount_description"])[:100], "amount": str(line_discounts + order_discount)}]
    for key, address in (("billing_address", order.get("billing_address")), ("shipping_address", shipping_address(order))):
        mapped = _address(address)
        if mapped:
            payload[key] = mapped
    return payload


def cancellation(order: dict) -> Text | None:
    return CANCELLED_STATES.get(order.get("state") or "")


def refund_lines(memo: dict, *, order: dict, prices_include_tax: bool) -> list[dict]:
    """A credit memo's rows for the order's lines (configurable children rows skipped), with
    positive amounts as the invoice shows them (after discount; with tax when prices include it)."""
    lines_by_item = {item.get("item_id"): item for item in top_items(order)}
    lines = []
    for row in memo.get("items") or []:
        quantity = int(money(row.get("qty")))
        item = lines_by_item.get(row.get("order_item_id"))
        if item is None or quantity <= 0:
            continue
        amount = money(row.get("row_total")) - money(row.get("discount_amount"))
        if prices_include_tax:
            amount += money(row.get("tax_amount"))
        lines.append({"sku": row.get("sku") or item.get("sku") or "", "quantity": quantity, "amount": amount,
                      "line_ref": str(row.get("order_item_id"))})
    return lines


# --- catalogue out --------------------------------------------------------------------------------

def _kilograms(grams):
    return float((Decimal(grams) / 1000).normalize()) if grams else None


def _product_body(product, *, price, type_id: str, visibility: int, attribute_set_id: int, website_id: int, options: dict | None = None) -> dict:
    body = {"sku": product.sku, "name": product.name, "attribute_set_id": attribute_set_id, "status": 1 if product.status == "active" else 2,
            "visibility": visibility, "type_id": type_id, "extension_attributes": {"website_ids": [website_id]},
            "custom_attributes": [{"attribute_code": "url_key", "value": slug(product.sku)}]}
    if product.description:
        body["custom_attributes"].append({"attribute_code": "description", "value": product.description})
    if price is not None:
        body["price"] = price
    weight = _kilograms(product.weight_g)
    if weight is not None:
        body["weight"] = weight
    if options:
        body["options"] = options  # axis attribute code → the option's label; resolved to the option's id when sent
    return body


def product_document(parent, variants, prices, *, currency: str, attribute_map: dict, attribute_set_id: int, website_id: int) -> dict:
    """A hub parent product as Magento products: a simple product, or a configurable product
    (no price of its own) with one simple child per variant, not visible on its own, carrying
    the variant's option values, price and stock. Prices as numbers with the currency's decimals."""

    def price(sku):
        return float(round_money(prices[sku], currency))

    axes = list(parent.option_axes or [])
    common = {"attribute_set_id": attribute_set_id, "website_id": website_id}
    if not axes or variants == [parent]:
        return {"type": "simple", "product": _product_body(parent, price=price(parent.sku), type_id="simple", visibility=4, **common),
                "children": [], "axes": {}, "prices": [{"sku": parent.sku, "price": price(parent.sku)}]}
    codes = {axis: attribute_code(axis, attribute_map) for axis in axes}
    children = [_product_body(v, price=price(v.sku), type_id="simple", visibility=1,
                              options={codes[axis]: str((v.option_values or {}).get(axis, "—")) for axis in axes}, **common)
                for v in variants]
    return {"type": "configurable", "product": _product_body(parent, price=None, type_id="configurable", visibility=4, **common),
            "children": children, "axes": codes, "prices": [{"sku": v.sku, "price": price(v.sku)} for v in variants]}


def carrier(company: str) -> tuple[str, str]:
    """(carrier_code, title) for a shipment track."""
    name = (company or "").strip()
    return CARRIER_CODES.get(name.lower(), "custom"), name or "Carrier"
