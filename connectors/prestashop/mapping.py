"""Pure functions between the hub's records and PrestaShop Webservice resources (as read by
`documents`: every value a string, multilingual ones {language id: text}).

An order arrives as a bundle the connector assembles from several resources, because the
Webservice spreads one order over `orders`, `order_details` (lines with their totals and taxes),
`order_cart_rules`, `carriers`, `customers`, `addresses`, `countries`, `currencies`,
`order_states` and `order_slip`:

    {"order", "details", "taxes": {tax id: rate %}, "state", "carrier", "customer",
     "delivery_address", "invoice_address" (each with "country_iso"), "currency",
     "cart_rules", "slips", "updated_at", "placed_at" (ISO, UTC), "cancelled" (reason or "")}"""

import re
import unicodedata
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal

from django.utils.translation import gettext_noop

from connectors.prestashop.documents import language_value
from hub.texts import Text

CENT = Decimal("0.01")
PRICE_DECIMALS = Decimal("0.000001")  # the shop stores prices with 6 decimals


def money(value) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def amount(value) -> Decimal:
    """A money amount the shop stores with 6 decimals, to the cent."""
    return cents(money(value))


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def shop_time(value: str, zone) -> datetime | None:
    """`2024-05-02 14:03:11` in the shop's time zone (the Webservice writes dates without an offset)."""
    if not value or value.startswith("0000-00-00"):
        return None
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone).astimezone(timezone.utc)


def shop_time_text(moment: datetime, zone) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


# --- orders in ------------------------------------------------------------------------------------

def _address(address: dict | None) -> dict | None:
    if not address or not (address.get("address1") or address.get("city")):
        return None
    name = " ".join(p for p in [address.get("firstname"), address.get("lastname")] if p)
    return {"name": name or address.get("company") or "—", "company": address.get("company") or "",
            "line1": address.get("address1") or "—", "line2": address.get("address2") or "",
            "postcode": address.get("postcode") or "—", "city": address.get("city") or "—",
            "country": (address.get("country_iso") or "FR").upper(), "phone": address.get("phone") or address.get("phone_mobile") or ""}


def line_sku(detail: dict) -> str:
    """The reference the shop recorded on the line (the combination's, else the product's)."""
    return detail.get("product_reference") or f"prestashop-{detail.get('product_id')}-{detail.get('product_attribute_id') or 0}"


def _tax_ids(detail: dict) -> list[str]:
    return [str(tax.get("id")) for tax in (detail.get("associations") or {}).get("taxes") or [] if tax.get("id")]


def order_line(detail: dict, taxes: dict[str, Decimal]) -> dict:
    """A line from its order detail. Line totals are taken as the shop computed them; the unit
    price is rounded up to 4 decimals and the rounding difference kept as the line's discount,
    so the hub's line total is the shop's to the cent."""
    quantity = int(detail.get("product_quantity") or 0)
    excluded, included = amount(detail.get("total_price_tax_excl")), amount(detail.get("total_price_tax_incl"))
    unit = (excluded / quantity).quantize(Decimal("0.0001"), ROUND_UP) if quantity else Decimal(0)
    rate = sum((taxes.get(tax_id, Decimal(0)) for tax_id in _tax_ids(detail)), Decimal(0)) / 100
    if not rate and excluded:
        rate = (included - excluded) / excluded
    rate = rate.quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return {"sku": line_sku(detail), "name": detail.get("product_name") or "", "quantity": quantity, "unit_price": str(unit),
            "discount": str(max(cents(unit * quantity) - excluded, Decimal(0))), "tax_rate": str(rate),
            "tax_amount": str(max(included - excluded, Decimal(0)))}


