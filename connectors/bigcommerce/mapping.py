"""Pure functions between the hub's records and BigCommerce JSON (v2 orders, v3 catalogue)."""

from datetime import datetime, timezone
from decimal import Decimal
from email.utils import format_datetime, parsedate_to_datetime

from django.utils.translation import gettext_noop

from hub.money import round_money
from hub.texts import Text

# Order status id → the hub's payment status (0 Incomplete is not an order yet; 5 and 6 are cancellations).
STATUS_PAYMENT = {1: "pending", 7: "pending", 12: "pending", 5: "pending", 6: "pending", 2: "paid", 3: "paid", 4: "paid", 8: "paid",
                  9: "paid", 10: "paid", 11: "paid", 13: "paid", 14: "paid"}
CANCELLED_STATUSES = {5: Text(gettext_noop("cancelled in BigCommerce")), 6: Text(gettext_noop("declined in BigCommerce"))}
NOT_YET_ORDERS = {0}
CANCELLED = 5
# Hub carrier names → AfterShip courier slugs, which BigCommerce takes as `tracking_carrier`.
TRACKING_CARRIERS = {"colissimo": "colissimo", "chronopost": "chronopost-france", "la poste": "la-poste-colissimo", "dhl": "dhl",
                     "ups": "ups", "fedex": "fedex", "usps": "usps", "dpd": "dpd", "gls": "gls", "tnt": "tnt"}


def money(value) -> Decimal:
    return Decimal(str(value if value not in (None, "") else "0"))


def amount(value, currency: str) -> str:
    """v2 amounts carry 4 decimals ("5.0000", "62.6793"): an amount of money has the currency's."""
    return str(round_money(money(value), currency))


