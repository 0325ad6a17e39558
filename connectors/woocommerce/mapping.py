"""Pure functions between the hub's records and WooCommerce REST API v3 JSON."""

from datetime import datetime, timezone
from decimal import Decimal

from django.utils.translation import gettext_noop

from hub.money import round_money
from hub.texts import Text

# WooCommerce order status → the hub's payment status. `cancelled`, `failed` and `trash` are
# cancellations (see `cancellation`); refunds are recorded from the order's refunds.
STATUS_TO_PAYMENT = {"pending": "pending", "on-hold": "pending", "processing": "paid", "completed": "paid", "refunded": "paid",
                     "cancelled": "pending", "failed": "pending", "trash": "pending"}
CANCELLED_STATUSES = {"cancelled": Text(gettext_noop("cancelled in WooCommerce")), "failed": Text(gettext_noop("payment failed in WooCommerce")),
                      "trash": Text(gettext_noop("deleted in WooCommerce"))}
NOT_YET_ORDERS = {"checkout-draft"}


def money(value) -> Decimal:
    return Decimal(str(value if value not in (None, "") else "0"))


def gmt(value: str | None) -> datetime | None:
    """WooCommerce's `*_gmt` fields carry no offset; they are UTC."""
    if not value:
        return None
    stamp = datetime.fromisoformat(value)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def _address(address: dict | None) -> dict | None:
    if not address or not (address.get("address_1") or address.get("city")):
        return None
    name = " ".join(p for p in [address.get("first_name"), address.get("last_name")] if p)
    return {"name": name or address.get("company") or "—", "company": address.get("company") or "", "line1": address.get("address_1") or "—",
            "line2": address.get("address_2") or "", "postcode": address.get("postcode") or "—", "city": address.get("city") or "—",
            "country": (address.get("country") or "FR").upper(), "phone": address.get("phone") or ""}


def _rates(order: dict) -> dict[int, Decimal]:
    """Tax rate id → rate as a fraction (`rate_percent` 20 → 0.2)."""
    return {line.get("rate_id"): money(line.get("rate_percent")) / 100 for line in order.get("tax_lines") or [] if line.get("rate_id")}


def _line_rate(line: dict, rates: dict) -> Decimal:
    return max((rates.get(tax.get("id"), Decimal(0)) for tax in line.get("taxes") or [] if money(tax.get("total"))), default=Decimal(0))


def order_payload(order: dict) -> dict:
    """Line `subtotal` is before coupons and `total` after, both without tax; the order's
    `total_tax` is WooCommerce's own (it rounds the order's tax, not each line's), so totals add
    up exactly when WooCommerce's do. Positive fees are charged like shipping lines; negative
    fees are order discounts."""
    rates = _rates(order)
    billing = order.get("billing") or {}
    lines = []
    for item in order.get("line_items") or []:
        quantity = int(item.get("quantity") or 0)
        subtotal, total = money(item.get("subtotal")), money(item.get("total"))
        lines.append({"sku": item.get("sku") or f"woocommerce-product-{item.get('variation_id') or item.get('product_id')}",
                      "name": item.get("name") or "", "quantity": quantity,
                      "unit_price": str((subtotal / quantity).quantize(Decimal("0.0001")) if quantity else Decimal(0)),
                      "discount": str(max(subtotal - total, Decimal(0))), "tax_rate": str(_line_rate(item, rates)),
                      "tax_amount": str(money(item.get("total_tax")))})
    shipping = [{"title": s.get("method_title") or "Shipping", "code": s.get("method_id") or "", "price": str(money(s.get("total"))),
                 "tax_amount": str(money(s.get("total_tax")))} for s in order.get("shipping_lines") or []]
    order_discount = Decimal(0)
    for fee in order.get("fee_lines") or []:
        amount = money(fee.get("total"))
        if amount >= 0:
            shipping.append({"title": fee.get("name") or "Fee", "code": "fee", "price": str(amount), "tax_amount": str(money(fee.get("total_tax")))})
        else:
            order_discount -= amount
    payload = {
        "external_id": str(order["id"]), "currency": order.get("currency") or "EUR",
        "customer": {"external_id": str(order.get("customer_id") or "") if order.get("customer_id") else "",
                     "email": billing.get("email") or "", "name": " ".join(p for p in [billing.get("first_name"), billing.get("last_name")] if p),
                     "company": billing.get("company") or "", "phone": billing.get("phone") or ""},
        "lines": lines, "shipping_lines": shipping,
        "discount_codes": [{"code": c.get("code", ""), "amount": str(money(c.get("discount")))} for c in order.get("coupon_lines") or []],
        "order_discount": str(order_discount), "prices_include_tax": False,
        "tax_total": str(money(order.get("total_tax"))), "total": str(money(order.get("total"))),
        "payment_status": STATUS_TO_PAYMENT.get(order.get("status") or "pending", "pending"),
        "placed_at": (gmt(order.get("date_created_gmt")) or datetime.now(timezone.utc)).isoformat(),
        "notes": order.get("customer_note") or "",
    }
    for key, source in (("billing_address", "billing"), ("shipping_address", "shipping")):
        address = _address(order.get(source))
        if address:
            payload[key] = address
    return payload