def order_payload(bundle: dict) -> dict:
    """The hub's order payload (`orders.validation`), tax-exclusive: lines, shipping and gift
    wrapping without tax, the shop's tax total, cart rules as the order discount (their tax-free
    value, which is what the shop deducts before tax)."""
    order = bundle["order"]
    taxes = {tax_id: money(rate) for tax_id, rate in (bundle.get("taxes") or {}).items()}
    details = sorted(bundle.get("details") or [], key=lambda d: int(d.get("id") or 0))
    carrier = bundle.get("carrier") or {}
    shipping = []
    shipping_excl = amount(order.get("total_shipping_tax_excl"))
    if shipping_excl or order.get("id_carrier") not in (None, "", "0"):
        shipping.append({"title": carrier.get("name") or "Shipping", "code": f"carrier-{order.get('id_carrier') or 0}",
                         "price": str(shipping_excl),
                         "tax_amount": str(max(amount(order.get("total_shipping_tax_incl")) - shipping_excl, Decimal(0)))})
    wrapping_excl = amount(order.get("total_wrapping_tax_excl"))
    if wrapping_excl:
        shipping.append({"title": "Gift wrapping", "code": "wrapping", "price": str(wrapping_excl),
                         "tax_amount": str(max(amount(order.get("total_wrapping_tax_incl")) - wrapping_excl, Decimal(0)))})
    customer = bundle.get("customer") or {}
    invoice = bundle.get("invoice_address") or {}
    state = bundle.get("state") or {}
    payload = {
        "external_id": str(order["id"]), "currency": bundle.get("currency") or "EUR",
        "customer": {"external_id": str(order.get("id_customer") or ""), "email": customer.get("email") or "",
                     "name": " ".join(p for p in [customer.get("firstname"), customer.get("lastname")] if p),
                     "company": customer.get("company") or invoice.get("company") or "",
                     "phone": invoice.get("phone") or invoice.get("phone_mobile") or ""},
        "lines": [order_line(detail, taxes) for detail in details],
        "shipping_lines": shipping,
        "discount_codes": [{"code": rule.get("name") or f"cart rule {rule.get('id_cart_rule')}", "amount": str(amount(rule.get("value")))}
                           for rule in bundle.get("cart_rules") or []],
        "order_discount": str(amount(order.get("total_discounts_tax_excl"))), "prices_include_tax": False,
        "tax_total": str(max(amount(order.get("total_paid_tax_incl")) - amount(order.get("total_paid_tax_excl")), Decimal(0))),
        "total": str(amount(order.get("total_paid_tax_incl"))),
        "payment_status": "paid" if state.get("paid") == "1" else "pending",
        "payment_method": (order.get("module") or "")[:50],
        "placed_at": bundle.get("placed_at") or datetime.now(timezone.utc).isoformat(),
        "notes": order.get("gift_message") or "" if order.get("gift") == "1" else "",
    }
    for key, source in (("billing_address", "invoice_address"), ("shipping_address", "delivery_address")):
        address = _address(bundle.get(source))
        if address:
            payload[key] = address
    return payload


def cancellation(order: dict, state: dict, cancelled_states: set[str]) -> "Text | str":
    """The reason when the order's current state is one the endpoint counts as cancelled (the
    state's name as the shop wrote it), else ""."""
    if str(order.get("current_state") or "") not in cancelled_states:
        return ""
    name = language_value(state.get("name")) if state else ""
    if name:
        return Text(gettext_noop("%(state)s in PrestaShop"), state=name)
    return Text(gettext_noop("cancelled in PrestaShop"))


def refund_lines(slip: dict, *, details: list[dict], prices_include_tax: bool) -> list[dict]:
    """A credit slip's lines → [{sku, quantity, amount, line_ref}], amounts as the invoice shows them."""
    skus = {str(detail.get("id")): line_sku(detail) for detail in details}
    lines = []
    for item in (slip.get("associations") or {}).get("order_slip_details") or []:
        detail_id = str(item.get("id_order_detail") or "")
        refunded = amount(item.get("amount_tax_incl") if prices_include_tax else item.get("amount_tax_excl"))
        lines.append({"sku": skus.get(detail_id, ""), "quantity": int(item.get("product_quantity") or 0), "amount": refunded,
                      "line_ref": detail_id})
    return [line for line in lines if line["quantity"] or line["amount"]]