def rfc2822(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = parsedate_to_datetime(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def rfc2822_text(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone.utc))


def _address(address: dict | None) -> dict | None:
    if not address or not (address.get("street_1") or address.get("city")):
        return None
    name = " ".join(p for p in [address.get("first_name"), address.get("last_name")] if p)
    return {"name": name or address.get("company") or "—", "company": address.get("company") or "", "line1": address.get("street_1") or "—",
            "line2": address.get("street_2") or "", "postcode": address.get("zip") or "—", "city": address.get("city") or "—",
            "country": (address.get("country_iso2") or "FR").upper(), "phone": address.get("phone") or ""}


def _discount(product: dict) -> Decimal:
    return sum((money(d.get("amount")) for d in product.get("applied_discounts") or []), Decimal(0))


def order_lines(order: dict) -> list[dict]:
    """The order's products (bundle components, listed under their parent, are not lines)."""
    return [p for p in order.get("products") or [] if not p.get("parent_order_product_id")]


def order_payload(order: dict) -> dict:
    """`order` is the v2 order with its `products` and `shipping_addresses` lists. Line
    `price_ex_tax` is before discounts, `applied_discounts` the line's share of them, `total_tax`
    the line's tax after them; shipping and handling are charged like shipping lines."""
    currency = order.get("currency_code") or "EUR"
    lines = []
    for product in order_lines(order):
        price = money(product.get("price_ex_tax"))
        rate = (money(product.get("price_tax")) / price).quantize(Decimal("0.0001")) if price else Decimal(0)
        lines.append({"sku": product.get("sku") or f"bigcommerce-product-{product.get('product_id')}", "name": product.get("name") or "",
                      "quantity": int(product.get("quantity") or 0), "unit_price": str(price), "discount": amount(_discount(product), currency),
                      "tax_rate": str(min(rate, Decimal(1))), "tax_amount": amount(product.get("total_tax"), currency)})
    addresses = order.get("shipping_addresses") or []
    shipping = [{"title": (addresses[0].get("shipping_method") if addresses else "") or "Shipping", "code": "shipping",
                 "price": amount(order.get("shipping_cost_ex_tax"), currency), "tax_amount": amount(order.get("shipping_cost_tax"), currency)}]
    for kind, title in (("handling", "Handling"), ("wrapping", "Gift wrapping")):
        if money(order.get(f"{kind}_cost_ex_tax")):
            shipping.append({"title": title, "code": kind, "price": amount(order.get(f"{kind}_cost_ex_tax"), currency),
                             "tax_amount": amount(order.get(f"{kind}_cost_tax"), currency)})
    line_discounts = sum((_discount(p) for p in order_lines(order)), Decimal(0))
    billing = order.get("billing_address") or {}
    status = int(order.get("status_id") or 0)
    payload = {
        "external_id": str(order["id"]), "currency": currency,
        "customer": {"external_id": str(order["customer_id"]) if order.get("customer_id") else "", "email": billing.get("email") or "",
                     "name": " ".join(p for p in [billing.get("first_name"), billing.get("last_name")] if p),
                     "company": billing.get("company") or "", "phone": billing.get("phone") or ""},
        "lines": lines, "shipping_lines": shipping,
        "discount_codes": [], "order_discount": amount(max(money(order.get("discount_amount")) - line_discounts, Decimal(0)), currency),
        "prices_include_tax": False, "tax_total": amount(order.get("total_tax"), currency), "total": amount(order.get("total_inc_tax"), currency),
        "payment_status": STATUS_PAYMENT.get(status, "pending"),
        "placed_at": (rfc2822(order.get("date_created")) or datetime.now(timezone.utc)).isoformat(),
        "notes": order.get("customer_message") or "",
    }
    for key, address in (("billing_address", billing), ("shipping_address", addresses[0] if addresses else None)):
        mapped = _address(address)
        if mapped:
            payload[key] = mapped
    return payload


def cancellation(order: dict) -> Text | None:
    return CANCELLED_STATUSES.get(int(order.get("status_id") or 0))


def refund_lines(refund: dict, *, products: list[dict], prices_include_tax: bool) -> list[dict]:
    """A v3 refund's PRODUCT items → [{sku, quantity, amount, line_ref}], amounts as the invoice
    shows them: the lines' price after discount for the refunded share (with its tax when prices
    include tax). Shipping and other items are left to the refund's total."""
    by_id = {p.get("id"): p for p in products}
    lines = []
    for item in refund.get("items") or []:
        product = by_id.get(item.get("item_id"))
        if item.get("item_type") != "PRODUCT" or product is None or not item.get("quantity"):
            continue
        quantity = int(item["quantity"])
        share = Decimal(quantity) / int(product.get("quantity") or quantity)
        amount = (money(product.get("total_ex_tax")) - _discount(product)) * share
        if prices_include_tax:
            amount += money(product.get("total_tax")) * share
        lines.append({"sku": product.get("sku") or "", "quantity": quantity, "amount": amount.quantize(Decimal("0.01")),
                      "line_ref": str(product.get("id"))})
    return lines


def _kilograms(grams) -> float:
    return float((Decimal(grams or 0) / 1000).normalize())


def product_document(parent, variants, prices, *, currency: str) -> dict:
    """A parent product as a v3 catalogue product: a simple product tracked by product, or one
    with a variant per hub variant (option values from the hub's option axes) tracked by variant.
    Product names are unique in a store: a variant product takes the parent's name."""

    def price(sku) -> float:
        return float(round_money(prices[sku], currency))

    axes = list(parent.option_axes or [])
    body = {"name": parent.name, "type": "physical", "sku": parent.sku, "description": parent.description or "",
            "weight": _kilograms(parent.weight_g), "is_visible": parent.status == "active"}
    if not axes or variants == [parent]:
        return {"product": {**body, "price": price(parent.sku), "inventory_tracking": "product"}, "variants": []}
    rows = [{"sku": v.sku, "price": price(v.sku), "weight": _kilograms(v.weight_g or parent.weight_g),
             "option_values": [{"option_display_name": axis, "label": str((v.option_values or {}).get(axis, "—"))} for axis in axes]}
            for v in variants]
    return {"product": {**body, "price": min(row["price"] for row in rows), "inventory_tracking": "variant"}, "variants": rows}


def tracking_carrier(company: str) -> str:
    return TRACKING_CARRIERS.get((company or "").strip().lower(), "")
