"""Pure functions between the hub's records and Shopify Admin API (2025-01) JSON."""

from decimal import Decimal

# Refunded orders were paid first; the refunds themselves are recorded from refunds/create.
FINANCIAL_TO_PAYMENT = {"paid": "paid", "authorized": "authorised", "partially_paid": "pending", "pending": "pending",
                        "partially_refunded": "paid", "refunded": "paid"}


def _money(value) -> Decimal:
    return Decimal(str(value or "0"))


def _address(address: dict | None) -> dict | None:
    if not address:
        return None
    name = address.get("name") or " ".join(p for p in [address.get("first_name"), address.get("last_name")] if p)
    return {"name": name or "—", "company": address.get("company") or "", "line1": address.get("address1") or "—",
            "line2": address.get("address2") or "", "postcode": address.get("zip") or "—", "city": address.get("city") or "—",
            "country": (address.get("country_code") or "FR").upper(), "phone": address.get("phone") or ""}


def order_payload(order: dict) -> dict:
    """Line discounts are Shopify's `discount_allocations` (order-level discounts already spread
    over the lines), so the hub's `order_discount` stays 0 and totals add up as Shopify's do."""
    customer = order.get("customer") or {}
    lines = []
    for item in order.get("line_items", []):
        tax = sum((_money(t.get("price")) for t in item.get("tax_lines", [])), Decimal(0))
        rate = max((_money(t.get("rate")) for t in item.get("tax_lines", [])), default=Decimal(0))
        lines.append({"sku": item.get("sku") or f"shopify-variant-{item.get('variant_id')}", "name": item.get("title") or "",
                      "quantity": int(item["quantity"]), "unit_price": str(_money(item.get("price"))),
                      "discount": str(sum((_money(d.get("amount")) for d in item.get("discount_allocations", [])), Decimal(0))),
                      "tax_rate": str(rate), "tax_amount": str(tax)})
    shipping = [{"title": s.get("title") or "Shipping", "code": s.get("code") or "", "price": str(_money(s.get("price"))),
                 "tax_amount": str(sum((_money(t.get("price")) for t in s.get("tax_lines", [])), Decimal(0)))}
                for s in order.get("shipping_lines", [])]
    payload = {
        "external_id": str(order["id"]), "currency": order.get("currency") or "EUR",
        "customer": {"external_id": str(customer.get("id") or ""), "email": order.get("email") or customer.get("email") or "",
                     "name": " ".join(p for p in [customer.get("first_name"), customer.get("last_name")] if p)},
        "lines": lines, "shipping_lines": shipping,
        "discount_codes": [{"code": d.get("code", ""), "amount": str(_money(d.get("amount")))} for d in order.get("discount_codes", [])],
        "order_discount": "0", "prices_include_tax": bool(order.get("taxes_included")),
        "tax_total": str(_money(order.get("total_tax"))), "total": str(_money(order.get("total_price"))),
        "payment_status": FINANCIAL_TO_PAYMENT.get(order.get("financial_status") or "pending", "pending"),
        "notes": order.get("note") or "",
    }
    if order.get("created_at"):
        payload["placed_at"] = order["created_at"]
    for key in ("billing_address", "shipping_address"):
        address = _address(order.get(key))
        if address:
            payload[key] = address
    return payload


def customer_payload(customer: dict) -> dict:
    """Shopify customer JSON → the arguments of orders.services.customer_upsert_from_channel."""
    name = " ".join(p for p in [customer.get("first_name"), customer.get("last_name")] if p)
    default_id = (customer.get("default_address") or {}).get("id")
    addresses = []
    for address in customer.get("addresses") or ([customer["default_address"]] if customer.get("default_address") else []):
        mapped = _address(address)
        if mapped:
            addresses.append({**mapped, "is_default": bool(address.get("default")) or address.get("id") == default_id})
    return {"external_id": str(customer["id"]), "email": customer.get("email") or "", "name": name or (customer.get("email") or ""),
            "phone": customer.get("phone") or "", "addresses": addresses}


def refund_lines(refund: dict, *, prices_include_tax: bool) -> list[dict]:
    """Shopify refund line items → [{line_item_id, sku, quantity, amount}], amounts as the invoice shows them."""
    lines = []
    for item in refund.get("refund_line_items") or []:
        subtotal, tax = _money(item.get("subtotal")), _money(item.get("total_tax"))
        lines.append({"line_item_id": str(item.get("line_item_id")), "sku": (item.get("line_item") or {}).get("sku") or "",
                      "quantity": int(item.get("quantity") or 0), "amount": subtotal + tax if prices_include_tax else subtotal})
    return lines


def refund_total(refund: dict) -> Decimal:
    return sum((_money(t.get("amount")) for t in refund.get("transactions") or []
                if t.get("kind") == "refund" and t.get("status") == "success"), Decimal(0))


def product_json(parent, variants, prices) -> dict:
    """A parent product and its variants (or itself when it has none) as a Shopify product."""
    axes = list(parent.option_axes or [])[:3]
    status = {"active": "active", "draft": "draft", "archived": "archived"}[parent.status]
    product = {"title": parent.name, "body_html": parent.description, "vendor": parent.brand,
               "product_type": parent.category.name if parent.category else "", "status": status, "handle": parent.sku.lower(),
               "variants": []}
    if axes:
        product["options"] = [{"name": axis} for axis in axes]
    for variant in variants:
        row = {"sku": variant.sku, "price": str(prices[variant.sku]), "barcode": variant.gtin or None,
               "grams": variant.weight_g or 0, "inventory_management": "shopify"}
        for index, axis in enumerate(axes, start=1):
            row[f"option{index}"] = str((variant.option_values or {}).get(axis, "—"))
        product["variants"].append(row)
    return {"product": product}