def cancellation(order: dict) -> Text | None:
    return CANCELLED_STATUSES.get(order.get("status") or "")


def customer_payload(customer: dict) -> dict:
    """WooCommerce customer JSON → the arguments of orders.services.customer_upsert_from_channel."""
    name = " ".join(p for p in [customer.get("first_name"), customer.get("last_name")] if p)
    addresses = []
    for key, default in (("billing", True), ("shipping", False)):
        mapped = _address(customer.get(key))
        if mapped:
            addresses.append({**mapped, "is_default": default})
    return {"external_id": str(customer["id"]), "email": customer.get("email") or "", "name": name or (customer.get("email") or ""),
            "phone": (customer.get("billing") or {}).get("phone") or "", "addresses": addresses}


def refund_lines(refund: dict, *, order: dict, prices_include_tax: bool) -> list[dict]:
    """A refund's line items (negative quantities and totals, `_refunded_item_id` in their meta) →
    [{sku, quantity, amount, line_ref}] with positive figures, amounts as the invoice shows them."""
    skus = {str(item.get("id")): item.get("sku") or "" for item in order.get("line_items") or []}
    lines = []
    for item in refund.get("line_items") or []:
        refunded_item = next((str(m.get("value")) for m in item.get("meta_data") or [] if m.get("key") == "_refunded_item_id"), "")
        total, tax = abs(money(item.get("total"))), abs(money(item.get("total_tax")))
        lines.append({"sku": item.get("sku") or skus.get(refunded_item, ""), "quantity": abs(int(item.get("quantity") or 0)),
                      "amount": total + tax if prices_include_tax else total, "line_ref": refunded_item or str(item.get("id"))})
    return lines


def product_json(parent, variants, prices, *, currency: str, publish_status: str) -> dict:
    """A parent product (simple, or variable with its variations) as WooCommerce product JSON;
    prices are strings with the currency's decimals, as WooCommerce writes them."""

    def price(sku) -> str:
        return str(round_money(prices[sku], currency))

    axes = list(parent.option_axes or [])
    body = {"name": parent.name, "sku": parent.sku, "description": parent.description or "", "status": publish_status,
            "categories": [], "manage_stock": True}
    if parent.category:
        body["short_description"] = parent.category.name
    if not axes or variants == [parent]:
        body.update({"type": "simple", "regular_price": price(parent.sku), "weight": _kilograms(parent.weight_g)})
        return {"product": body, "variations": []}
    body.update({"type": "variable", "attributes": [
        {"name": axis, "visible": True, "variation": True,
         "options": sorted({str((v.option_values or {}).get(axis, "—")) for v in variants})} for axis in axes]})
    variations = [{"sku": v.sku, "regular_price": price(v.sku), "manage_stock": True, "weight": _kilograms(v.weight_g),
                   "attributes": [{"name": axis, "option": str((v.option_values or {}).get(axis, "—"))} for axis in axes]}
                  for v in variants]
    return {"product": body, "variations": variations}


def _kilograms(grams) -> str:
    return str((Decimal(grams or 0) / 1000).normalize()) if grams else ""
