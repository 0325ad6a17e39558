"""A PrestaShop shop on localhost, speaking the Webservice (1.7 / 8.x) as PrestaShop's documentation
(PrestaShop/docs 8.x, `webservice/`: getting started, cheat sheet, reference, resources, the
create-a-product tutorial) and its Postman examples (PrestaShop/webservice-postman-examples)
describe it, with the error codes and messages of the Webservice's request handler:

- Resources under `/api/`: the webservice key as the HTTP Basic user name with an empty password
  (or `?ws_key=`); a key is 32 characters; per-resource, per-method permissions (401 code 26, 405
  code 25); `GET /api/` lists what the key may use. Errors are
  `<prestashop><errors><error><code>…</code><message>…</message></error></errors></prestashop>`
  (or `{"errors": [{"code", "message"}]}` in JSON).
- XML by default (values in CDATA, `xlink:href` on links, multilingual fields as
  `<language id="N">`, `<associations>`); `output_format=JSON` (or `io_format`, or the
  `Output-Format` / `Io-Format` headers) for JSON output, which the shop can write but not read.
  In JSON an empty list is `[]`, not `{"orders": []}` (PrestaShop/PrestaShop#10172, #22760), and a
  multilingual field is a plain string when the shop has one language.
- Lists: `display=full|[f1,f2]` (ids only without it), `filter[field]=` `[a|b]`, `[a,b]`, `[x]`,
  `[x]%`, `%[x]`, `%[x]%`, `![x]`, `>[x]`, `<[x]`; `date_add`/`date_upd` only with `date=1` (else
  code 32); `sort=[field_ASC,…]`; `limit=[offset,]count`; `schema=blank|synopsis`.
- Writes in XML: POST (201, no id allowed: code 91), PUT (every required field, code 41; fields left
  out are emptied), PATCH (only what is sent), DELETE. Read-only fields (a product's `quantity`,
  dates) are refused with code 93, invalid values with code 85 (84 for multilingual fields)
  `Validation error: "Property Product->name is not valid"`, unknown ids with 404 (code 92 on
  writes, an empty 404 on reads), a body that is not XML with a 500, code 127.
- Products, combinations (price and weight impacts, attributes from product options and option
  values), `stock_availables` per product, combination and shop (GET/PUT/PATCH only; a product's
  own row is the sum of its combinations'), `specific_prices` (customer-group prices, used when
  shoppers of that group order), orders with `order_details` (per-line totals and taxes),
  `order_carriers`, `order_cart_rules`, `order_histories` (posting one changes the order's state,
  e-mails with `sendemail=1`), `order_slip` (credit slips), customers, addresses and the reference
  resources (order states with their `paid`/`shipped` flags, carriers, taxes, currencies,
  countries, languages, groups, categories, shops). No webhooks: PrestaShop core sends none.

Traps (`POST /_sandbox/traps`, or `set_traps()`): `xml_errors` (the next matching writes get a
validation error), `stale_orders` (orders are read as they were before their last change, like a
replica that lags), `touch_between_pages` (the merchant changes an order while a client pages
through a list), `json_empty_list` ("array" as PrestaShop answers, or "object"), plus the
harness's faults (`fail_5xx`, `slow_after`, `drop_after`, `malformed`…). An update can also be
made visible to lists only after a delay (`commit_after`), as a long back-office transaction
whose `date_upd` is older than its commit.

The control API (`/_sandbox/…`, not PrestaShop's) lets tests, the demo and traffic act as
shoppers and as the merchant: place orders (new or returning customers, group prices, cart rules,
paid or awaiting payment), change an order's state, issue credit slips, seed products.

Request bodies are parsed with defusedxml (the sandbox listens on a port like any shop); no hub
code, no Django."""

import argparse
import base64
import copy
import json
import re
import threading
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from connectors.testing.harness import Abort, Request, Response, Sandbox, control, raw_response, route

PS_VERSION = "8.1.7"
XLINK = "http://www.w3.org/1999/xlink"
CENT = Decimal("0.01")
SIX = Decimal("0.000001")
KEY_FORMAT = re.compile(r"^[A-Z0-9]{32}$")
METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD")


# --- validators (PrestaShop's Validate class, the ones these resources use) -------------------------

def _is_decimal(value: str, *, negative: bool = True) -> bool:
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return False
    return number.is_finite() and (negative or number >= 0)