def refund_amount(slip: dict) -> Decimal:
    """What the customer gets back: products and shipping, tax included."""
    return amount(slip.get("total_products_tax_incl")) + amount(slip.get("total_shipping_tax_incl"))


def customer_payload(customer: dict, addresses: list[dict]) -> dict:
    """Customer resource → the arguments of orders.services.customer_upsert_from_channel."""
    name = " ".join(p for p in [customer.get("firstname"), customer.get("lastname")] if p)
    mapped = [_address(address) for address in addresses]
    return {"external_id": str(customer["id"]), "email": customer.get("email") or "", "name": name or customer.get("email") or "",
            "phone": next((a["phone"] for a in mapped if a and a["phone"]), ""),
            "addresses": [{**a, "is_default": i == 0} for i, a in enumerate(m for m in mapped if m)]}


# --- products out ---------------------------------------------------------------------------------

def link_rewrite(text: str) -> str:
    """A friendly URL as the shop accepts it (isLinkRewrite: letters, digits, hyphens)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:128] or "product"


def catalog_name(text: str) -> str:
    """The shop refuses names with <>;=#{} (isCatalogName) and longer than 128 characters."""
    return re.sub(r"[<>;=#{}]", " ", text).strip()[:128]


def price_without_tax(price: Decimal, *, includes_tax: bool, tax_rate_percent: Decimal) -> Decimal:
    """The shop's price field is tax-exclusive, with 6 decimals."""
    if includes_tax and tax_rate_percent:
        price = price / (1 + tax_rate_percent / 100)
    return price.quantize(PRICE_DECIMALS, ROUND_HALF_UP)


def ean13(gtin: str) -> str:
    return gtin if gtin and len(gtin) == 13 else ""


def product_document(parent, variants, prices: dict[str, Decimal], *, languages: dict[str, str], includes_tax: bool,
                     tax_rate_percent: Decimal, category_id: int, tax_rules_group: int,
                     group_prices: dict[str, dict[str, Decimal]]) -> dict:
    """What the hub publishes for one parent product, as plain JSON (the job's payload).

    A product with variants becomes a product of type "combinations": its price is the lowest
    variant price and each combination carries the difference (an impact). `languages` maps the
    hub's language codes to the shop's language ids; `group_prices` maps a shop group id to
    {SKU: tax-exclusive price} (a fixed specific price for that customer group)."""

    def net(sku) -> Decimal:
        return price_without_tax(prices[sku], includes_tax=includes_tax, tax_rate_percent=tax_rate_percent)

    def in_languages(pick) -> dict[str, str]:
        return {language_id: pick(code) for code, language_id in languages.items()}

    def description(code):
        translated = next((t.description for t in parent.translations.all() if t.language == code and t.description), "")
        return translated or parent.description or ""

    has_variants = bool(parent.option_axes) and variants != [parent]
    base = min(net(v.sku) for v in variants)
    document = {
        "reference": parent.sku, "name": in_languages(lambda code: catalog_name(parent.name_in(code))),
        "link_rewrite": in_languages(lambda code: link_rewrite(parent.name_in(code))),
        "description": in_languages(description), "price": str(base), "ean13": ean13(parent.gtin),
        "weight": str((Decimal(parent.weight_g) / 1000).normalize()) if parent.weight_g else "0",
        "category": category_id, "tax_rules_group": tax_rules_group, "type": "combinations" if has_variants else "standard",
        "combinations": [], "group_prices": [],
    }
    if has_variants:
        axes = list(parent.option_axes)
        document["combinations"] = [
            {"reference": v.sku, "price": str(net(v.sku) - base), "ean13": ean13(v.gtin),
             "weight": str((Decimal(v.weight_g - (parent.weight_g or 0)) / 1000).normalize()) if v.weight_g else "0",
             "options": [[axis, str((v.option_values or {}).get(axis, "—"))] for axis in axes]}
            for v in variants]
    for group_id, by_sku in sorted(group_prices.items()):
        document["group_prices"].extend({"reference": v.sku, "group": str(group_id), "price": str(by_sku[v.sku])}
                                        for v in variants if v.sku in by_sku)
    return document