VALIDATORS = {
    "isUnsignedId": lambda v: v.isdigit(), "isNullOrUnsignedId": lambda v: v.isdigit(), "isUnsignedInt": lambda v: v.isdigit(),
    "isInt": lambda v: bool(re.fullmatch(r"-?\d+", v)), "isBool": lambda v: v in ("0", "1"),
    "isPrice": lambda v: bool(re.fullmatch(r"\d{1,10}(\.\d{1,9})?", v)), "isNegativePrice": lambda v: bool(re.fullmatch(r"-?\d{1,10}(\.\d{1,9})?", v)),
    "isFloat": lambda v: _is_decimal(v), "isUnsignedFloat": lambda v: _is_decimal(v, negative=False),
    "isDate": lambda v: bool(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", v)),
    "isDateFormat": lambda v: bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?", v)),
    "isReference": lambda v: not re.search(r"[<>;={}]", v), "isGenericName": lambda v: not re.search(r"[<>={}]", v),
    "isCatalogName": lambda v: not re.search(r"[<>;=#{}]", v), "isLinkRewrite": lambda v: bool(re.fullmatch(r"[_a-zA-Z0-9\-]+", v)),
    "isEan13": lambda v: bool(re.fullmatch(r"[0-9]{0,13}", v)), "isTrackingNumber": lambda v: bool(re.fullmatch(r"[~:#,%&_=()\[\]. ?a-zA-Z0-9-]*", v)),
    "isCleanHtml": lambda v: not re.search(r"<\s*(script|iframe|form|object|embed)|\bon\w+\s*=|javascript:", v, re.I),
    "isColor": lambda v: bool(re.fullmatch(r"(#[0-9a-fA-F]{6}|\w*)", v)), "isString": lambda v: True, "isAnything": lambda v: True,
}


@dataclass(frozen=True)
class Field:
    validate: str = "isString"
    required: bool = False
    lang: bool = False
    writable: bool = True
    size: int | None = None
    link: str = ""
    values: tuple = ()


@dataclass
class Resource:
    name: str
    node: str
    model: str
    fields: dict
    associations: dict = field(default_factory=dict)  # name → (item node, item field names)
    methods: tuple = METHODS
    dated: bool = False


def F(validate="isString", **options) -> Field:  # noqa: N802 (reads like the vendor's field definitions)
    return Field(validate, **options)


RESOURCES = {r.name: r for r in [
    Resource("products", "product", "Product", {
        "id_manufacturer": F("isUnsignedId", link="manufacturers"), "id_supplier": F("isUnsignedId"),
        "id_category_default": F("isUnsignedId", link="categories"), "new": F("isBool"), "cache_default_attribute": F("isUnsignedId"),
        "id_default_image": F("isUnsignedId", writable=False), "id_default_combination": F("isUnsignedId", link="combinations"),
        "id_tax_rules_group": F("isUnsignedId"), "position_in_category": F("isUnsignedInt"),
        "manufacturer_name": F(writable=False), "quantity": F("isInt", writable=False), "type": F(), "id_shop_default": F("isUnsignedId"),
        "reference": F("isReference", size=64), "supplier_reference": F("isReference", size=64), "location": F(size=255),
        "width": F("isUnsignedFloat"), "height": F("isUnsignedFloat"), "depth": F("isUnsignedFloat"), "weight": F("isUnsignedFloat"),
        "quantity_discount": F("isBool"), "ean13": F("isEan13", size=13), "isbn": F(size=32), "upc": F(size=12), "mpn": F(size=40),
        "cache_is_pack": F("isBool"), "cache_has_attachments": F("isBool"), "is_virtual": F("isBool"), "state": F("isUnsignedInt"),
        "additional_delivery_times": F("isUnsignedId"), "on_sale": F("isBool"), "online_only": F("isBool"), "ecotax": F("isPrice"),
        "minimal_quantity": F("isUnsignedInt"), "low_stock_threshold": F("isInt"), "low_stock_alert": F("isBool"),
        "price": F("isPrice", required=True), "wholesale_price": F("isPrice"), "unity": F(), "unit_price_ratio": F("isFloat"),
        "additional_shipping_cost": F("isPrice"), "customizable": F("isUnsignedInt"), "text_fields": F("isUnsignedInt"),
        "uploadable_files": F("isUnsignedInt"), "active": F("isBool"), "redirect_type": F(), "id_type_redirected": F("isUnsignedId"),
        "available_for_order": F("isBool"), "available_date": F("isDateFormat"), "show_condition": F("isBool"),
        "condition": F(values=("", "new", "used", "refurbished")), "show_price": F("isBool"), "indexed": F("isBool"),
        "visibility": F(values=("", "both", "catalog", "search", "none")), "advanced_stock_management": F("isBool"),
        "date_add": F("isDate", writable=False), "date_upd": F("isDate", writable=False), "pack_stock_type": F("isUnsignedInt"),
        "product_type": F(values=("", "standard", "pack", "virtual", "combinations")),
        "meta_description": F("isGenericName", lang=True, size=512), "meta_keywords": F("isGenericName", lang=True, size=255),
        "meta_title": F("isGenericName", lang=True, size=255), "link_rewrite": F("isLinkRewrite", lang=True, required=True, size=128),
        "name": F("isCatalogName", lang=True, required=True, size=128), "description": F("isCleanHtml", lang=True),
        "description_short": F("isCleanHtml", lang=True), "available_now": F("isGenericName", lang=True, size=255),
        "available_later": F("isGenericName", lang=True, size=255)},
        {"categories": ("category", ("id",)), "combinations": ("combination", ("id",)),
         "stock_availables": ("stock_available", ("id", "id_product_attribute"))}, dated=True),
    Resource("combinations", "combination", "Combination", {
        "id_product": F("isUnsignedId", required=True, link="products"), "location": F(size=255), "ean13": F("isEan13", size=13),
        "isbn": F(size=32), "upc": F(size=12), "mpn": F(size=40), "quantity": F("isInt", writable=False),
        "reference": F("isReference", size=64), "supplier_reference": F("isReference", size=64), "wholesale_price": F("isPrice"),
        "price": F("isNegativePrice"), "ecotax": F("isPrice"), "weight": F("isFloat"), "unit_price_impact": F("isNegativePrice"),
        "minimal_quantity": F("isUnsignedInt", required=True), "low_stock_threshold": F("isInt"), "low_stock_alert": F("isBool"),
        "default_on": F("isBool"), "available_date": F("isDateFormat")},
        {"product_option_values": ("product_option_value", ("id",)), "images": ("image", ("id",))}),
    Resource("stock_availables", "stock_available", "StockAvailable", {
        "id_product": F("isUnsignedId", required=True, link="products"), "id_product_attribute": F("isUnsignedId", required=True),
        "id_shop": F("isUnsignedId", link="shops"), "id_shop_group": F("isUnsignedId"), "quantity": F("isInt", required=True),
        "depends_on_stock": F("isBool", required=True), "out_of_stock": F("isInt", required=True), "location": F(size=255)},
        methods=("GET", "PUT", "PATCH", "HEAD")),
    Resource("specific_prices", "specific_price", "SpecificPrice", {
        "id_shop_group": F("isUnsignedId"), "id_shop": F("isUnsignedId", required=True), "id_cart": F("isUnsignedId", required=True),
        "id_product": F("isUnsignedId", required=True, link="products"), "id_product_attribute": F("isUnsignedId"),
        "id_currency": F("isUnsignedId", required=True), "id_country": F("isUnsignedId", required=True),
        "id_group": F("isUnsignedId", required=True, link="groups"), "id_customer": F("isUnsignedId", required=True),
        "id_specific_price_rule": F("isUnsignedId"), "price": F("isNegativePrice", required=True),
        "from_quantity": F("isUnsignedInt", required=True), "reduction": F("isPrice", required=True),
        "reduction_tax": F("isBool", required=True), "reduction_type": F(required=True, values=("amount", "percentage")),
        "from": F("isDateFormat", required=True), "to": F("isDateFormat", required=True)}),
    Resource("product_options", "product_option", "AttributeGroup", {
        "is_color_group": F("isBool"), "group_type": F(required=True, values=("select", "radio", "color")), "position": F("isInt"),
        "name": F("isGenericName", lang=True, required=True, size=128), "public_name": F("isGenericName", lang=True, required=True, size=64)},
        {"product_option_values": ("product_option_value", ("id",))}),
    Resource("product_option_values", "product_option_value", "Attribute", {
        "id_attribute_group": F("isUnsignedId", required=True, link="product_options"), "color": F("isColor"), "position": F("isInt"),
        "name": F("isGenericName", lang=True, required=True, size=128)}),
    Resource("categories", "category", "Category", {
        "id_parent": F("isUnsignedInt"), "active": F("isBool", required=True), "name": F("isCatalogName", lang=True, required=True, size=128),
        "link_rewrite": F("isLinkRewrite", lang=True, required=True, size=128)}, methods=("GET", "HEAD")),
    Resource("languages", "language", "Language", {"name": F(required=True), "iso_code": F(required=True), "active": F("isBool")},
             methods=("GET", "HEAD")),
    Resource("shops", "shop", "Shop", {"id_shop_group": F("isUnsignedId"), "name": F(required=True), "active": F("isBool")},
             methods=("GET", "HEAD")),
    Resource("groups", "group", "Group", {"reduction": F("isFloat"), "price_display_method": F("isInt"),
                                          "name": F("isGenericName", lang=True, required=True)}, methods=("GET", "HEAD")),
    Resource("currencies", "currency", "Currency", {"iso_code": F(required=True), "conversion_rate": F("isFloat"), "active": F("isBool")},
             methods=("GET", "HEAD")),
    Resource("countries", "country", "Country", {"iso_code": F(required=True), "active": F("isBool"), "name": F(lang=True)},
             methods=("GET", "HEAD")),
    Resource("carriers", "carrier", "Carrier", {"name": F(required=True), "active": F("isBool"), "is_free": F("isBool"), "url": F(),
                                                "id_tax_rules_group": F("isUnsignedId"), "delay": F(lang=True)}, methods=("GET", "HEAD")),
    Resource("taxes", "tax", "Tax", {"rate": F("isFloat", required=True), "active": F("isBool"), "name": F(lang=True)},
             methods=("GET", "HEAD")),
    Resource("order_states", "order_state", "OrderState", {
        "unremovable": F("isBool"), "delivery": F("isBool"), "hidden": F("isBool"), "send_email": F("isBool"), "module_name": F(),
        "invoice": F("isBool"), "color": F(), "logable": F("isBool"), "shipped": F("isBool"), "paid": F("isBool"),
        "pdf_delivery": F("isBool"), "pdf_invoice": F("isBool"), "deleted": F("isBool"), "name": F(lang=True, required=True),
        "template": F(lang=True)}, methods=("GET", "HEAD")),
    Resource("customers", "customer", "Customer", {
        "id_default_group": F("isUnsignedId", link="groups"), "id_lang": F("isUnsignedId"), "lastname": F(required=True),
        "firstname": F(required=True), "email": F(required=True), "company": F(), "is_guest": F("isBool"), "active": F("isBool"),
        "date_add": F("isDate", writable=False), "date_upd": F("isDate", writable=False)},
        {"groups": ("group", ("id",))}, methods=("GET", "HEAD"), dated=True),
    Resource("addresses", "address", "Address", {
        "id_customer": F("isUnsignedId", link="customers"), "id_country": F("isUnsignedId", required=True, link="countries"),
        "alias": F(required=True), "company": F(), "lastname": F(required=True), "firstname": F(required=True),
        "address1": F(required=True), "address2": F(), "postcode": F(), "city": F(required=True), "phone": F(),
        "phone_mobile": F(), "deleted": F("isBool"), "date_add": F("isDate", writable=False), "date_upd": F("isDate", writable=False)},
        methods=("GET", "HEAD"), dated=True),
    Resource("orders", "order", "Order", {
        "id_address_delivery": F("isUnsignedId", required=True, link="addresses"), "id_address_invoice": F("isUnsignedId", required=True, link="addresses"),
        "id_cart": F("isUnsignedId", required=True), "id_currency": F("isUnsignedId", required=True, link="currencies"),
        "id_lang": F("isUnsignedId", required=True, link="languages"), "id_customer": F("isUnsignedId", required=True, link="customers"),
        "id_carrier": F("isUnsignedId", required=True, link="carriers"), "current_state": F("isUnsignedId", link="order_states"),
        "module": F(required=True), "invoice_number": F(), "invoice_date": F(), "delivery_number": F(), "delivery_date": F(),
        "valid": F("isBool"), "date_add": F("isDate", writable=False), "date_upd": F("isDate", writable=False),
        "shipping_number": F("isTrackingNumber"), "note": F("isCleanHtml"), "id_shop_group": F("isUnsignedId"), "id_shop": F("isUnsignedId"),
        "secure_key": F(), "payment": F(required=True), "recyclable": F("isBool"), "gift": F("isBool"), "gift_message": F(),
        "mobile_theme": F("isBool"), "total_discounts": F("isPrice"), "total_discounts_tax_incl": F("isPrice"),
        "total_discounts_tax_excl": F("isPrice"), "total_paid": F("isPrice", required=True), "total_paid_tax_incl": F("isPrice"),
        "total_paid_tax_excl": F("isPrice"), "total_paid_real": F("isPrice", required=True), "total_products": F("isPrice", required=True),
        "total_products_wt": F("isPrice", required=True), "total_shipping": F("isPrice"), "total_shipping_tax_incl": F("isPrice"),
        "total_shipping_tax_excl": F("isPrice"), "carrier_tax_rate": F("isFloat"), "total_wrapping": F("isPrice"),
        "total_wrapping_tax_incl": F("isPrice"), "total_wrapping_tax_excl": F("isPrice"), "round_mode": F("isUnsignedId"),
        "round_type": F("isUnsignedId"), "conversion_rate": F("isFloat", required=True), "reference": F()},
        {"order_rows": ("order_row", ("id", "product_id", "product_attribute_id", "product_quantity", "product_name",
                                      "product_reference", "product_ean13", "product_isbn", "product_upc", "product_price",
                                      "id_customization", "unit_price_tax_incl", "unit_price_tax_excl"))},
        methods=("GET", "HEAD"), dated=True),
    Resource("order_details", "order_detail", "OrderDetail", {
        "id_order": F("isUnsignedId", required=True, link="orders"), "product_id": F("isUnsignedId", link="products"),
        "product_attribute_id": F("isUnsignedId"), "product_quantity_reinjected": F("isUnsignedInt"), "id_warehouse": F("isUnsignedId", required=True),
        "id_shop": F("isUnsignedId", required=True), "product_name": F(required=True), "product_quantity": F("isInt", required=True),
        "product_quantity_refunded": F("isUnsignedInt"), "product_price": F("isPrice", required=True), "reduction_percent": F("isFloat"),
        "reduction_amount": F("isPrice"), "product_ean13": F("isEan13"), "product_reference": F("isReference"), "product_weight": F("isFloat"),
        "tax_computation_method": F("isUnsignedId"), "id_tax_rules_group": F("isInt"), "unit_price_tax_incl": F("isPrice"),
        "unit_price_tax_excl": F("isPrice"), "total_price_tax_incl": F("isPrice"), "total_price_tax_excl": F("isPrice"),
        "original_product_price": F("isPrice"), "total_refunded_tax_excl": F("isPrice"), "total_refunded_tax_incl": F("isPrice")},
        {"taxes": ("tax", ("id",))}, methods=("GET", "HEAD")),
    Resource("order_histories", "order_history", "OrderHistory", {
        "id_employee": F("isUnsignedId"), "id_order_state": F("isUnsignedId", required=True, link="order_states"),
        "id_order": F("isUnsignedId", required=True, link="orders"), "date_add": F("isDate", writable=False)},
        methods=("GET", "POST", "HEAD"), dated=True),
    Resource("order_carriers", "order_carrier", "OrderCarrier", {
        "id_order": F("isUnsignedId", required=True, link="orders"), "id_carrier": F("isUnsignedId", required=True, link="carriers"),
        "id_order_invoice": F("isUnsignedId"), "weight": F("isFloat"), "shipping_cost_tax_excl": F("isFloat"),
        "shipping_cost_tax_incl": F("isFloat"), "tracking_number": F("isTrackingNumber", size=64), "date_add": F("isDate", writable=False)},
        methods=("GET", "POST", "PUT", "PATCH", "HEAD"), dated=True),
    Resource("order_cart_rules", "order_cart_rule", "OrderCartRule", {
        "id_order": F("isUnsignedId", required=True, link="orders"), "id_cart_rule": F("isUnsignedId", required=True),
        "id_order_invoice": F("isUnsignedId"), "name": F(required=True), "value": F("isFloat", required=True),
        "value_tax_excl": F("isFloat", required=True), "free_shipping": F("isBool"), "deleted": F("isBool")}, methods=("GET", "HEAD")),
    Resource("order_slip", "order_slip", "OrderSlip", {
        "id_customer": F("isUnsignedId", required=True, link="customers"), "id_order": F("isUnsignedId", required=True, link="orders"),
        "conversion_rate": F("isFloat", required=True), "total_products_tax_excl": F("isFloat", required=True),
        "total_products_tax_incl": F("isFloat", required=True), "total_shipping_tax_excl": F("isFloat", required=True),
        "total_shipping_tax_incl": F("isFloat", required=True), "amount": F("isFloat"), "shipping_cost": F(),
        "shipping_cost_amount": F("isFloat"), "partial": F(), "date_add": F("isDate", writable=False), "date_upd": F("isDate", writable=False),
        "order_slip_type": F("isInt")},
        {"order_slip_details": ("order_slip_detail", ("id", "id_order_detail", "product_quantity", "amount_tax_excl", "amount_tax_incl"))},
        methods=("GET", "HEAD"), dated=True),
]}
# The node names of list items; the collection node is the resource name.
ORDER_STATES = [  # id, English name, French name, flags (PrestaShop's defaults on a new shop)
    (1, "Awaiting check payment", "En attente du paiement par chèque", {}),
    (2, "Payment accepted", "Paiement accepté", {"paid": "1", "logable": "1", "invoice": "1"}),
    (3, "Processing in progress", "En cours de préparation", {"paid": "1", "logable": "1", "invoice": "1"}),
    (4, "Shipped", "Expédié", {"paid": "1", "logable": "1", "invoice": "1", "shipped": "1", "delivery": "1"}),
    (5, "Delivered", "Livré", {"paid": "1", "logable": "1", "invoice": "1", "shipped": "1", "delivery": "1"}),
    (6, "Canceled", "Annulé", {}),
    (7, "Refunded", "Remboursé", {"paid": "1", "invoice": "1"}),
    (8, "Payment error", "Erreur de paiement", {}),
    (9, "On backorder (paid)", "En attente de réapprovisionnement (payé)", {"paid": "1", "logable": "1", "invoice": "1"}),
    (10, "Awaiting bank wire payment", "En attente du paiement par virement bancaire", {}),
    (11, "Remote payment accepted", "Paiement à distance accepté", {"paid": "1", "logable": "1", "invoice": "1"}),
    (12, "On backorder (not paid)", "En attente de réapprovisionnement (non payé)", {}),
    (13, "Awaiting Cash On Delivery validation", "En attente de validation du paiement à la livraison", {}),
]
PAID, AWAITING_WIRE, CANCELED, SHIPPED = 2, 10, 6, 4
FIRST_NAMES = ["Camille", "Léa", "Hugo", "Louis", "Chloé", "Manon", "Jules", "Inès", "Lucas", "Emma"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"]
CITIES = [("Lyon", "69003"), ("Paris", "75011"), ("Marseille", "13006"), ("Lille", "59000"), ("Nantes", "44000")]
TRAPS = {"xml_errors", "stale_orders", "touch_between_pages", "json_empty_list"}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def six(value: Decimal) -> str:
    return str(value.quantize(SIX, ROUND_HALF_UP))


def _error(status: int, code: int, message: str, *, as_json: bool = False, headers=None) -> Abort:
    return Abort(_error_response(status, [(code, message)], as_json=as_json, headers=headers))


def _error_response(status: int, errors, *, as_json: bool = False, headers=None) -> Response:
    if as_json:
        body = json.dumps({"errors": [{"code": code, "message": message} for code, message in errors]})
        return raw_response(body, status, content_type="application/json", headers=headers)
    inner = "".join(f"<error><code><![CDATA[{code}]]></code><message><![CDATA[{message}]]></message></error>" for code, message in errors)
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="{XLINK}">\n<errors>\n{inner}\n</errors>\n</prestashop>\n'
    return raw_response(body, status, content_type="text/xml;charset=utf-8", headers=headers)


def _cdata(value) -> str:
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


class PrestaShopSandbox(Sandbox):
    name = "prestashop"

    def __init__(self, *, webservice_key: str, shop_name: str = "Boutique Hub Démo", languages: tuple = (("1", "fr"), ("2", "en")),
                 timezone_name: str = "Europe/Paris", shipping_cost: str = "5.00", tax_rate: str = "20.000",
                 slip_touches_order: bool = False, **options):
        """`languages`: (id, iso code) of the shop's languages, the first being the default one.
        `slip_touches_order`: whether issuing a credit slip updates the order's `date_upd`."""
        if not KEY_FORMAT.match(webservice_key):
            raise ValueError("a webservice key is 32 capital letters and digits")
        self.shop_name, self.languages = shop_name, tuple(languages)
        self.tz = ZoneInfo(timezone_name)
        self.initial_keys = {webservice_key: None}
        self.shipping_cost, self.tax_rate, self.slip_touches_order = Decimal(shipping_cost), tax_rate, slip_touches_order
        self.traps: dict = {}
        self._traps_lock = threading.Lock()
        super().__init__(**options)

    # --- state ---------------------------------------------------------------------------------
    def reset_state(self) -> None:
        self.keys = dict(self.initial_keys)
        self.tables: dict[str, dict[int, dict]] = {name: {} for name in RESOURCES}
        self.revisions: dict[int, list[dict]] = {}  # order id → its previous versions
        self.visible_after: dict[int, float] = {}   # order id → when lists may see its last change
        self.emails: list[dict] = []
        with self._traps_lock:
            self.traps = {"json_empty_list": "array"}
        for kind, first in (("product", 1), ("combination", 1), ("stock", 1), ("specific_price", 1), ("option", 1), ("option_value", 1),
                            ("order", 1), ("order_detail", 1), ("customer", 1), ("address", 1), ("history", 1), ("order_carrier", 1),
                            ("cart_rule", 1), ("slip", 1), ("slip_detail", 1)):
            self.ids.begin(kind, first)
        now = self._now()
        self._seed_rows("languages", [{"id": int(i), "name": iso, "iso_code": iso, "active": "1"} for i, iso in self.languages])
        self._seed_rows("shops", [{"id": 1, "id_shop_group": "1", "name": self.shop_name, "active": "1"}])
        self._seed_rows("categories", [{"id": 1, "id_parent": "0", "active": "1", "name": self._lang("Racine"), "link_rewrite": self._lang("racine")},
                                  {"id": 2, "id_parent": "1", "active": "1", "name": self._lang("Accueil"), "link_rewrite": self._lang("accueil")}])
        self._seed_rows("groups", [{"id": i, "reduction": "0", "price_display_method": "0", "name": self._lang(name)}
                              for i, name in ((1, "Visiteur"), (2, "Invité"), (3, "Client"), (4, "Professionnels"))])
        self._seed_rows("currencies", [{"id": 1, "iso_code": "EUR", "conversion_rate": "1.000000", "active": "1"}])
        self._seed_rows("countries", [{"id": i, "iso_code": iso, "active": "1", "name": self._lang(name)}
                                 for i, iso, name in ((8, "FR", "France"), (3, "BE", "Belgique"), (1, "DE", "Allemagne"), (19, "CH", "Suisse"))])
        self._seed_rows("carriers", [{"id": 1, "name": "Click and collect", "active": "1", "is_free": "1", "url": "", "id_tax_rules_group": "0",
                                 "delay": self._lang("Retrait en magasin")},
                                {"id": 2, "name": "Colissimo", "active": "1", "is_free": "0", "url": "https://www.laposte.fr/outils/suivre-vos-envois?code=@",
                                 "id_tax_rules_group": "1", "delay": self._lang("48 h")}])
        self._seed_rows("taxes", [{"id": 1, "rate": self.tax_rate, "active": "1", "name": self._lang(f"TVA FR {Decimal(self.tax_rate).normalize()}%")}])
        self._seed_rows("order_states", [{"id": i, "name": {lang: (fr if iso == "fr" else en) for lang, iso in self.languages},
                                     **{flag: flags.get(flag, "0") for flag in ("unremovable", "delivery", "hidden", "send_email", "invoice",
                                                                               "logable", "shipped", "paid", "pdf_delivery", "pdf_invoice", "deleted")},
                                     "module_name": "", "color": "#4169E1", "template": self._lang("")}
                                    for i, en, fr, flags in ORDER_STATES])
        self.created_at = now

    def _seed_rows(self, resource: str, rows: list[dict]) -> None:
        for row in rows:
            self.tables[resource][int(row["id"])] = {"id": str(row["id"]), **{k: v for k, v in row.items() if k != "id"}}

    def _lang(self, text: str) -> dict:
        return {lang: text for lang, _ in self.languages}

    def _now(self):
        return self.clock.now().replace(microsecond=0)

    def _stamp(self) -> str:
        return self._now().astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S")

    def set_traps(self, **traps) -> dict:
        unknown = set(traps) - TRAPS
        if unknown:
            raise ValueError(f"unknown trap(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(TRAPS))})")
        if "json_empty_list" in traps and traps["json_empty_list"] not in ("array", "object"):
            raise ValueError("json_empty_list is 'array' (as PrestaShop answers) or 'object'")
        if "xml_errors" in traps and traps["xml_errors"] is not None:
            spec = traps["xml_errors"]
            if not isinstance(spec, dict) or not isinstance(spec.get("requests", 1), int):
                raise ValueError("xml_errors is {requests, match, code, message}")
        with self._traps_lock:
            for name, value in traps.items():
                if value in (None, False, 0):
                    self.traps.pop(name, None)
                else:
                    self.traps[name] = copy.deepcopy(value)
            return copy.deepcopy(self.traps)

    # --- harness hooks ---------------------------------------------------------------------------
    def normalize_path(self, path: str) -> str:
        return path.rstrip("/") or "/"

    @staticmethod
    def _wants_json(request: Request) -> bool:
        chosen = request.arg("output_format") or request.arg("io_format") or request.header("Output-Format") or request.header("Io-Format") or ""
        return chosen.upper() == "JSON"

    def authenticate(self, request: Request) -> Response | None:
        key = request.arg("ws_key")
        header = request.header("Authorization") or ""
        if header.lower().startswith("basic "):
            try:
                key = base64.b64decode(header[6:].strip()).decode().partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                key = ""
        challenge = {"WWW-Authenticate": 'Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the login. No password required."'}
        as_json = self._wants_json(request)
        if key is None:
            return _error_response(401, [(16, "Please enter the authentication key as the login. No password required")], as_json=as_json, headers=challenge)
        key = key.strip()
        if not key:
            return _error_response(401, [(17, "Authentication key is empty")], as_json=as_json, headers=challenge)
        if len(key) != 32:
            return _error_response(401, [(18, "Invalid authentication key format")], as_json=as_json, headers=challenge)
        if key not in self.keys:
            return _error_response(401, [(20, "Authentification key is not active")], as_json=as_json, headers=challenge)
        request.context["permissions"] = self.keys[key]
        request.reply_headers.append(("PSWS-Version", PS_VERSION))
        return None

    def server_error_response(self, request: Request, status: int) -> Response:
        if status == 500:
            return _error_response(500, [(3, "[PHP Warning #2] mysqli::query(): MySQL server has gone away (classes/db/DbMySQLi.php, line 154)")],
                                   as_json=self._wants_json(request))
        reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(status, "Server Error")
        return raw_response(f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>", status,
                            content_type="text/html")

    def no_route_response(self, request: Request, allowed: list[str]) -> Response:
        return raw_response("<!DOCTYPE html><html><body><h1>Page not found</h1></body></html>", 404, content_type="text/html; charset=utf-8")

    def state(self) -> dict:
        return {"traps": copy.deepcopy(self.traps), "products": len(self.tables["products"]), "combinations": len(self.tables["combinations"]),
                "orders": len(self.tables["orders"]), "emails": len(self.emails),
                "references": sorted(self._sellable()), "open_orders": sorted(int(o["id"]) for o in self.tables["orders"].values()
                                                                           if o["current_state"] in ("2", "3", "10"))}

    # --- rendering -----------------------------------------------------------------------------
    def _href(self, resource: str, item_id) -> str:
        return f"{self.url}/api/{resource}/{item_id}"

    def _xml_value(self, name: str, spec: Field | None, value) -> str:
        if spec is not None and spec.lang:
            values = value if isinstance(value, dict) else {lang: value or "" for lang, _ in self.languages}
            inner = "".join(f'<language id="{lang}" xlink:href={quoteattr(self._href("languages", lang))}>{_cdata(values.get(lang, ""))}</language>'
                            for lang, _ in self.languages)
            return f"<{name}>{inner}</{name}>"
        link = f" xlink:href={quoteattr(self._href(spec.link, value))}" if spec is not None and spec.link and value not in ("", "0", None) else ""
        not_filterable = ' notFilterable="true"' if name in ("shipping_number",) else ""
        return f"<{name}{link}{not_filterable}>{_cdata(value if value is not None else '')}</{name}>"

    def _xml_record(self, resource: Resource, row: dict, fields: set | None = None) -> str:
        parts = [f"<id>{_cdata(row['id'])}</id>"]
        for name, spec in resource.fields.items():
            if fields is None or name in fields:
                parts.append(self._xml_value(name, spec, row.get(name, "")))
        if resource.associations and (fields is None or "associations" in fields):
            inner = []
            for association, (item, item_fields) in resource.associations.items():
                items = row.get("associations", {}).get(association, [])
                rendered = "".join(f"<{item}>" + "".join(f"<{f}>{_cdata(entry.get(f, ''))}</{f}>" for f in item_fields) + f"</{item}>"
                                   for entry in items)
                inner.append(f'<{association} nodeType="{item}" api="{association}">{rendered}</{association}>')
            parts.append(f"<associations>{''.join(inner)}</associations>")
        return f"<{resource.node}>{''.join(parts)}</{resource.node}>"

    def _json_value(self, spec: Field | None, value):
        if spec is not None and spec.lang:
            values = value if isinstance(value, dict) else {lang: value or "" for lang, _ in self.languages}
            if len(self.languages) == 1:
                return values.get(self.languages[0][0], "")
            return [{"id": lang, "value": values.get(lang, "")} for lang, _ in self.languages]
        return value if value is not None else ""

    def _json_record(self, resource: Resource, row: dict, fields: set | None = None) -> dict:
        record = {"id": int(row["id"])}
        for name, spec in resource.fields.items():
            if fields is None or name in fields:
                record[name] = self._json_value(spec, row.get(name, ""))
        if resource.associations and (fields is None or "associations" in fields):
            record["associations"] = {association: [{f: entry.get(f, "") for f in item_fields} for entry in row.get("associations", {}).get(association, [])]
                                      for association, (item, item_fields) in resource.associations.items()
                                      if row.get("associations", {}).get(association)}
        return record

    def _document(self, request: Request, body_xml: str, body_json, status: int = 200) -> Response:
        if self._wants_json(request):
            return raw_response(json.dumps(body_json, ensure_ascii=False), status, content_type="application/json")
        return raw_response(f'<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="{XLINK}">\n{body_xml}\n</prestashop>\n', status,
                            content_type="text/xml;charset=utf-8")

    def _one(self, request: Request, resource: Resource, row: dict, status: int = 200) -> Response:
        return self._document(request, self._xml_record(resource, row), {resource.node: self._json_record(resource, row)}, status)

    # --- reading -------------------------------------------------------------------------------
    def _resource(self, request: Request, name: str) -> Resource:
        as_json = self._wants_json(request)
        resource = RESOURCES.get(name)
        if resource is None:
            names = sorted(RESOURCES)
            closest = min(names, key=lambda n: _distance(n, name))
            raise _error(400, 27, f'Resource of type "{name}" does not exists. Did you mean: "{closest}"? The full list is: "'
                         + '", "'.join(names) + '"', as_json=as_json)
        permissions = request.context.get("permissions")
        if permissions is not None:
            if name not in permissions:
                raise _error(401, 26, f'Resource of type "{name}" is not allowed with this authentication key', as_json=as_json)
            if request.method not in permissions[name]:
                raise _error(405, 25, f"Method {request.method} is not allowed for the resource {name} with this authentication key", as_json=as_json)
        if request.method not in resource.methods:
            raise _error(405, 101, f"Method {request.method} is not allowed for the resource {name}", as_json=as_json)
        return resource

    def _rows(self, resource: Resource) -> list[dict]:
        rows = list(self.tables[resource.name].values())
        if resource.name == "orders":
            rows = [self._order_as_read(row) for row in rows]
        return rows

    def _order_as_read(self, row: dict) -> dict:
        if self.traps.get("stale_orders") and self.revisions.get(int(row["id"])):
            return self.revisions[int(row["id"])][-1]
        return row

    def _filters(self, request: Request, resource: Resource) -> list[tuple[str, str]]:
        dated = request.arg("date") not in (None, "", "0")
        available = {"id", *resource.fields} - ({"date_add", "date_upd"} if not dated else set())
        available |= {"date_add", "date_upd"} if dated else set()
        filters = []
        for key in request.query:
            match = re.fullmatch(r"filter\[(\w+)\]", key)
            if not match:
                continue
            name = match.group(1)
            if name not in available or resource.fields.get(name, Field()).lang:
                options = sorted(available)
                closest = min(options, key=lambda n: _distance(n, name))
                raise _error(400, 32, f'This filter does not exist. Did you mean: "{closest}"? The full list is: "' + '", "'.join(options) + '"',
                             as_json=self._wants_json(request))
            value = request.arg(key)
            if value == "":
                raise _error(400, 33, f'The filter "{name}" is malformed.', as_json=self._wants_json(request))
            filters.append((name, value))
        return filters

    @staticmethod
    def _matches(value: str, condition: str) -> bool:
        value = "" if value is None else str(value)

        def compare(a: str, b: str) -> int:
            if _is_decimal(a) and _is_decimal(b):
                return (Decimal(a) > Decimal(b)) - (Decimal(a) < Decimal(b))
            return (a > b) - (a < b)

        if condition.startswith("!["):
            return value.lower() not in [v.lower() for v in condition[2:].rstrip("]").split("|")]
        if condition.startswith(">[") or condition.startswith("<["):
            other = condition[2:].rstrip("]")
            return compare(value, other) > 0 if condition[0] == ">" else compare(value, other) < 0
        begins, ends = condition.startswith("%["), condition.endswith("]%")
        inner = condition[1 if begins else 0:]
        inner = inner[:-1] if ends else inner
        if inner.startswith("[") and inner.endswith("]"):
            inner = inner[1:-1]
            if begins or ends:
                text = inner.lower()
                return (text in value.lower()) if begins and ends else value.lower().endswith(text) if begins else value.lower().startswith(text)
            if "|" in inner:
                return value.lower() in [v.lower() for v in inner.split("|")]
            if "," in inner:
                low, high = inner.split(",", 1)
                return compare(value, low) >= 0 and compare(value, high) <= 0
            return value.lower() == inner.lower()
        return value.lower() == condition.lower()

    def _sorted(self, request: Request, resource: Resource, rows: list[dict]) -> list[dict]:
        sort = request.arg("sort")
        if not sort:
            return sorted(rows, key=lambda r: int(r["id"]))
        match = re.fullmatch(r"\[(.*)\]", sort)
        keys = (match.group(1) if match else sort).split(",")
        dated = request.arg("date") not in (None, "", "0")
        for key in reversed(keys):
            name, _, direction = key.rpartition("_")
            if not name or direction.upper() not in ("ASC", "DESC"):
                raise _error(400, 37, 'The "sort" value has to be formed as this example: "field_ASC" or \'[field_1_DESC,field_2_ASC,field_3_ASC,...]\' '
                             '("field" has to be an available field)', as_json=self._wants_json(request))
            if name != "id" and (name not in resource.fields or (name in ("date_add", "date_upd") and not dated)):
                raise _error(400, 38, "Unable to filter by this field. However, these are available: " + ", ".join(resource.fields),
                             as_json=self._wants_json(request))
            numeric = name == "id" or resource.fields[name].validate in ("isUnsignedId", "isInt", "isPrice", "isFloat", "isUnsignedInt")
            rows = sorted(rows, key=lambda r: Decimal(str(r.get(name) or 0)) if numeric else str(r.get(name) or ""),
                          reverse=direction.upper() == "DESC")
        return rows

    def _display(self, request: Request, resource: Resource) -> set | None | str:
        display = request.arg("display")
        if display is None:
            return "ids"
        if display == "full":
            return None
        match = re.fullmatch(r"\[(.*)\]", display)
        if not match:
            raise _error(400, 36, "The 'display' syntax is wrong. You can set 'full' or '[field_1,field_2,field_3,...]'. These are available: "
                         + ", ".join(resource.fields), as_json=self._wants_json(request))
        wanted = {part.strip() for part in match.group(1).split(",") if part.strip()}
        unknown = wanted - {"id", "associations", *resource.fields}
        if unknown:
            raise _error(400, 35, f'Unable to display this field "{sorted(unknown)[0]}". However, these are available: ' + ", ".join(resource.fields),
                         as_json=self._wants_json(request))
        return wanted

    def _blank(self, request: Request, resource: Resource) -> Response:
        row = {"id": "", **{name: ({lang: "" for lang, _ in self.languages} if spec.lang else "") for name, spec in resource.fields.items()},
               "associations": {}}
        return self._one(request, resource, row)

    @route("GET", "/api", name="GET /api/")
    @route("HEAD", "/api", name="HEAD /api/")
    def api_index(self, request):
        permissions = request.context.get("permissions")
        parts, entries = [], {}
        for name in sorted(RESOURCES):
            allowed = RESOURCES[name].methods if permissions is None else [m for m in RESOURCES[name].methods if m in permissions.get(name, ())]
            if not allowed:
                continue
            flags = " ".join(f'{m.lower()}="true"' for m in allowed)
            parts.append(f'<{name} xlink:href={quoteattr(self.url + "/api/" + name)} {flags}><description xlink:href={quoteattr(self.url + "/api/" + name)} '
                         f'{flags}>The {escape(name.replace("_", " "))}</description></{name}>')
            entries[name] = {"description": f"The {name.replace('_', ' ')}", **{m.lower(): True for m in allowed}}
        return self._document(request, f'<api shopName={quoteattr(self.shop_name)}>{"".join(parts)}</api>', {"api": entries})

    @route("GET", "/api/<name>")
    @route("HEAD", "/api/<name>")
    def list_resources(self, request, name):
        resource = self._resource(request, name)
        if request.arg("schema") is not None:
            if request.arg("schema") not in ("blank", "synopsis"):
                raise _error(400, 28, "Please select a schema of type 'synopsis' to get the whole schema informations (which fields are required, "
                             "which kind of content...) or 'blank' to get an empty schema to fill before using POST request",
                             as_json=self._wants_json(request))
            return self._blank(request, resource)
        filters = self._filters(request, resource)
        display = self._display(request, resource)
        rows = self._rows(resource)
        if resource.name == "orders":
            now = self.clock.monotonic()
            rows = [row for row in rows if self.visible_after.get(int(row["id"]), 0) <= now]
        rows = [row for row in rows if all(self._matches(row.get(f) if f != "id" else row["id"], c) for f, c in filters)]
        rows = self._sorted(request, resource, rows)
        limit = request.arg("limit")
        if limit:
            parts = limit.split(",")
            if len(parts) > 2 or not all(p.strip().lstrip("-").isdigit() for p in parts):
                raise _error(400, 39, 'The "limit" value has to be formed as this example: "5,25" or "10"', as_json=self._wants_json(request))
            offset, count = (0, int(parts[0])) if len(parts) == 1 else (int(parts[0]), int(parts[1]))
            rows = rows[offset:offset + count]
            if resource.name == "orders" and rows and self._take_trap("touch_between_pages"):
                self._touch_order(int(rows[0]["id"]))
        if display == "ids":
            xml = "".join(f'<{resource.node} id="{row["id"]}" xlink:href={quoteattr(self._href(resource.name, row["id"]))}/>' for row in rows)
            data = [{"id": int(row["id"])} for row in rows]
        else:
            xml = "".join(self._xml_record(resource, row, display) for row in rows)
            data = [self._json_record(resource, row, display) for row in rows]
        if not data and self._wants_json(request) and self.traps.get("json_empty_list", "array") == "array":
            return raw_response("[]", 200, content_type="application/json")
        return self._document(request, f"<{resource.name}>{xml}</{resource.name}>", {resource.name: data})

    @route("GET", "/api/<name>/<int:item_id>")
    @route("HEAD", "/api/<name>/<int:item_id>")
    def get_resource(self, request, name, item_id):
        resource = self._resource(request, name)
        row = self.tables[resource.name].get(item_id)
        if row is None:
            return Response(404, b"", [("Content-Type", "text/xml;charset=utf-8")])
        if resource.name == "orders":
            row = self._order_as_read(row)
        return self._one(request, resource, row)

    # --- writing -------------------------------------------------------------------------------
    def _take_trap(self, name: str, request: Request | None = None):
        with self._traps_lock:
            spec = self.traps.get(name)
            if not spec:
                return None
            if isinstance(spec, dict):
                if spec.get("match") and (request is None or not re.search(spec["match"], request.describe())):
                    return None
                left = spec.get("requests")
                if left is not None:
                    spec["requests"] = left - 1
                    if spec["requests"] <= 0:
                        self.traps.pop(name, None)
                return dict(spec)
            if isinstance(spec, int) and not isinstance(spec, bool):
                if spec <= 1:
                    self.traps.pop(name, None)
                else:
                    self.traps[name] = spec - 1
            return spec

    def _parse_body(self, request: Request, resource: Resource) -> list[dict]:
        as_json = self._wants_json(request)
        text = request.body.decode("utf-8", "replace")
        try:
            root = fromstring(request.body)
        except (ParseError, DefusedXmlException) as error:
            raise _error(500, 127, f"XML error : {error}\nXML length : {len(request.body)}\nOriginal XML : {text}", as_json=as_json) from None
        entities = []
        for element in root:
            entity = {"_present": set()}
            for child in element:
                name = child.tag
                entity["_present"].add(name)
                if name == "associations":
                    entity["associations"] = {assoc.tag: [{f.tag: (f.text or "").strip() for f in item} for item in assoc] for assoc in child}
                elif any(grandchild.tag == "language" for grandchild in child):
                    entity[name] = {lang.get("id", ""): "".join(lang.itertext()) for lang in child if lang.tag == "language"}
                else:
                    entity[name] = "".join(child.itertext())
            entities.append(entity)
        if not entities:
            raise _error(400, 41, "parameter \"id\" required", as_json=as_json)
        return entities

    def _validate(self, request: Request, resource: Resource, row: dict, present: set) -> None:
        as_json = self._wants_json(request)
        default_language = self.languages[0][0]
        for name, spec in resource.fields.items():
            if name in present and not spec.writable:
                raise _error(400, 93, f'parameter "{name}" not writable. Please remove this attribute of this XML', as_json=as_json)
        for lang_pass in (True, False):
            code = 84 if lang_pass else 85
            for name, spec in resource.fields.items():
                if spec.lang != lang_pass:
                    continue
                values = row.get(name) if isinstance(row.get(name), dict) else {default_language: row.get(name) or ""}
                if spec.required and not (values.get(default_language) or "").strip():
                    raise _error(400, code, f'Validation error: "Property {resource.model}->{name} is empty."', as_json=as_json)
                for value in values.values():
                    value = value or ""
                    if spec.values and value not in spec.values:
                        raise _error(400, code, f'Validation error: "Property {resource.model}->{name} has a bad value (allowed values are: '
                                     f'{", ".join(v for v in spec.values if v)})."', as_json=as_json)
                    if spec.size is not None and len(value) > spec.size:
                        raise _error(400, code, f'Validation error: "The length of property {resource.model}->{name} is currently {len(value)} chars. '
                                     f'It must be between 0 and {spec.size} chars."', as_json=as_json)
                    if value and not VALIDATORS[spec.validate](value):
                        raise _error(400, code, f'Validation error: "Property {resource.model}->{name} is not valid"', as_json=as_json)

    def _save(self, request: Request, name: str, item_id: int | None) -> Response:
        resource = self._resource(request, name)
        as_json = self._wants_json(request)
        entities = self._parse_body(request, resource)
        if (spec := self._take_trap("xml_errors", request)) is not None:
            raise _error(400, int(spec.get("code", 85)), spec.get("message") or f'Validation error: "Property {resource.model}->name is not valid"',
                         as_json=as_json)
        saved = []
        for entity in entities:
            present = entity.pop("_present")
            given_id = (entity.pop("id", "") or "").strip()
            if request.method == "POST":
                if given_id:
                    raise _error(400, 91, "id is forbidden when adding a new resource", as_json=as_json)
                row = {name: ({lang: "" for lang, _ in self.languages} if spec.lang else "") for name, spec in resource.fields.items()}
                row["associations"] = {}
            else:
                if not given_id:
                    raise _error(400, 90, "id is required when modifying a resource", as_json=as_json)
                existing = self.tables[resource.name].get(int(given_id)) if given_id.isdigit() else None
                if existing is None:
                    raise _error(404, 92, "Invalid ID", as_json=as_json)
                row = copy.deepcopy(existing)
            for field_name, spec in resource.fields.items():
                if field_name in present:
                    value = entity.get(field_name, "")
                    if spec.lang and isinstance(value, dict):
                        merged = dict(row.get(field_name) or {}) if isinstance(row.get(field_name), dict) else {}
                        merged.update({k: v for k, v in value.items() if k in dict(self.languages)})
                        row[field_name] = merged
                    else:
                        row[field_name] = value if isinstance(value, str) else ""
                elif request.method == "PUT" and spec.writable:
                    if spec.required and not spec.lang:
                        raise _error(400, 41, f'parameter "{field_name}" required', as_json=as_json)
                    if not spec.required:
                        row[field_name] = {lang: "" for lang, _ in self.languages} if spec.lang else ""
            self._validate(request, resource, row, present)
            if "associations" in entity:
                for association in entity["associations"]:
                    if association not in resource.associations:
                        raise _error(400, 86, f'The association "{association}" does not exists', as_json=as_json)
                row.setdefault("associations", {}).update(entity["associations"])
            saved.append(self._apply(request, resource, row, creating=request.method == "POST"))
        return self._one(request, resource, saved[-1], 201 if request.method == "POST" else 200)

    @route("POST", "/api/<name>")
    def create_resource(self, request, name):
        return self._save(request, name, None)

    @route("PUT", "/api/<name>/<int:item_id>")
    @route("PATCH", "/api/<name>/<int:item_id>")
    def update_resource(self, request, name, item_id):
        return self._save(request, name, item_id)

    @route("PUT", "/api/<name>")
    @route("PATCH", "/api/<name>")
    def update_resources(self, request, name):
        return self._save(request, name, None)

    @route("DELETE", "/api/<name>/<int:item_id>")
    def delete_resource(self, request, name, item_id):
        resource = self._resource(request, name)
        if item_id not in self.tables[resource.name]:
            raise _error(404, 87, f"Id(s) not exists: {item_id}", as_json=self._wants_json(request))
        row = self.tables[resource.name].pop(item_id)
        if resource.name == "products":
            for table in ("combinations", "stock_availables", "specific_prices"):
                for other_id in [i for i, r in self.tables[table].items() if r.get("id_product") == row["id"]]:
                    del self.tables[table][other_id]
        return Response(200, b"", [("Content-Type", "text/xml;charset=utf-8")])

    # --- what a write does in the shop ------------------------------------------------------------
    def _apply(self, request: Request, resource: Resource, row: dict, *, creating: bool) -> dict:
        now = self._stamp()
        if creating:
            kind = {"products": "product", "combinations": "combination", "specific_prices": "specific_price", "product_options": "option",
                    "product_option_values": "option_value", "order_histories": "history", "order_carriers": "order_carrier"}[resource.name]
            row["id"] = str(self.ids.next(kind))
            if "date_add" in resource.fields:
                row["date_add"] = now
        if "date_upd" in resource.fields:
            row["date_upd"] = now
        handler = getattr(self, f"_on_{resource.name}", None)
        if handler is not None:
            handler(request, row, creating=creating)
        self.tables[resource.name][int(row["id"])] = row
        return row

    def _on_products(self, request, row, *, creating):
        self._check_link(request, "categories", row.get("id_category_default"), "id_category_default", allow_zero=True)
        if creating:
            row.setdefault("associations", {})
            row["associations"].setdefault("categories", [{"id": row.get("id_category_default") or "2"}])
            self._stock_row(row["id"], "0")
        row["associations"]["combinations"] = [{"id": c["id"]} for c in self.tables["combinations"].values() if c["id_product"] == row["id"]]
        row["associations"]["stock_availables"] = [{"id": s["id"], "id_product_attribute": s["id_product_attribute"]}
                                                   for s in self.tables["stock_availables"].values() if s["id_product"] == row["id"]]
        row["quantity"] = self._stock_row(row["id"], "0")["quantity"]

    def _on_combinations(self, request, row, *, creating):
        product = self._check_link(request, "products", row.get("id_product"), "id_product")
        for value in row.get("associations", {}).get("product_option_values", []):
            self._check_link(request, "product_option_values", value.get("id"), "product_option_values")
        if creating:
            self.tables["combinations"][int(row["id"])] = row
            self._stock_row(product["id"], row["id"])
            product["associations"]["combinations"] = [{"id": c["id"]} for c in self.tables["combinations"].values() if c["id_product"] == product["id"]]
            product["associations"]["stock_availables"] = [{"id": s["id"], "id_product_attribute": s["id_product_attribute"]}
                                                           for s in self.tables["stock_availables"].values() if s["id_product"] == product["id"]]
            product["date_upd"] = self._stamp()
        row["quantity"] = self._stock_row(product["id"], row["id"])["quantity"]

    def _on_stock_availables(self, request, row, *, creating):
        self.tables["stock_availables"][int(row["id"])] = row
        self._sync_product_quantity(row["id_product"])

    def _on_specific_prices(self, request, row, *, creating):
        self._check_link(request, "products", row.get("id_product"), "id_product")
        self._check_link(request, "groups", row.get("id_group"), "id_group", allow_zero=True)

    def _on_product_option_values(self, request, row, *, creating):
        group = self._check_link(request, "product_options", row.get("id_attribute_group"), "id_attribute_group")
        if creating:
            group.setdefault("associations", {}).setdefault("product_option_values", []).append({"id": row["id"]})

    def _on_order_histories(self, request, row, *, creating):
        order = self._check_link(request, "orders", row.get("id_order"), "id_order")
        state = self._check_link(request, "order_states", row.get("id_order_state"), "id_order_state")
        self._set_state(order, int(state["id"]), notify=request.arg("sendemail") == "1", history=row)

    def _on_order_carriers(self, request, row, *, creating):
        order = self._check_link(request, "orders", row.get("id_order"), "id_order")
        self._check_link(request, "carriers", row.get("id_carrier"), "id_carrier")
        if request.arg("sendemail") == "1" and row.get("tracking_number"):
            self.emails.append({"template": "in_transit", "order": order["id"], "tracking_number": row["tracking_number"]})

    def _check_link(self, request, resource: str, value, field_name: str, *, allow_zero: bool = False) -> dict | None:
        if allow_zero and value in ("0", "", None):
            return None
        row = self.tables[resource].get(int(value)) if str(value or "").isdigit() else None
        if row is None:
            raise _error(400, 85, f'Validation error: "Property {field_name} is not valid"', as_json=self._wants_json(request))
        return row

    def _stock_row(self, product_id: str, attribute_id: str, shop_id: str = "1") -> dict:
        for row in self.tables["stock_availables"].values():
            if (row["id_product"], row["id_product_attribute"], row["id_shop"]) == (str(product_id), str(attribute_id), shop_id):
                return row
        row = {"id": str(self.ids.next("stock")), "id_product": str(product_id), "id_product_attribute": str(attribute_id), "id_shop": shop_id,
               "id_shop_group": "0", "quantity": "0", "depends_on_stock": "0", "out_of_stock": "2", "location": ""}
        self.tables["stock_availables"][int(row["id"])] = row
        return row

    def _sync_product_quantity(self, product_id: str) -> None:
        """A product with combinations shows the sum of theirs on its own row (per shop)."""
        rows = [r for r in self.tables["stock_availables"].values() if r["id_product"] == product_id]
        for shop in {r["id_shop"] for r in rows}:
            combos = [r for r in rows if r["id_shop"] == shop and r["id_product_attribute"] != "0"]
            if combos:
                self._stock_row(product_id, "0", shop)["quantity"] = str(sum(int(r["quantity"] or 0) for r in combos))
        product = self.tables["products"].get(int(product_id))
        if product is not None:
            product["quantity"] = self._stock_row(product_id, "0")["quantity"]

    def _move_stock(self, product_id: str, attribute_id: str, delta: int) -> None:
        row = self._stock_row(product_id, attribute_id)
        row["quantity"] = str(int(row["quantity"] or 0) + delta)
        self._sync_product_quantity(product_id)

    # --- orders --------------------------------------------------------------------------------
    def _remember(self, order: dict) -> None:
        self.revisions.setdefault(int(order["id"]), []).append(copy.deepcopy(order))

    def _touch_order(self, order_id: int, *, commit_after: float = 0.0) -> dict:
        order = self.tables["orders"][order_id]
        self._remember(order)
        order["date_upd"] = self._stamp()
        if commit_after:
            self.visible_after[order_id] = self.clock.monotonic() + commit_after
        return order

    def _set_state(self, order: dict, state_id: int, *, notify: bool = False, commit_after: float = 0.0, history: dict | None = None) -> None:
        """The order takes the state; `history` is the order_history posted through the Webservice
        (one is recorded otherwise, as the back office does)."""
        previous = int(order["current_state"] or 0)
        self._touch_order(int(order["id"]), commit_after=commit_after)
        order["current_state"] = str(state_id)
        state = self.tables["order_states"][state_id]
        if state["logable"] == "1":
            order["valid"] = "1"
        if state["paid"] == "1" and order["total_paid_real"] in ("", "0", "0.000000"):
            order["total_paid_real"] = order["total_paid_tax_incl"]
        if state_id == CANCELED and previous != CANCELED:
            for detail in self._details(order["id"]):
                self._move_stock(detail["product_id"], detail["product_attribute_id"], int(detail["product_quantity"]))
        if history is None:
            history = {"id": str(self.ids.next("history")), "id_employee": "0", "id_order_state": str(state_id), "id_order": order["id"],
                       "date_add": order["date_upd"]}
            self.tables["order_histories"][int(history["id"])] = history
        if notify:
            self.emails.append({"template": f"state_{state_id}", "order": order["id"]})

    def _details(self, order_id: str) -> list[dict]:
        return sorted((d for d in self.tables["order_details"].values() if d["id_order"] == str(order_id)), key=lambda d: int(d["id"]))

    def _sellable(self) -> dict[str, tuple[dict, dict | None]]:
        """Reference → (product, combination or None) for active products."""
        found = {}
        for product in self.tables["products"].values():
            if product.get("active") != "1":
                continue
            combos = [c for c in self.tables["combinations"].values() if c["id_product"] == product["id"]]
            if combos:
                found.update({c["reference"]: (product, c) for c in combos if c.get("reference")})
            elif product.get("reference"):
                found[product["reference"]] = (product, None)
        return found

    def _unit_price(self, product: dict, combination: dict | None, group: str) -> Decimal:
        """Tax-exclusive unit price for a shopper of `group`, as PrestaShop computes it: a fixed
        specific price for the combination replaces base and impact; one for the whole product
        replaces the base price only."""
        attribute = combination["id"] if combination else "0"
        impact = Decimal(combination.get("price") or 0) if combination else Decimal(0)
        candidates = [sp for sp in self.tables["specific_prices"].values()
                      if sp["id_product"] == product["id"] and sp.get("id_group") in (group, "0") and sp.get("from_quantity") in ("1", "0", "")
                      and sp.get("id_product_attribute") in (attribute, "0", "") and Decimal(sp.get("price") or -1) >= 0]
        candidates.sort(key=lambda sp: (sp.get("id_product_attribute") not in ("0", ""), sp.get("id_group") != "0"), reverse=True)
        if candidates:
            chosen = candidates[0]
            price = Decimal(chosen["price"])
            return price if chosen.get("id_product_attribute") not in ("0", "") else price + impact
        return Decimal(product.get("price") or 0) + impact

    def place_order(self, *, lines: list[dict], customer: str | int = "new", email: str | None = None, group: str = "3",
                    paid: bool = True, carrier: int = 2, cart_rule: dict | None = None, gift_message: str = "",
                    commit_after: float = 0.0) -> dict:
        """A shopper's checkout. `lines`: [{"reference", "quantity"}]; `cart_rule`: {"name", "amount"
        (tax included) or "percent"}; `customer`: "new" or an existing customer id."""
        with self.lock:
            sellable = self._sellable()
            picks = []
            for line in lines:
                if line["reference"] not in sellable:
                    raise ValueError(f"no active product or combination with reference {line['reference']!r}")
                picks.append((*sellable[line["reference"]], int(line.get("quantity", 1))))
            now = self._stamp()
            if customer == "new":
                first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
                person = {"id": str(self.ids.next("customer")), "id_default_group": str(group), "id_lang": self.languages[0][0],
                          "lastname": last, "firstname": first, "company": "", "is_guest": "0", "active": "1", "date_add": now, "date_upd": now,
                          "email": email or f"{first.lower()}.{last.lower()}.{self.ids.hex(3)}@example.com".encode("ascii", "ignore").decode(),
                          "associations": {"groups": [{"id": str(group)}]}}
                self.tables["customers"][int(person["id"])] = person
                city, postcode = self.rng.choice(CITIES)
                address = {"id": str(self.ids.next("address")), "id_customer": person["id"], "id_country": "8", "alias": "Mon adresse",
                           "company": "", "lastname": last, "firstname": first, "address1": f"{self.rng.randint(1, 120)} rue des Lilas",
                           "address2": "", "postcode": postcode, "city": city, "phone": "0102030405", "phone_mobile": "", "deleted": "0",
                           "date_add": now, "date_upd": now}
                self.tables["addresses"][int(address["id"])] = address
            else:
                person = self.tables["customers"][int(customer)]
                address = next(a for a in self.tables["addresses"].values() if a["id_customer"] == person["id"])
            group = person["id_default_group"]
            rate = Decimal(self.tax_rate) / 100
            order_id = self.ids.next("order")
            details, rows = [], []
            products_excl = products_incl = Decimal(0)
            for product, combination, quantity in picks:
                taxed = product.get("id_tax_rules_group") not in ("", "0")
                unit = self._unit_price(product, combination, group)
                unit_incl = unit * (1 + rate) if taxed else unit
                total_excl, total_incl = cents(unit * quantity), cents(unit_incl * quantity)
                products_excl += total_excl
                products_incl += total_incl
                reference = (combination or {}).get("reference") or product.get("reference") or ""
                detail = {"id": str(self.ids.next("order_detail")), "id_order": str(order_id), "product_id": product["id"],
                          "product_attribute_id": combination["id"] if combination else "0", "product_quantity_reinjected": "0",
                          "id_warehouse": "0", "id_shop": "1", "product_name": _name(product, combination, self), "product_quantity": str(quantity),
                          "product_quantity_refunded": "0", "product_price": six(unit), "reduction_percent": "0.00", "reduction_amount": "0.000000",
                          "product_ean13": (combination or product).get("ean13") or "", "product_reference": reference,
                          "product_weight": product.get("weight") or "0", "tax_computation_method": "0",
                          "id_tax_rules_group": product.get("id_tax_rules_group") or "0", "unit_price_tax_incl": six(unit_incl),
                          "unit_price_tax_excl": six(unit), "total_price_tax_incl": six(total_incl), "total_price_tax_excl": six(total_excl),
                          "original_product_price": six(Decimal(product.get("price") or 0)), "total_refunded_tax_excl": "0.000000",
                          "total_refunded_tax_incl": "0.000000", "associations": {"taxes": [{"id": "1"}] if taxed else []}}
                details.append(detail)
                rows.append({"id": detail["id"], "product_id": detail["product_id"], "product_attribute_id": detail["product_attribute_id"],
                             "product_quantity": detail["product_quantity"], "product_name": detail["product_name"],
                             "product_reference": reference, "product_ean13": detail["product_ean13"], "product_isbn": "", "product_upc": "",
                             "product_price": detail["product_price"], "id_customization": "0", "unit_price_tax_incl": detail["unit_price_tax_incl"],
                             "unit_price_tax_excl": detail["unit_price_tax_excl"]})
            shipping_excl = Decimal(0) if int(carrier) == 1 else self.shipping_cost
            shipping_incl = cents(shipping_excl * (1 + rate))
            discount_excl = discount_incl = Decimal(0)
            if cart_rule:
                if "percent" in cart_rule:
                    share = Decimal(str(cart_rule["percent"])) / 100
                    discount_excl, discount_incl = cents(products_excl * share), cents(products_incl * share)
                else:
                    discount_incl = cents(Decimal(str(cart_rule["amount"])))
                    discount_excl = cents(discount_incl / (1 + rate))
            paid_excl = products_excl + shipping_excl - discount_excl
            paid_incl = products_incl + shipping_incl - discount_incl
            order = {"id": str(order_id), "id_address_delivery": address["id"], "id_address_invoice": address["id"], "id_cart": str(order_id),
                     "id_currency": "1", "id_lang": self.languages[0][0], "id_customer": person["id"], "id_carrier": str(carrier),
                     "current_state": "0", "module": "ps_wirepayment" if not paid else "ps_checkout", "invoice_number": "0",
                     "invoice_date": "0000-00-00 00:00:00", "delivery_number": "0", "delivery_date": "0000-00-00 00:00:00", "valid": "0",
                     "date_add": now, "date_upd": now, "shipping_number": "", "note": "", "id_shop_group": "1", "id_shop": "1",
                     "secure_key": self.ids.hex(16), "payment": "Virement bancaire" if not paid else "Carte bancaire", "recyclable": "0",
                     "gift": "1" if gift_message else "0", "gift_message": gift_message, "mobile_theme": "0",
                     "total_discounts": six(discount_incl), "total_discounts_tax_incl": six(discount_incl), "total_discounts_tax_excl": six(discount_excl),
                     "total_paid": six(paid_incl), "total_paid_tax_incl": six(paid_incl), "total_paid_tax_excl": six(paid_excl),
                     "total_paid_real": "0.000000", "total_products": six(products_excl), "total_products_wt": six(products_incl),
                     "total_shipping": six(shipping_incl), "total_shipping_tax_incl": six(shipping_incl), "total_shipping_tax_excl": six(shipping_excl),
                     "carrier_tax_rate": self.tax_rate, "total_wrapping": "0.000000", "total_wrapping_tax_incl": "0.000000",
                     "total_wrapping_tax_excl": "0.000000", "round_mode": "2", "round_type": "2", "conversion_rate": "1.000000",
                     "reference": self.ids.token(9, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"), "associations": {"order_rows": rows}}
            self.tables["orders"][order_id] = order
            for detail in details:
                self.tables["order_details"][int(detail["id"])] = detail
                self._move_stock(detail["product_id"], detail["product_attribute_id"], -int(detail["product_quantity"]))
            order_carrier = {"id": str(self.ids.next("order_carrier")), "id_order": order["id"], "id_carrier": str(carrier), "id_order_invoice": "0",
                             "weight": "0.000000", "shipping_cost_tax_excl": six(shipping_excl), "shipping_cost_tax_incl": six(shipping_incl),
                             "tracking_number": "", "date_add": now}
            self.tables["order_carriers"][int(order_carrier["id"])] = order_carrier
            if cart_rule:
                rule = {"id": str(self.ids.next("cart_rule")), "id_order": order["id"], "id_cart_rule": "1", "id_order_invoice": "0",
                        "name": cart_rule.get("name") or "Remise", "value": six(discount_incl), "value_tax_excl": six(discount_excl),
                        "free_shipping": "0", "deleted": "0"}
                self.tables["order_cart_rules"][int(rule["id"])] = rule
            self._set_state(order, PAID if paid else AWAITING_WIRE, commit_after=commit_after)
            self.revisions.pop(order_id, None)  # the order's first state is its first version
            return self._json_record(RESOURCES["orders"], order)

    def set_order_state(self, order_id: int, state_id: int, *, commit_after: float = 0.0) -> dict:
        with self.lock:
            if order_id not in self.tables["orders"]:
                raise ValueError(f"no order {order_id}")
            if state_id not in self.tables["order_states"]:
                raise ValueError(f"no order state {state_id}")
            self._set_state(self.tables["orders"][order_id], state_id, commit_after=commit_after)
            return self._json_record(RESOURCES["orders"], self.tables["orders"][order_id])

    def touch_order(self, order_id: int, *, note: str = "", commit_after: float = 0.0) -> dict:
        """The merchant edits the order (a private note) in the back office."""
        with self.lock:
            if order_id not in self.tables["orders"]:
                raise ValueError(f"no order {order_id}")
            order = self._touch_order(order_id, commit_after=commit_after)
            order["note"] = note
            return self._json_record(RESOURCES["orders"], order)

    def issue_slip(self, order_id: int, *, lines: list[dict], shipping: bool = False) -> dict:
        """A credit slip (partial refund) for `lines` [{"reference" or "id_order_detail", "quantity"}]."""
        with self.lock:
            order = self.tables["orders"].get(order_id)
            if order is None:
                raise ValueError(f"no order {order_id}")
            details = self._details(order["id"])
            slip_details, products_excl, products_incl = [], Decimal(0), Decimal(0)
            for line in lines:
                detail = next((d for d in details if d["id"] == str(line.get("id_order_detail")) or d["product_reference"] == line.get("reference")), None)
                if detail is None:
                    raise ValueError(f"no line {line} on order {order_id}")
                quantity = int(line.get("quantity", 1))
                if int(detail["product_quantity_refunded"]) + quantity > int(detail["product_quantity"]):
                    raise ValueError(f"cannot refund {quantity} more of {detail['product_reference']}")
                excl, incl = cents(Decimal(detail["unit_price_tax_excl"]) * quantity), cents(Decimal(detail["unit_price_tax_incl"]) * quantity)
                products_excl, products_incl = products_excl + excl, products_incl + incl
                detail["product_quantity_refunded"] = str(int(detail["product_quantity_refunded"]) + quantity)
                detail["total_refunded_tax_excl"] = six(Decimal(detail["total_refunded_tax_excl"]) + excl)
                detail["total_refunded_tax_incl"] = six(Decimal(detail["total_refunded_tax_incl"]) + incl)
                slip_details.append({"id": str(self.ids.next("slip_detail")), "id_order_detail": detail["id"], "product_quantity": str(quantity),
                                     "amount_tax_excl": six(excl), "amount_tax_incl": six(incl)})
            shipping_excl = Decimal(order["total_shipping_tax_excl"]) if shipping else Decimal(0)
            shipping_incl = Decimal(order["total_shipping_tax_incl"]) if shipping else Decimal(0)
            now = self._stamp()
            slip = {"id": str(self.ids.next("slip")), "id_customer": order["id_customer"], "id_order": order["id"], "conversion_rate": "1.000000",
                    "total_products_tax_excl": six(products_excl), "total_products_tax_incl": six(products_incl),
                    "total_shipping_tax_excl": six(shipping_excl), "total_shipping_tax_incl": six(shipping_incl),
                    "amount": six(products_incl + shipping_incl), "shipping_cost": "1" if shipping else "0", "shipping_cost_amount": six(shipping_incl),
                    "partial": "1", "date_add": now, "date_upd": now, "order_slip_type": "0", "associations": {"order_slip_details": slip_details}}
            self.tables["order_slip"][int(slip["id"])] = slip
            if self.slip_touches_order:
                self._touch_order(order_id)
            return self._json_record(RESOURCES["order_slip"], slip)

    def seed_products(self, products: list[dict]) -> list[str]:
        """Products as the merchant creates them in the back office: {"reference", "name", "price",
        "quantity"}; returns their ids."""
        with self.lock:
            created = []
            for data in products:
                now = self._stamp()
                row = {name: ({lang: "" for lang, _ in self.languages} if spec.lang else "") for name, spec in RESOURCES["products"].fields.items()}
                row.update({"id": str(self.ids.next("product")), "reference": data["reference"], "name": self._lang(data.get("name") or data["reference"]),
                            "link_rewrite": self._lang(re.sub(r"[^a-z0-9]+", "-", (data.get("name") or data["reference"]).lower()).strip("-") or "produit"),
                            "price": six(Decimal(str(data.get("price", "10")))), "active": "1", "id_category_default": "2", "id_tax_rules_group": "1",
                            "date_add": now, "date_upd": now, "associations": {"categories": [{"id": "2"}]}})
                self.tables["products"][int(row["id"])] = row
                self._stock_row(row["id"], "0")["quantity"] = str(int(data.get("quantity", 0)))
                self._on_products(None, row, creating=False)
                created.append(row["id"])
            return created

    def add_key(self, key: str, permissions: dict | None = None) -> None:
        """Another webservice key; `permissions`: {resource: [methods]} (None: everything)."""
        if not KEY_FORMAT.match(key):
            raise ValueError("a webservice key is 32 capital letters and digits")
        with self.lock:
            self.keys[key] = None if permissions is None else {name: set(methods) for name, methods in permissions.items()}

    # --- control API -----------------------------------------------------------------------------
    @control("POST", "traps")
    def control_traps(self, request):
        return {"traps": self.set_traps(**(request.json() or {}))}

    @control("POST", "orders")
    def control_place_order(self, request):
        body = request.json() or {}
        return self.json(self.place_order(lines=body["lines"], customer=body.get("customer", "new"), email=body.get("email"),
                                          group=str(body.get("group", "3")), paid=body.get("paid", True), carrier=int(body.get("carrier", 2)),
                                          cart_rule=body.get("cart_rule"), gift_message=body.get("gift_message", ""),
                                          commit_after=float(body.get("commit_after", 0))), 201)

    @control("POST", "orders/<int:order_id>/state")
    def control_state(self, request, order_id):
        body = request.json() or {}
        return self.set_order_state(order_id, int(body["state"]), commit_after=float(body.get("commit_after", 0)))

    @control("POST", "orders/<int:order_id>/touch")
    def control_touch(self, request, order_id):
        body = request.json() or {}
        return self.touch_order(order_id, note=body.get("note", ""), commit_after=float(body.get("commit_after", 0)))

    @control("POST", "orders/<int:order_id>/slips")
    def control_slip(self, request, order_id):
        body = request.json() or {}
        return self.json(self.issue_slip(order_id, lines=body.get("lines") or [], shipping=bool(body.get("shipping"))), 201)

    @control("POST", "products")
    def control_products(self, request):
        return self.json({"products": self.seed_products((request.json() or {}).get("products") or [])}, 201)

    @control("GET", "emails")
    def control_emails(self, request):
        return {"emails": list(self.emails)}


def _name(product: dict, combination: dict | None, sandbox: PrestaShopSandbox) -> str:
    default = sandbox.languages[0][0]
    name = (product.get("name") or {}).get(default, "") if isinstance(product.get("name"), dict) else product.get("name") or ""
    if combination is None:
        return name
    values = []
    for value in combination.get("associations", {}).get("product_option_values", []):
        row = sandbox.tables["product_option_values"].get(int(value["id"]))
        group = sandbox.tables["product_options"].get(int(row["id_attribute_group"])) if row else None
        if row and group:
            values.append(f"{group['public_name'].get(default, '')} : {row['name'].get(default, '')}")
    return f"{name} - {', '.join(values)}" if values else name


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (the shop's "Did you mean" suggestions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Run a PrestaShop sandbox shop (Webservice, 8.x) in the foreground.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8012)
    parser.add_argument("--webservice-key", required=True, help="32 capital letters and digits")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    sandbox = PrestaShopSandbox(webservice_key=args.webservice_key, host=args.host, port=args.port, seed=args.seed)
    print(f"PrestaShop sandbox on {sandbox.url} (Webservice {sandbox.url}/api/, control API {sandbox.url}/_sandbox/state)", flush=True)
    sandbox.serve_forever()


if __name__ == "__main__":
    main()
