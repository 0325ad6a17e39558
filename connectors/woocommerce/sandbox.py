"""A WooCommerce shop on localhost, speaking the REST API wc/v3 as WooCommerce's documentation
(woocommerce/woocommerce-rest-api-docs, `source/includes/wp-api-v3/`) and core code
(`class-wc-webhook.php`, the REST controllers) describe it:

- Basic auth with a consumer key and secret (or `consumer_key`/`consumer_secret` in the query);
  errors in WordPress's shape `{"code", "message", "data": {"status"}}`; unknown routes are
  `rest_no_route`. The sandbox stands for an HTTPS shop, so Basic auth is accepted on plain HTTP
  (WooCommerce itself would ask for OAuth 1.0a there).
- Products, simple and variable, with the variations sub-resource; `POST …/batch` capped at 100
  items (413 `woocommerce_rest_request_entity_too_large`); the `sku` filter (comma-separated,
  variations included); prices are strings; `manage_stock`/`stock_quantity` drive `stock_status`.
- Orders: `page`/`per_page` (default 10, max 100) with `X-WP-Total`, `X-WP-TotalPages` and Link
  (prev/next), `modified_after`/`dates_are_gmt` (naive dates are the site's time zone unless
  `dates_are_gmt=true`), `orderby`/`order`; `PUT /orders/<id>`; notes; refunds (amount positive,
  refund line items negative). Totals are built as WooCommerce builds them: line taxes rounded per
  line, or — with the shop setting "round tax at subtotal level" — kept unrounded so the order's
  `cart_tax` differs from the sum of the rounded line taxes, as in the vendor's example order 728.
- The Shipment Tracking extension's endpoint when it is installed (a setting), `rest_no_route`
  otherwise.
- Webhooks per topic (`POST /webhooks`): a form-encoded, unsigned `webhook_id=N` ping on
  creation; deliveries with the X-WC-Webhook-* headers, signed base64(HMAC-SHA256(body)) with the
  secret entity-decoded; a delivery id hashed from the webhook id and the send time in whole
  seconds (not a stable event id); no retries; the webhook is disabled on the seventh failure in a
  row (core counts up to `woocommerce_max_webhook_delivery_failures` = 5 and disables when a
  failure finds the count above it), and nothing is ever replayed. Payloads are the REST resource,
  `{"id": N}` for deleted ones, JSON encoded as PHP does (compact, `\\/`, `\\uXXXX`).

The control API (`/_sandbox/…`) lets tests, the demo and `traffic.py` act as shoppers and as the
merchant: place orders (new, returning or guest customers, 1-5 lines from the published
products), take payment, change status, cancel, refund part of an order, trash and restore.

Standard library and the harness only: no hub code, no Django."""

import argparse
import hashlib
import hmac
import json
import math
import re
import unicodedata
from base64 import b64decode
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from connectors.testing.harness import (
    Abort,
    DeliveryPolicy,
    FixedWindow,
    Request,
    Response,
    Sandbox,
    control,
    hmac_sha256_base64,
    json_response,
    raw_response,
    retry_after_seconds,
    route,
)

API = "/wp-json/wc/v3"
TRACKING_API = "/wp-json/wc-shipment-tracking/v3"
WC_VERSION = "9.6.1"
WP_VERSION = "6.7.2"
USER_AGENT = f"WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})"
MAX_BATCH_ITEMS = 100
MAX_PER_PAGE = 100
MAX_WEBHOOK_DELIVERY_FAILURES = 5  # woocommerce_max_webhook_delivery_failures
ORDER_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed")
STATUS_LABELS = {"pending": "Pending payment", "processing": "Processing", "on-hold": "On hold", "completed": "Completed",
                 "cancelled": "Cancelled", "refunded": "Refunded", "failed": "Failed", "trash": "Trash"}
WEBHOOK_STATUSES = ("active", "paused", "disabled")
TOPIC_HOOKS = {
    "coupon.created": ["woocommerce_process_shop_coupon_meta", "woocommerce_new_coupon"],
    "coupon.updated": ["woocommerce_process_shop_coupon_meta", "woocommerce_update_coupon"],
    "coupon.deleted": ["wp_trash_post"], "coupon.restored": ["untrashed_post"],
    "customer.created": ["user_register", "woocommerce_created_customer", "woocommerce_new_customer"],
    "customer.updated": ["profile_update", "woocommerce_update_customer"], "customer.deleted": ["delete_user"],
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded", "woocommerce_delete_order_refund"],
    "order.deleted": ["wp_trash_post", "woocommerce_trash_order"], "order.restored": ["untrashed_post", "woocommerce_untrash_order"],
    "product.created": ["woocommerce_process_product_meta", "woocommerce_new_product", "woocommerce_new_product_variation"],
    "product.updated": ["woocommerce_process_product_meta", "woocommerce_update_product", "woocommerce_update_product_variation"],
    "product.deleted": ["wp_trash_post"], "product.restored": ["untrashed_post"], "product.published": ["woocommerce_product_published"],
}
# payment method → (title, status after checkout, the gateway refunds through the API)
PAYMENT_METHODS = {"stripe": ("Carte bancaire", "processing", True), "cod": ("Paiement à la livraison", "processing", False),
                   "bacs": ("Virement bancaire", "on-hold", False), "cheque": ("Chèque", "on-hold", False)}
COUPONS = {"bienvenue10": Decimal("10"), "soldes20": Decimal("20")}
TRACKING_PROVIDERS = {
    "France": {"Colissimo": "https://www.laposte.fr/outils/suivre-vos-envois?code=%1$s",
               "Chronopost": "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT=%1$s",
               "La Poste": "https://www.laposte.fr/outils/suivre-vos-envois?code=%1$s"},
    "Global": {"DHL": "https://www.dhl.com/fr-fr/home/tracking.html?tracking-id=%1$s",
               "UPS": "https://www.ups.com/track?tracknum=%1$s"},
}
FIRST_NAMES = ["Camille", "Léa", "Hugo", "Louis", "Chloé", "Manon", "Jules", "Inès", "Lucas", "Emma", "Zoé", "Arthur"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Girard"]
STREETS = ["rue des Lilas", "avenue Jean Jaurès", "boulevard Voltaire", "rue de la République", "place Bellecour", "quai Saint-Vincent"]
CITIES = [("Lyon", "69003"), ("Paris", "75011"), ("Marseille", "13006"), ("Lille", "59000"), ("Nantes", "44000"), ("Bordeaux", "33000")]
GENERATED_SECRET_CHARACTERS = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"  # wp_generate_password(50, true, true)
                               "!@#$%^&*()-_ []{}<>~`+=,.;:/?|")
CENT = Decimal("0.01")
TAX_PRECISION = Decimal("0.000001")  # WC_ROUNDING_PRECISION


# --- encoding and errors --------------------------------------------------------------------------

def php_json(payload) -> bytes:
    """JSON as `wp_json_encode` writes it: compact, `/` escaped, non-ASCII as \\uXXXX."""
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()


def wc_error(code: str, message: str, status: int, **data) -> Abort:
    return Abort(json_response({"code": code, "message": message, "data": {"status": status, **data}}, status, encode=php_json))


def invalid_params(problems: dict[str, tuple[str, str]]) -> Abort:
    """WordPress's rest_invalid_param: every invalid parameter with its message."""
    return wc_error("rest_invalid_param", f"Invalid parameter(s): {', '.join(problems)}", 400,
                    params={name: message for name, (_, message) in problems.items()},
                    details={name: {"code": code, "message": message, "data": None} for name, (code, message) in problems.items()})


def no_route() -> Abort:
    return wc_error("rest_no_route", "No route was found matching the URL and request method.", 404)


def signature(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(body)) keyed with the secret as `wp_specialchars_decode(…, ENT_QUOTES)` leaves it."""
    return hmac_sha256_base64(_specialchars_decode(secret), body)


def _specialchars_decode(text: str) -> str:
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#039;", "'"), ("&#x27;", "'"), ("&amp;", "&")):
        text = text.replace(entity, char)
    return text


# --- money ----------------------------------------------------------------------------------------

def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def money(value) -> str:
    return str(cents(Decimal(value)))


def raw_amount(value: Decimal) -> str:
    """A stored tax amount as the API shows it: no padding (`"0.9"`, `"1.125"`)."""
    text = format(value.quantize(TAX_PRECISION).normalize(), "f")
    return "0" if text in ("-0", "") else text


def number(value: Decimal):
    """Line `price` is a JSON number in WooCommerce's output, not a string."""
    return int(value) if value == value.to_integral_value() else float(value.quantize(TAX_PRECISION).normalize())


def _slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-") or "product"


# --- parameter validation -------------------------------------------------------------------------

_TRUE = {True, 1, "1", "true", "yes"}
_FALSE = {False, 0, "0", "false", "no", ""}


def _coerce(name: str, value, kind):
    """Validate one parameter against its schema type as WordPress's REST server does.
    Returns (value, None) or (None, (error code, message))."""
    if isinstance(kind, tuple):
        if value not in kind:
            return None, ("rest_not_in_enum", f"{name} is not one of {', '.join(kind)}.")
        return value, None
    if kind == "string":
        return (value, None) if isinstance(value, str) else (None, ("rest_invalid_type", f"{name} is not of type string."))
    if kind == "boolean":
        probe = value.lower() if isinstance(value, str) else value
        if not isinstance(probe, (str, bool, int)) or (probe not in _TRUE and probe not in _FALSE):
            return None, ("rest_invalid_type", f"{name} is not of type boolean.")
        return probe in _TRUE, None
    if kind == "integer":
        if isinstance(value, bool):
            return None, ("rest_invalid_type", f"{name} is not of type integer.")
        number_value = _decimal(value) if isinstance(value, (int, float, str)) else None
        if number_value is None or not number_value.is_finite() or number_value != number_value.to_integral_value():
            return None, ("rest_invalid_type", f"{name} is not of type integer.")
        return int(number_value), None
    if kind == "array":
        return (value, None) if isinstance(value, list) else (None, ("rest_invalid_type", f"{name} is not of type array."))
    if kind == "object":
        return (value, None) if isinstance(value, dict) else (None, ("rest_invalid_type", f"{name} is not of type object."))
    raise AssertionError(kind)


def validate(data: dict, schema: dict) -> dict:
    """The known fields of `data`, coerced; every invalid one reported at once (unknown ones ignored)."""
    clean, problems = {}, {}
    for name, kind in schema.items():
        if name not in data:
            continue
        if data[name] is None and kind not in ("boolean",):
            clean[name] = None
            continue
        value, problem = _coerce(name, data[name], kind)
        if problem:
            problems[name] = problem
        else:
            clean[name] = value
    if problems:
        raise invalid_params(problems)
    return clean


PRODUCT_SCHEMA = {
    "name": "string", "slug": "string", "type": ("simple", "grouped", "external", "variable"),
    "status": ("draft", "pending", "private", "publish"), "featured": "boolean",
    "catalog_visibility": ("visible", "catalog", "search", "hidden"), "description": "string", "short_description": "string",
    "sku": "string", "regular_price": "string", "sale_price": "string", "virtual": "boolean", "downloadable": "boolean",
    "tax_status": ("taxable", "shipping", "none"), "tax_class": "string", "manage_stock": "boolean", "stock_quantity": "integer",
    "stock_status": ("instock", "outofstock", "onbackorder"), "backorders": ("no", "notify", "yes"), "weight": "string",
    "dimensions": "object", "categories": "array", "tags": "array", "images": "array", "attributes": "array",
    "default_attributes": "array", "menu_order": "integer", "meta_data": "array",
}
VARIATION_SCHEMA = {
    "description": "string", "sku": "string", "regular_price": "string", "sale_price": "string",
    "status": ("draft", "pending", "private", "publish"), "virtual": "boolean", "downloadable": "boolean",
    "tax_status": ("taxable", "shipping", "none"), "tax_class": "string", "manage_stock": "boolean", "stock_quantity": "integer",
    "stock_status": ("instock", "outofstock", "onbackorder"), "backorders": ("no", "notify", "yes"), "weight": "string",
    "dimensions": "object", "image": "object", "attributes": "array", "menu_order": "integer", "meta_data": "array",
}
ORDER_SCHEMA = {
    "status": (*ORDER_STATUSES, "trash"), "customer_note": "string", "billing": "object", "shipping": "object",
    "transaction_id": "string", "payment_method": "string", "payment_method_title": "string", "meta_data": "array",
    "set_paid": "boolean", "customer_id": "integer",
}
WEBHOOK_SCHEMA = {"name": "string", "status": WEBHOOK_STATUSES, "topic": "string", "delivery_url": "string", "secret": "string"}
SETTINGS_SCHEMA = {"shipment_tracking": bool, "round_tax_at_subtotal": bool, "prices_include_tax": bool, "tax_shipping": bool,
                   "shuffle_ties": bool, "tax_rate": str, "shipping_cost": str}


class WooCommerceSandbox(Sandbox):
    name = "woocommerce"
    delivery_policy = DeliveryPolicy(retry_delays=(), disable_after=MAX_WEBHOOK_DELIVERY_FAILURES + 2, success=range(200, 303),
                                     timeout=60.0)

    def __init__(self, *, consumer_key: str, consumer_secret: str, key_permissions: str = "read_write",
                 site_name: str = "Boutique Hub Démo", currency: str = "EUR", timezone_name: str = "Europe/Paris",
                 prices_include_tax: bool = True, tax_rate: str = "20", tax_shipping: bool = True, shipping_cost: str = "5.00",
                 round_tax_at_subtotal: bool = False, shipment_tracking: bool = False, shuffle_ties: bool = False,
                 host_limit: tuple[int, float] | None = None, webhooks: list[dict] | tuple = (), **options):
        """`host_limit=(requests, seconds)` stands for a host or firewall in front of the shop
        (WooCommerce itself has no rate limit); `webhooks` are subscriptions that already exist
        (no ping), each `{"topic", "delivery_url", "secret"}`."""
        if key_permissions not in ("read", "write", "read_write"):
            raise ValueError("key_permissions must be read, write or read_write")
        self.site_name, self.currency = site_name, currency
        self.tz = ZoneInfo(timezone_name)
        self.initial_keys = {consumer_key: (consumer_secret, key_permissions)}
        self.initial_settings = {"prices_include_tax": prices_include_tax, "tax_rate": str(tax_rate), "tax_shipping": tax_shipping,
                                 "shipping_cost": str(shipping_cost), "round_tax_at_subtotal": round_tax_at_subtotal,
                                 "shipment_tracking": shipment_tracking, "shuffle_ties": shuffle_ties}
        self.initial_webhooks = [dict(w) for w in webhooks]
        self._salt = b"sandbox-wp-salt"
        self.host_window: FixedWindow | None = None
        super().__init__(**options)
        if host_limit:
            self.host_window = FixedWindow(host_limit[0], host_limit[1], clock=self.clock.monotonic)

    # --- state ---------------------------------------------------------------------------------
    def reset_state(self) -> None:
        self.ids.begin("post", 700)
        self.ids.begin("order_item", 300)
        self.ids.begin("comment", 280)
        self.ids.begin("webhook", 140)
        self.ids.begin("user", 20)
        self.ids.begin("meta", 13000)
        self.ids.begin("attachment", 500)
        self.settings = dict(self.initial_settings)
        self.keys = dict(self.initial_keys)
        self.products: dict[int, dict] = {}
        self.variations: dict[int, dict] = {}
        self.orders: dict[int, dict] = {}
        self.refunds: dict[int, dict] = {}
        self.customers: dict[int, dict] = {}
        self.hooks: dict[int, dict] = {}
        for subscription in self.initial_webhooks:
            hook = self._webhook_new(name=subscription.get("name") or "", topic=subscription["topic"],
                                     delivery_url=subscription["delivery_url"], secret=subscription.get("secret") or "")
            hook["pending_delivery"] = False
        if self.host_window is not None:
            self.host_window.reset()

    def _now(self) -> datetime:
        return self.clock.now().replace(microsecond=0)

    def _dates(self, prefix: str, moment: datetime | None) -> dict:
        if moment is None:
            return {prefix: None, f"{prefix}_gmt": None}
        return {prefix: moment.astimezone(self.tz).strftime("%Y-%m-%dT%H:%M:%S"),
                f"{prefix}_gmt": moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")}

    def _links(self, path: str, collection: str, up: str | None = None) -> dict:
        links = {"self": [{"href": f"{self.url}{path}"}], "collection": [{"href": f"{self.url}{collection}"}]}
        if up:
            links["up"] = [{"href": f"{self.url}{up}"}]
        return links

    @property
    def tax_rate(self) -> Decimal:
        return Decimal(self.settings["tax_rate"]) / 100

    # --- harness hooks ---------------------------------------------------------------------------
    def encode_json(self, payload) -> bytes:
        return php_json(payload)

    def normalize_path(self, path: str) -> str:
        return path.rstrip("/") or "/"

    def no_route_response(self, request: Request, allowed: list[str]) -> Response:
        if request.path.startswith("/wp-json"):
            return no_route().response
        return raw_response("<!DOCTYPE html><html><head><title>Page not found</title></head>"
                            "<body><h1>Oops! That page can’t be found.</h1></body></html>", 404, content_type="text/html; charset=UTF-8")

    def invalid_body_response(self, request: Request, error) -> Response:
        return wc_error("rest_invalid_json", "Invalid JSON body passed.", 400, json_error_code=4,
                        json_error_message="Syntax error").response

    def server_error_response(self, request: Request, status: int) -> Response:
        if status == 500:
            return wc_error("internal_server_error", "<p>There has been a critical error on this website.</p>"
                            "<p><a href=\"https://wordpress.org/documentation/article/faq-troubleshooting/\">Learn more about "
                            "troubleshooting WordPress.</a></p>", 500).response
        reason = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}.get(status, "Server Error")
        return raw_response(f"<html><head><title>{status} {reason}</title></head><body><center><h1>{status} {reason}</h1></center>"
                            "<hr><center>nginx</center></body></html>", status, content_type="text/html")

    def throttled_response(self, request: Request, retry_after: float | None) -> Response:
        headers = {"Retry-After": retry_after_seconds(retry_after)} if retry_after is not None else {}
        return raw_response("<html><head><title>429 Too Many Requests</title></head><body><center><h1>429 Too Many Requests</h1>"
                            "</center><hr><center>nginx</center></body></html>", 429, content_type="text/html", headers=headers)

    def throttle(self, request: Request) -> Response | None:
        if self.host_window is None:
            return None
        allowed, retry_after = self.host_window.take()
        return None if allowed else self.throttled_response(request, retry_after)

    def authenticate(self, request: Request) -> Response | None:
        """WC_REST_Authentication: Basic credentials (or query parameters); an unknown key falls
        through as a visitor, a wrong secret is an error; then the key's read/write permission."""
        if request.path.startswith(TRACKING_API) and not self.settings["shipment_tracking"]:
            return no_route().response
        consumer_key, consumer_secret = self._credentials(request)
        key = self.keys.get(consumer_key) if consumer_key else None
        if key is None:
            return self._visitor_refused(request)
        if not hmac.compare_digest(key[0].encode(), (consumer_secret or "").encode()):
            return wc_error("woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401).response
        writing = request.method in ("POST", "PUT", "PATCH", "DELETE")
        if writing and key[1] not in ("write", "read_write"):
            return wc_error("woocommerce_rest_authentication_error", "The API key provided does not have write permissions.", 401).response
        if not writing and key[1] not in ("read", "read_write"):
            return wc_error("woocommerce_rest_authentication_error", "The API key provided does not have read permissions.", 401).response
        request.context["consumer_key"] = consumer_key
        return None

    @staticmethod
    def _credentials(request: Request) -> tuple[str | None, str | None]:
        header = request.header("Authorization") or ""
        if header.lower().startswith("basic "):
            try:
                user, _, password = b64decode(header[6:].strip()).decode().partition(":")
                return user, password
            except (ValueError, UnicodeDecodeError):
                return None, None
        return request.arg("consumer_key"), request.arg("consumer_secret")

    def _visitor_refused(self, request: Request) -> Response:
        pattern = request.route.pattern if request.route else ""
        single = bool(re.search(r">$", pattern))
        if request.method == "GET":
            code = "woocommerce_rest_cannot_view"
            message = "Sorry, you cannot view this resource." if single else "Sorry, you cannot list resources."
        elif request.method == "POST" and pattern.endswith("/batch"):
            code, message = "woocommerce_rest_cannot_batch", "Sorry, you are not allowed to batch manipulate this resource."
        elif request.method == "POST":
            code, message = "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."
        elif request.method == "DELETE":
            code, message = "woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."
        else:
            code, message = "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."
        return wc_error(code, message, 401).response

    def _body(self, request: Request) -> dict:
        """Body parameters: JSON, or form fields for form-encoded requests (WordPress takes both)."""
        if request.content_type == "application/x-www-form-urlencoded":
            return {name: values[-1] for name, values in request.form().items()}
        data = request.json()
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise wc_error("rest_invalid_json", "Invalid JSON body passed.", 400)
        return data

    # --- listing helpers -------------------------------------------------------------------------
    def _int_arg(self, request: Request, name: str, default: int | None, *, minimum: int | None = None,
                 maximum: int | None = None) -> int | None:
        raw = request.arg(name)
        if raw is None or raw == "":
            return default
        value, problem = _coerce(name, raw, "integer")
        if problem:
            raise invalid_params({name: problem})
        if maximum is not None and minimum is not None and not minimum <= value <= maximum:
            raise invalid_params({name: ("rest_out_of_bounds", f"{name} must be between {minimum} (inclusive) and {maximum} (inclusive)")})
        if minimum is not None and value < minimum:
            raise invalid_params({name: ("rest_out_of_bounds", f"{name} must be greater than or equal to {minimum}")})
        return value

    @staticmethod
    def _list_arg(request: Request, name: str) -> list[str]:
        values = request.args(name) + request.args(f"{name}[]")
        return [part.strip() for value in values for part in value.split(",") if part.strip()]

    def _ids_arg(self, request: Request, name: str) -> set[int]:
        ids = set()
        for value in self._list_arg(request, name):
            parsed, problem = _coerce(name, value, "integer")
            if problem:
                raise invalid_params({name: problem})
            ids.add(parsed)
        return ids

    def _bool_arg(self, request: Request, name: str) -> bool | None:
        raw = request.arg(name)
        if raw is None:
            return None
        value, problem = _coerce(name, raw, "boolean")
        if problem:
            raise invalid_params({name: problem})
        return value

    def _date_arg(self, request: Request, name: str, gmt: bool) -> datetime | None:
        raw = request.arg(name)
        if not raw:
            return None
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "T"))
        except ValueError:
            raise invalid_params({name: ("rest_invalid_date", "Invalid date.")}) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc if gmt else self.tz)
        return moment

    def _filter_dates(self, request: Request, items: list[dict], *, created: str = "_created", modified: str = "_modified") -> list[dict]:
        gmt = bool(self._bool_arg(request, "dates_are_gmt"))
        bounds = [(self._date_arg(request, "after", gmt), created, 1), (self._date_arg(request, "before", gmt), created, -1),
                  (self._date_arg(request, "modified_after", gmt), modified, 1), (self._date_arg(request, "modified_before", gmt), modified, -1)]
        for bound, key, direction in bounds:
            if bound is not None:
                items = [item for item in items if (item[key] > bound if direction > 0 else item[key] < bound)]
        return items

    def _sort(self, request: Request, items: list[dict], keys: dict, default: str = "date") -> list[dict]:
        orderby = request.arg("orderby") or default
        if orderby not in keys and orderby != "include":
            raise invalid_params({"orderby": ("rest_not_in_enum", f"orderby is not one of {', '.join([*keys, 'include'])}.")})
        order = request.arg("order") or ("asc" if default in ("name",) else "desc")
        if order not in ("asc", "desc"):
            raise invalid_params({"order": ("rest_not_in_enum", "order is not one of asc, desc.")})
        if orderby == "include":
            wanted = [int(i) for i in self._list_arg(request, "include") if i.isdigit()]
            return sorted(items, key=lambda item: wanted.index(item["id"]) if item["id"] in wanted else len(wanted))
        key = keys[orderby]
        tie = (lambda item: self.rng.random()) if self.settings["shuffle_ties"] else (lambda item: item["id"])
        return sorted(items, key=lambda item: (key(item), tie(item)), reverse=order == "desc")

    def _page(self, request: Request, items: list, path: str, render) -> Response:
        per_page = self._int_arg(request, "per_page", 10, minimum=1, maximum=MAX_PER_PAGE)
        page = self._int_arg(request, "page", 1, minimum=1)
        offset = self._int_arg(request, "offset", None, minimum=0)
        start = offset if offset is not None else (page - 1) * per_page
        total, pages = len(items), math.ceil(len(items) / per_page)
        headers = [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(pages))]
        params = [(name, value) for name, values in request.query.items() if name != "page" for value in values]
        if page > 1 and pages:
            headers.append(("Link", f'<{self.url}{path}?{urlencode([*params, ("page", min(page - 1, pages))])}>; rel="prev"'))
        if pages > page:
            headers.append(("Link", f'<{self.url}{path}?{urlencode([*params, ("page", page + 1)])}>; rel="next"'))
        return self.json([render(item) for item in items[start:start + per_page]], 200, headers)

    # --- products --------------------------------------------------------------------------------
    def _price_fields(self, item: dict) -> dict:
        regular, sale = item["regular_price"], item["sale_price"]
        on_sale = bool(sale) and _decimal(sale) is not None and _decimal(regular) is not None and _decimal(sale) < _decimal(regular)
        price = sale if on_sale else regular
        return {"price": price, "regular_price": regular, "sale_price": sale, "on_sale": on_sale}

    def _stock_status(self, item: dict) -> str:
        if item.get("type") == "variable":
            children = [self.variations[v] for v in item["variations"] if v in self.variations]
            if children:
                return "instock" if any(self._stock_status(child) == "instock" for child in children) else "outofstock"
        if item["manage_stock"]:
            if (item["stock_quantity"] or 0) > 0:
                return "instock"
            return "onbackorder" if item["backorders"] != "no" else "outofstock"
        return item["stock_status"]

    def _purchasable(self, item: dict, *, price: str | None = None) -> bool:
        """WC_Product::is_purchasable: published (with its parent) and priced; stock is another matter."""
        parent = self.products.get(item.get("parent_id") or 0)
        published = item["status"] == "publish" and (parent is None or parent["status"] == "publish")
        return published and (price if price is not None else self._price_fields(item)["price"]) != ""

    def _sellable(self, item: dict) -> bool:
        return item.get("type") != "variable" and self._purchasable(item) and self._stock_status(item) != "outofstock"

    @staticmethod
    def _price_html(price: str) -> str:
        if not price:
            return ""
        return (f'<span class="woocommerce-Price-amount amount"><bdi>{price.replace(".", ",")}&nbsp;'
                '<span class="woocommerce-Price-currencySymbol">&euro;</span></bdi></span>')

    def _product_json(self, product: dict) -> dict:
        prices = self._price_fields(product)
        if product["type"] == "variable":
            child_prices = sorted(_decimal(self._price_fields(self.variations[v])["price"]) for v in product["variations"]
                                  if v in self.variations and self.variations[v]["regular_price"])
            prices = {"price": str(child_prices[0]) if child_prices else "", "regular_price": "", "sale_price": "", "on_sale": False}
        stock_status = self._stock_status(product)
        return {
            "id": product["id"], "name": product["name"], "slug": product["slug"], "permalink": f"{self.url}/product/{product['slug']}/",
            **self._dates("date_created", product["_created"]), **self._dates("date_modified", product["_modified"]),
            "type": product["type"], "status": product["status"], "featured": product["featured"],
            "catalog_visibility": product["catalog_visibility"], "description": product["description"],
            "short_description": product["short_description"], "sku": product["sku"], **prices,
            "date_on_sale_from": None, "date_on_sale_from_gmt": None, "date_on_sale_to": None, "date_on_sale_to_gmt": None,
            "price_html": self._price_html(prices["price"]), "purchasable": self._purchasable(product, price=prices["price"]),
            "total_sales": product["total_sales"],
            "virtual": product["virtual"], "downloadable": product["downloadable"], "downloads": [], "download_limit": -1,
            "download_expiry": -1, "external_url": "", "button_text": "", "tax_status": product["tax_status"],
            "tax_class": product["tax_class"], "manage_stock": product["manage_stock"], "stock_quantity": product["stock_quantity"],
            "stock_status": stock_status, "backorders": product["backorders"], "backorders_allowed": product["backorders"] != "no",
            "backordered": product["manage_stock"] and (product["stock_quantity"] or 0) < 0, "low_stock_amount": None,
            "sold_individually": False, "weight": product["weight"], "dimensions": product["dimensions"],
            "shipping_required": not product["virtual"], "shipping_taxable": product["tax_status"] in ("taxable", "shipping"),
            "shipping_class": "", "shipping_class_id": 0, "reviews_allowed": True, "average_rating": "0.00", "rating_count": 0,
            "related_ids": [], "upsell_ids": [], "cross_sell_ids": [], "parent_id": 0, "purchase_note": "",
            "categories": product["categories"], "tags": product["tags"], "images": product["images"],
            "attributes": product["attributes"], "default_attributes": product["default_attributes"],
            "variations": [v for v in product["variations"] if v in self.variations], "grouped_products": [],
            "menu_order": product["menu_order"], "meta_data": product["meta_data"],
            "_links": self._links(f"{API}/products/{product['id']}", f"{API}/products"),
        }

    def _variation_json(self, variation: dict) -> dict:
        prices = self._price_fields(variation)
        parent = self.products.get(variation["parent_id"])
        slug = parent["slug"] if parent else "product"
        query = urlencode({f"attribute_{_slugify(a['name'])}": a["option"] for a in variation["attributes"]})
        return {
            "id": variation["id"], **self._dates("date_created", variation["_created"]),
            **self._dates("date_modified", variation["_modified"]), "description": variation["description"],
            "permalink": f"{self.url}/product/{slug}/?{query}", "sku": variation["sku"], **prices,
            "date_on_sale_from": None, "date_on_sale_from_gmt": None, "date_on_sale_to": None, "date_on_sale_to_gmt": None,
            "status": variation["status"], "purchasable": self._purchasable(variation), "virtual": variation["virtual"],
            "downloadable": variation["downloadable"], "downloads": [], "download_limit": -1, "download_expiry": -1,
            "tax_status": variation["tax_status"], "tax_class": variation["tax_class"], "manage_stock": variation["manage_stock"],
            "stock_quantity": variation["stock_quantity"], "stock_status": self._stock_status(variation),
            "backorders": variation["backorders"], "backorders_allowed": variation["backorders"] != "no",
            "backordered": variation["manage_stock"] and (variation["stock_quantity"] or 0) < 0, "low_stock_amount": None,
            "weight": variation["weight"], "dimensions": variation["dimensions"], "shipping_class": "", "shipping_class_id": 0,
            "image": variation["image"], "attributes": variation["attributes"], "menu_order": variation["menu_order"],
            "meta_data": variation["meta_data"],
            "_links": self._links(f"{API}/products/{variation['parent_id']}/variations/{variation['id']}",
                                  f"{API}/products/{variation['parent_id']}/variations", f"{API}/products/{variation['parent_id']}"),
        }

    def _variation_as_product(self, variation: dict) -> dict:
        """A variation read through /products (an SKU lookup, GET /products/<variation id>)."""
        parent = self.products.get(variation["parent_id"]) or {}
        options = ", ".join(a["option"] for a in variation["attributes"])
        shaped = self._variation_json(variation)
        shaped.update(name=f"{parent.get('name', '')} - {options}" if options else parent.get("name", ""), type="variation",
                      parent_id=variation["parent_id"], slug=f"{parent.get('slug', 'product')}-{_slugify(options)}",
                      _links=self._links(f"{API}/products/{variation['id']}", f"{API}/products",
                                         f"{API}/products/{variation['parent_id']}"))
        return shaped

    def _item_json(self, item_id: int) -> dict:
        if item_id in self.products:
            return self._product_json(self.products[item_id])
        return self._variation_as_product(self.variations[item_id])

    def _sku_owner(self, sku: str) -> int | None:
        for collection in (self.products, self.variations):
            for item in collection.values():
                if item["sku"] == sku and item["status"] != "trash":
                    return item["id"]
        return None

    def _check_sku(self, sku: str, own_id: int | None) -> None:
        if not sku:
            return
        owner = self._sku_owner(sku)
        if owner is not None and owner != own_id:
            n = 1
            while self._sku_owner(f"{sku}-{n}") is not None:
                n += 1
            raise wc_error("product_invalid_sku", "Invalid or duplicated SKU.", 400, resource_id=owner, unique_sku=f"{sku}-{n}")

    @staticmethod
    def _normalize_price(value: str | None) -> str:
        if value is None:
            return ""
        text = value.strip()
        return text if text and _decimal(text) is not None else ""

    def _apply_stockable(self, item: dict, data: dict) -> None:
        """The fields products and variations share (already validated)."""
        if "sku" in data:
            sku = (data["sku"] or "").strip()
            self._check_sku(sku, item.get("id"))
            item["sku"] = sku
        for key in ("regular_price", "sale_price"):
            if key in data:
                item[key] = self._normalize_price(data[key])
        for key in ("description", "tax_status", "tax_class", "manage_stock", "backorders", "weight", "virtual", "downloadable",
                    "menu_order", "status"):
            if key in data and data[key] is not None:
                item[key] = data[key]
        if data.get("dimensions") is not None:
            item["dimensions"] = {k: str(data["dimensions"].get(k, item["dimensions"][k])) for k in ("length", "width", "height")}
        if "stock_status" in data and data["stock_status"]:
            item["stock_status"] = data["stock_status"]
        if "stock_quantity" in data:
            item["stock_quantity"] = data["stock_quantity"]
        if not item["manage_stock"]:
            item["stock_quantity"] = None
        elif item["stock_quantity"] is None:
            item["stock_quantity"] = 0
        if data.get("meta_data") is not None:
            item["meta_data"] = [{"id": self.ids.next("meta"), "key": str(m.get("key", "")), "value": m.get("value")}
                                 for m in data["meta_data"] if isinstance(m, dict)]

    def _unique_slug(self, name: str, own_id: int | None = None) -> str:
        base = _slugify(name)
        taken = {p["slug"] for p in self.products.values() if p["id"] != own_id}
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        return slug

    def product_create(self, data: dict, *, notify: bool = True) -> dict:
        clean = validate(data, PRODUCT_SCHEMA)
        if data.get("id"):
            raise wc_error("woocommerce_rest_product_exists", "Cannot create existing product.", 400)
        now = self._now()
        product = {"id": None, "name": clean.get("name") or "", "slug": "", "type": clean.get("type") or "simple",
                   "status": "publish", "featured": False, "catalog_visibility": "visible", "description": "",
                   "short_description": "", "sku": "", "regular_price": "", "sale_price": "", "virtual": False, "downloadable": False,
                   "tax_status": "taxable", "tax_class": "", "manage_stock": False, "stock_quantity": None, "stock_status": "instock",
                   "backorders": "no", "weight": "", "dimensions": {"length": "", "width": "", "height": ""}, "categories": [],
                   "tags": [], "images": [], "attributes": [], "default_attributes": [], "variations": [], "menu_order": 0,
                   "meta_data": [], "total_sales": 0, "_created": now, "_modified": now}
        self._check_sku((clean.get("sku") or "").strip(), None)
        product["id"] = self.ids.next("post")
        self._apply_product(product, clean)
        product["slug"] = self._unique_slug(clean.get("slug") or product["name"] or "product", product["id"])
        self.products[product["id"]] = product
        if notify:
            self._emit("product", "created", product["id"])
        return product

    def _apply_product(self, product: dict, clean: dict) -> None:
        self._apply_stockable(product, clean)
        for key in ("name", "type", "featured", "catalog_visibility", "short_description"):
            if key in clean and clean[key] is not None:
                product[key] = clean[key]
        if clean.get("categories") is not None:
            product["categories"] = [{"id": int(c.get("id") or 0), "name": c.get("name", ""), "slug": c.get("slug", "")}
                                     for c in clean["categories"] if isinstance(c, dict)]
        if clean.get("tags") is not None:
            product["tags"] = [{"id": int(t.get("id") or 0), "name": t.get("name", ""), "slug": t.get("slug", "")}
                               for t in clean["tags"] if isinstance(t, dict)]
        if clean.get("images") is not None:
            product["images"] = [self._image(i) for i in clean["images"] if isinstance(i, dict)]
        if clean.get("attributes") is not None:
            product["attributes"] = [{"id": int(a.get("id") or 0), "name": str(a.get("name") or ""), "position": int(a.get("position") or n),
                                      "visible": bool(a.get("visible", False)), "variation": bool(a.get("variation", False)),
                                      "options": [str(o) for o in a.get("options") or []]}
                                     for n, a in enumerate(clean["attributes"]) if isinstance(a, dict)]
        if clean.get("default_attributes") is not None:
            product["default_attributes"] = [{"id": int(a.get("id") or 0), "name": str(a.get("name") or ""), "option": str(a.get("option") or "")}
                                             for a in clean["default_attributes"] if isinstance(a, dict)]

    def _image(self, data: dict) -> dict:
        stamp = self._dates("date_created", self._now())
        return {"id": int(data.get("id") or self.ids.next("attachment")), **stamp,
                **self._dates("date_modified", self._now()), "src": str(data.get("src") or ""), "name": str(data.get("name") or ""),
                "alt": str(data.get("alt") or "")}

    def product_update(self, product_id: int, data: dict) -> dict:
        if product_id in self.variations:
            variation = self.variations[product_id]
            return self.variation_update(variation["parent_id"], product_id, data)
        product = self._product(product_id)
        clean = validate(data, PRODUCT_SCHEMA)
        self._apply_product(product, clean)
        if clean.get("slug"):
            product["slug"] = self._unique_slug(clean["slug"], product_id)
        product["_modified"] = self._now()
        self._emit("product", "updated", product_id)
        return product

    def product_delete(self, product_id: int, *, force: bool) -> dict:
        product = self._product(product_id)
        rendered = self._product_json(product)
        if force:
            for variation_id in product["variations"]:
                self.variations.pop(variation_id, None)
            del self.products[product_id]
        else:
            product["status"], product["_modified"] = "trash", self._now()
            rendered = self._product_json(product)
        self._emit("product", "deleted", product_id)
        return rendered

    def _product(self, product_id: int) -> dict:
        product = self.products.get(product_id)
        if product is None:
            raise wc_error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        return product

    def variation_create(self, product_id: int, data: dict, *, notify: bool = True) -> dict:
        parent = self._product(product_id)
        clean = validate(data, VARIATION_SCHEMA)
        now = self._now()
        variation = {"id": None, "parent_id": product_id, "description": "", "sku": "", "regular_price": "", "sale_price": "",
                     "status": "publish", "virtual": False, "downloadable": False, "tax_status": "taxable", "tax_class": "",
                     "manage_stock": False, "stock_quantity": None, "stock_status": "instock", "backorders": "no", "weight": "",
                     "dimensions": {"length": "", "width": "", "height": ""}, "image": None, "attributes": [], "menu_order": 0,
                     "meta_data": [], "_created": now, "_modified": now}
        self._check_sku((clean.get("sku") or "").strip(), None)
        variation["id"] = self.ids.next("post")
        self._apply_variation(variation, clean)
        self.variations[variation["id"]] = variation
        parent["variations"].append(variation["id"])
        parent["_modified"] = now
        if notify:
            self._emit("product", "created", variation["id"])
        return variation

    def _apply_variation(self, variation: dict, clean: dict) -> None:
        self._apply_stockable(variation, clean)
        if clean.get("image") is not None:
            variation["image"] = self._image(clean["image"])
        if clean.get("attributes") is not None:
            variation["attributes"] = [{"id": int(a.get("id") or 0), "name": str(a.get("name") or ""), "option": str(a.get("option") or "")}
                                       for a in clean["attributes"] if isinstance(a, dict)]

    def variation_update(self, product_id: int, variation_id: int, data: dict) -> dict:
        variation = self._variation(product_id, variation_id)
        self._apply_variation(variation, validate(data, VARIATION_SCHEMA))
        variation["_modified"] = self._now()
        self._emit("product", "updated", variation_id)
        return variation

    def variation_delete(self, product_id: int, variation_id: int, *, force: bool) -> dict:
        variation = self._variation(product_id, variation_id)
        rendered = self._variation_json(variation)
        if not force:
            raise wc_error("woocommerce_rest_trash_not_supported", "Variations do not support trashing.", 501)
        del self.variations[variation_id]
        self.products[product_id]["variations"].remove(variation_id)
        self._emit("product", "deleted", variation_id)
        return rendered

    def _variation(self, product_id: int, variation_id: int) -> dict:
        self._product(product_id)
        variation = self.variations.get(variation_id)
        if variation is None or variation["parent_id"] != product_id:
            raise wc_error("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404)
        return variation

    def _batch(self, request: Request, *, create, update, delete) -> Response:
        body = self._body(request)
        operations = {}
        for name in ("create", "update", "delete"):
            value = body.get(name)
            if value in (None, [], ""):
                continue
            if not isinstance(value, list):
                raise invalid_params({name: ("rest_invalid_type", f"{name} is not of type array.")})
            operations[name] = value
        if sum(len(v) for v in operations.values()) > MAX_BATCH_ITEMS:
            raise wc_error("woocommerce_rest_request_entity_too_large",
                           f"Unable to accept more than {MAX_BATCH_ITEMS} items for this request.", 413)
        answer = {}

        def attempt(item_id, run):
            try:
                return run()
            except Abort as abort:
                error = abort.response.json()
                return {"id": item_id, "error": {"code": error["code"], "message": error["message"], "data": error["data"]}}

        if "create" in operations:
            answer["create"] = [attempt(0, lambda item=item: create(item if isinstance(item, dict) else {}))
                                for item in operations["create"]]
        if "update" in operations:
            answer["update"] = [attempt(item.get("id") if isinstance(item, dict) else 0,
                                        lambda item=item: update(int((item if isinstance(item, dict) else {}).get("id") or 0), item))
                                for item in operations["update"]]
        if "delete" in operations:
            ids = [int(i) for i in operations["delete"] if str(i).isdigit() and int(i)]
            answer["delete"] = [attempt(item_id, lambda item_id=item_id: delete(item_id)) for item_id in ids]
        return self.json(answer)

    # product routes
    @route("GET", API + "/products")
    def products_list(self, request):
        items = [p for p in self.products.values()]
        skus = self._list_arg(request, "sku")
        if skus:
            items = [p for p in [*self.products.values(), *self.variations.values()] if p["sku"] in skus]
        status = request.arg("status") or "any"
        if status not in ("any", "draft", "pending", "private", "publish", "trash"):
            raise invalid_params({"status": ("rest_not_in_enum", "status is not one of any, future, trash, draft, pending, private, publish.")})
        items = [p for p in items if (p["status"] != "trash" if status == "any" else p["status"] == status)]
        if request.arg("type"):
            items = [p for p in items if p.get("type") == request.arg("type")]
        if request.arg("search"):
            items = [p for p in items if request.arg("search").lower() in p.get("name", "").lower()]
        if include := self._ids_arg(request, "include"):
            items = [p for p in items if p["id"] in include]
        if exclude := self._ids_arg(request, "exclude"):
            items = [p for p in items if p["id"] not in exclude]
        items = self._filter_dates(request, items)
        items = self._sort(request, items, {"date": lambda p: p["_created"], "id": lambda p: p["id"],
                                            "title": lambda p: p.get("name", ""), "slug": lambda p: p.get("slug", ""),
                                            "modified": lambda p: p["_modified"], "price": lambda p: _decimal(self._price_fields(p)["price"] or "0"),
                                            "popularity": lambda p: p.get("total_sales", 0), "rating": lambda p: 0})
        return self._page(request, items, API + "/products", lambda p: self._item_json(p["id"]))

    @route("POST", API + "/products")
    def products_create(self, request):
        product = self.product_create(self._body(request))
        return self.json(self._product_json(product), 201, {"Location": f"{self.url}{API}/products/{product['id']}"})

    @route("POST", API + "/products/batch")
    def products_batch(self, request):
        return self._batch(request,
                           create=lambda data: self._product_json(self.product_create(data)),
                           update=lambda item_id, data: self._item_json(self.product_update(item_id, data)["id"]),
                           delete=lambda item_id: self.product_delete(item_id, force=True))

    @route("GET", API + "/products/<int:product_id>")
    def products_get(self, request, product_id):
        if product_id not in self.products and product_id not in self.variations:
            raise wc_error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        return self._item_json(product_id)

    @route("PUT", API + "/products/<int:product_id>")
    @route("PATCH", API + "/products/<int:product_id>")
    @route("POST", API + "/products/<int:product_id>")
    def products_update(self, request, product_id):
        if product_id not in self.products and product_id not in self.variations:
            raise wc_error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        return self._item_json(self.product_update(product_id, self._body(request))["id"])

    @route("DELETE", API + "/products/<int:product_id>")
    def products_delete(self, request, product_id):
        return self.product_delete(product_id, force=bool(self._bool_arg(request, "force")))

    @route("GET", API + "/products/<int:product_id>/variations")
    def variations_list(self, request, product_id):
        parent = self._product(product_id)
        items = [self.variations[v] for v in parent["variations"] if v in self.variations]
        if skus := self._list_arg(request, "sku"):
            items = [v for v in items if v["sku"] in skus]
        items = self._filter_dates(request, items)
        items = self._sort(request, items, {"date": lambda v: v["_created"], "id": lambda v: v["id"], "title": lambda v: v["id"],
                                            "slug": lambda v: v["id"], "modified": lambda v: v["_modified"],
                                            "menu_order": lambda v: v["menu_order"]})
        return self._page(request, items, f"{API}/products/{product_id}/variations", self._variation_json)

    @route("POST", API + "/products/<int:product_id>/variations")
    def variations_create(self, request, product_id):
        variation = self.variation_create(product_id, self._body(request))
        return self.json(self._variation_json(variation), 201)

    @route("POST", API + "/products/<int:product_id>/variations/batch")
    def variations_batch(self, request, product_id):
        self._product(product_id)
        return self._batch(request,
                           create=lambda data: self._variation_json(self.variation_create(product_id, data)),
                           update=lambda item_id, data: self._variation_json(self.variation_update(product_id, item_id, data)),
                           delete=lambda item_id: self.variation_delete(product_id, item_id, force=True))

    @route("GET", API + "/products/<int:product_id>/variations/<int:variation_id>")
    def variations_get(self, request, product_id, variation_id):
        return self._variation_json(self._variation(product_id, variation_id))

    @route("PUT", API + "/products/<int:product_id>/variations/<int:variation_id>")
    @route("PATCH", API + "/products/<int:product_id>/variations/<int:variation_id>")
    def variations_update(self, request, product_id, variation_id):
        return self._variation_json(self.variation_update(product_id, variation_id, self._body(request)))

    @route("DELETE", API + "/products/<int:product_id>/variations/<int:variation_id>")
    def variations_delete(self, request, product_id, variation_id):
        return self.variation_delete(product_id, variation_id, force=bool(self._bool_arg(request, "force")))

    # --- stock -----------------------------------------------------------------------------------
    def _stock_item(self, line: dict) -> dict | None:
        return self.variations.get(line["variation_id"]) if line["variation_id"] else self.products.get(line["product_id"])

    def _adjust_stock(self, order: dict, lines: list[tuple[dict, int]], direction: int, note: str) -> None:
        changes = []
        for line, quantity in lines:
            item = self._stock_item(line)
            if item is None or not item["manage_stock"] or not quantity:
                continue
            before = item["stock_quantity"] or 0
            item["stock_quantity"] = before + direction * quantity
            item["_modified"] = self._now()
            changes.append(f"{line['name']} ({line['sku'] or line['product_id']}) {before}&rarr;{item['stock_quantity']}")
            self._emit("product", "updated", item["id"])
        if changes:
            self._note(order, f"{note} {', '.join(changes)}")

    # --- orders ----------------------------------------------------------------------------------
    def _order(self, order_id: int) -> dict:
        order = self.orders.get(order_id)
        if order is None:
            raise wc_error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        return order

    def _order_json(self, order: dict) -> dict:
        data = {key: value for key, value in order.items() if not key.startswith("_")}
        data.update(self._dates("date_created", order["_created"]))
        data.update(self._dates("date_modified", order["_modified"]))
        data.update(self._dates("date_paid", order["_paid"]))
        data.update(self._dates("date_completed", order["_completed"]))
        data["refunds"] = [{"id": refund["id"], "reason": refund["reason"], "total": f"-{refund['amount']}"}
                           for refund in sorted((self.refunds[r] for r in order["_refunds"]), key=lambda r: -r["id"])]
        data["needs_payment"] = order["status"] in ("pending", "failed")
        data["needs_processing"] = True
        data["is_editable"] = order["status"] in ("pending", "on-hold", "auto-draft")
        data["payment_url"] = f"{self.url}/checkout/order-pay/{order['id']}/?pay_for_order=true&key={order['order_key']}"
        links = self._links(f"{API}/orders/{order['id']}", f"{API}/orders")
        if order["customer_id"]:
            links["customer"] = [{"href": f"{self.url}{API}/customers/{order['customer_id']}"}]
        data["_links"] = links
        return data

    def _refunded_total(self, order: dict) -> Decimal:
        return sum((Decimal(self.refunds[r]["amount"]) for r in order["_refunds"]), Decimal(0))

    def _refunded_quantity(self, order: dict, item_id: int) -> int:
        return sum(-line["quantity"] for r in order["_refunds"] for line in self.refunds[r]["line_items"]
                   if any(m["key"] == "_refunded_item_id" and m["value"] == str(item_id) for m in line["meta_data"]))

    def _note(self, order: dict, text: str, *, customer_note: bool = False, author: str = "system") -> dict:
        note = {"id": self.ids.next("comment"), "author": author, "_created": self._now(), "note": text,
                "customer_note": customer_note}
        order["_notes"].append(note)
        return note

    def _note_json(self, order: dict, note: dict) -> dict:
        return {"id": note["id"], "author": note["author"], **self._dates("date_created", note["_created"]), "note": note["note"],
                "customer_note": note["customer_note"],
                "_links": self._links(f"{API}/orders/{order['id']}/notes/{note['id']}", f"{API}/orders/{order['id']}/notes",
                                      f"{API}/orders/{order['id']}")}

    def _tax(self, amount: Decimal, *, inclusive: bool) -> Decimal:
        """The tax in `amount`, as WooCommerce stores it: rounded per line unless the shop rounds at subtotal."""
        rate = self.tax_rate
        raw = amount * rate / (1 + rate) if inclusive else amount * rate
        return raw.quantize(TAX_PRECISION, ROUND_HALF_UP) if self.settings["round_tax_at_subtotal"] else cents(raw)

    def _build_order(self, picks: list[tuple[dict, int]], *, coupon: str | None, fee: Decimal | None,
                     shipping: tuple[str, str, Decimal] | None) -> dict:
        """Line items, shipping, fee and coupon lines and totals (WC_Cart_Totals' arithmetic)."""
        inclusive = self.settings["prices_include_tax"]
        percent = COUPONS.get(coupon.lower(), Decimal(0)) if coupon else Decimal(0)
        lines, net_total, tax_total, discount, discount_tax = [], Decimal(0), Decimal(0), Decimal(0), Decimal(0)
        for item, quantity in picks:
            parent = self.products.get(item.get("parent_id") or 0)
            unit = Decimal(self._price_fields(item)["price"])
            before = unit * quantity
            after = before - cents(before * percent / 100)
            sub_tax, line_tax = self._tax(before, inclusive=inclusive), self._tax(after, inclusive=inclusive)
            sub_net = before - sub_tax if inclusive else before
            line_net = after - line_tax if inclusive else after
            net_total, tax_total = net_total + line_net, tax_total + line_tax
            discount, discount_tax = discount + sub_net - line_net, discount_tax + sub_tax - line_tax
            options = ", ".join(a["option"] for a in item.get("attributes", []) if "option" in a)
            name = f"{parent['name']} - {options}" if parent and options else (parent or item)["name"]
            lines.append({
                "id": self.ids.next("order_item"), "name": name, "product_id": parent["id"] if parent else item["id"],
                "variation_id": item["id"] if parent else 0, "quantity": quantity, "tax_class": "",
                "subtotal": money(sub_net), "subtotal_tax": money(sub_tax), "total": money(line_net), "total_tax": money(line_tax),
                "taxes": [{"id": 1, "total": raw_amount(line_tax), "subtotal": raw_amount(sub_tax)}],
                "meta_data": [{"id": self.ids.next("meta"), "key": _slugify(a["name"]), "value": a["option"],
                               "display_key": a["name"], "display_value": a["option"]} for a in item.get("attributes", []) if "option" in a],
                "sku": item["sku"], "price": number(line_net / quantity),
                "image": {"id": "", "src": ""}, "parent_name": parent["name"] if parent else None,
            })
        method_title, method_id, shipping = shipping or ("", "", Decimal(0))
        shipping_tax = self._tax(shipping, inclusive=False) if self.settings["tax_shipping"] and shipping else Decimal(0)
        fee_tax = self._tax(fee, inclusive=False) if fee else Decimal(0)
        cart_tax = cents(tax_total + fee_tax)
        total = cents(net_total + shipping + (fee or 0)) + cart_tax + cents(shipping_tax)
        order = {
            "discount_total": money(discount), "discount_tax": money(discount_tax), "shipping_total": money(shipping),
            "shipping_tax": money(shipping_tax), "cart_tax": money(cart_tax), "total": money(total),
            "total_tax": money(cart_tax + cents(shipping_tax)), "prices_include_tax": inclusive, "line_items": lines,
            "tax_lines": [{"id": self.ids.next("order_item"), "rate_code": f"FR-TVA-{self.settings['tax_rate']}-1", "rate_id": 1,
                           "label": "TVA", "compound": False, "tax_total": money(cart_tax), "shipping_tax_total": money(shipping_tax),
                           "rate_percent": float(Decimal(self.settings["tax_rate"])), "meta_data": []}],
            "shipping_lines": [{"id": self.ids.next("order_item"), "method_title": method_title, "method_id": method_id,
                                "instance_id": "1", "total": money(shipping), "total_tax": money(shipping_tax),
                                "taxes": [{"id": 1, "total": raw_amount(shipping_tax), "subtotal": ""}] if shipping_tax else [],
                                "meta_data": []}] if method_title or method_id or shipping else [],
            "fee_lines": [], "coupon_lines": [],
        }
        if fee:
            order["fee_lines"].append({"id": self.ids.next("order_item"), "name": "Emballage cadeau", "tax_class": "", "tax_status": "taxable",
                                       "amount": money(fee), "total": money(fee), "total_tax": money(fee_tax),
                                       "taxes": [{"id": 1, "total": raw_amount(fee_tax), "subtotal": ""}], "meta_data": []})
        if percent:
            order["coupon_lines"].append({"id": self.ids.next("order_item"), "code": coupon.lower(), "discount": money(discount),
                                          "discount_tax": money(discount_tax), "meta_data": []})
        return order

    def _person(self, *, email: str | None = None) -> dict:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        city, postcode = self.rng.choice(CITIES)
        plain = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode().lower()
        return {"first_name": first, "last_name": last, "company": "", "address_1": f"{self.rng.randint(1, 120)} {self.rng.choice(STREETS)}",
                "address_2": "", "city": city, "state": "", "postcode": postcode, "country": "FR",
                "email": email or f"{plain}{self.rng.randint(1, 99)}@example.com", "phone": f"06{self.rng.randint(10000000, 99999999)}"}

    def _customer_json(self, customer: dict) -> dict:
        digest = hashlib.md5(customer["email"].lower().encode()).hexdigest()
        return {"id": customer["id"], **self._dates("date_created", customer["_created"]),
                **self._dates("date_modified", customer["_modified"]), "email": customer["email"],
                "first_name": customer["first_name"], "last_name": customer["last_name"], "role": "customer",
                "username": customer["username"], "billing": customer["billing"], "shipping": customer["shipping"],
                "is_paying_customer": customer["is_paying_customer"], "avatar_url": f"https://secure.gravatar.com/avatar/{digest}?s=96&d=mm&r=g",
                "meta_data": [], "_links": self._links(f"{API}/customers/{customer['id']}", f"{API}/customers")}

    def create_customer(self, person: dict) -> dict:
        now = self._now()
        customer = {"id": self.ids.next("user"), "email": person["email"], "first_name": person["first_name"],
                    "last_name": person["last_name"], "username": person["email"].split("@")[0],
                    "billing": dict(person), "shipping": {k: v for k, v in person.items() if k != "email"},
                    "is_paying_customer": False, "_created": now, "_modified": now}
        self.customers[customer["id"]] = customer
        self._emit("customer", "created", customer["id"])
        return customer

    def purchasable(self) -> list[dict]:
        """What a shopper can buy: published simple products and variations with a price, in stock."""
        items = [p for p in self.products.values() if p["type"] == "simple"] + list(self.variations.values())
        return sorted((i for i in items if self._sellable(i) and i["sku"]), key=lambda i: i["id"])

    def _pick(self, line: dict) -> tuple[dict, int]:
        quantity = line.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValueError(f"quantity must be a positive integer, not {quantity!r}")
        if line.get("sku"):
            owner = self._sku_owner(str(line["sku"]))
            item = self.products.get(owner) or self.variations.get(owner) if owner else None
        else:
            item_id = int(line.get("variation_id") or line.get("product_id") or 0)
            item = self.variations.get(item_id) or self.products.get(item_id)
        if item is None or not self._sellable(item):
            raise ValueError(f"{line.get('sku') or line.get('product_id')} cannot be bought in this shop")
        if item["manage_stock"] and item["backorders"] == "no" and (item["stock_quantity"] or 0) < quantity:
            raise ValueError(f'Sorry, we do not have enough "{item["sku"]}" in stock to fulfil your order '
                             f'({item["stock_quantity"]} available).')
        return item, quantity

    def _random_lines(self, count: int | None) -> list[dict]:
        choices = self.purchasable()
        if not choices:
            raise ValueError("the shop has nothing to sell yet")
        picked = self.rng.sample(choices, k=min(len(choices), count or self.rng.randint(1, 5)))
        lines = []
        for item in picked:
            most = item["stock_quantity"] if item["manage_stock"] and item["backorders"] == "no" else 3
            lines.append({"sku": item["sku"], "quantity": self.rng.randint(1, max(1, min(3, most)))})
        return lines

    def place_order(self, *, lines: list[dict] | None = None, line_count: int | None = None, customer: str = "new",
                    email: str | None = None, payment_method: str = "stripe", paid: bool = True, coupon: str | None = None,
                    fee: str | None = None, customer_note: str = "") -> dict:
        """A shopper checks out: `customer` is new (an account is created), returning (an existing
        account) or guest; lines are [{sku|product_id|variation_id, quantity}], or 1-5 random
        purchasable items. The order is created pending, then paid or left awaiting payment as
        the payment method does; stock is reduced like WooCommerce does once the order is
        processing or on hold."""
        if customer not in ("new", "returning", "guest"):
            raise ValueError("customer must be new, returning or guest")
        if payment_method not in PAYMENT_METHODS:
            raise ValueError(f"payment_method must be one of {', '.join(PAYMENT_METHODS)}")
        if coupon and coupon.lower() not in COUPONS:
            raise ValueError(f'Coupon "{coupon}" does not exist!')
        with self.lock:
            picks = [self._pick(line) for line in (lines or self._random_lines(line_count))]
            buyer = None
            if customer == "returning" and self.customers:
                buyer = self.rng.choice(sorted(self.customers.values(), key=lambda c: c["id"]))
            if email:
                buyer = next((c for c in self.customers.values() if c["email"] == email), buyer if customer == "returning" else None)
            person = dict(buyer["billing"]) if buyer else self._person(email=email)
            if buyer is None and customer != "guest":
                buyer = self.create_customer(person)
            title, status_after, _ = PAYMENT_METHODS[payment_method]
            order = self._new_order(person=person, customer_id=buyer["id"] if buyer else 0, payment_method=payment_method,
                                    payment_method_title=title, created_via="checkout", customer_note=customer_note)
            order.update(self._build_order(picks, coupon=coupon, fee=_decimal(fee) if fee else None,
                                           shipping=("Colissimo", "flat_rate", Decimal(self.settings["shipping_cost"]))))
            if paid or status_after == "on-hold":
                if payment_method == "stripe":
                    order["transaction_id"] = f"ch_{self.ids.hex(12)}"
                self._set_status(order, status_after)
            if buyer and order["_paid"]:
                buyer["is_paying_customer"] = True
            # Checkout fires order.created and, once paid, order.updated in the same request; both
            # payloads are built when they are delivered, so both show the order as it ended up.
            self._emit("order", "created", order["id"])
            if order["status"] != "pending":
                self._emit("order", "updated", order["id"])
            return self._order_json(order)

    def _new_order(self, *, person: dict, customer_id: int, payment_method: str, payment_method_title: str, created_via: str,
                   customer_note: str = "") -> dict:
        """An empty pending order, its keys in the order WooCommerce's REST API writes them (dates
        are filled in when rendered)."""
        now = self._now()
        order_id = self.ids.next("post")
        order = {"id": order_id, "parent_id": 0, "number": str(order_id), "order_key": f"wc_order_{self.ids.token(13)}",
                 "created_via": created_via, "version": WC_VERSION, "status": "pending", "currency": self.currency,
                 "date_created": None, "date_created_gmt": None, "date_modified": None, "date_modified_gmt": None,
                 "discount_total": "0.00", "discount_tax": "0.00", "shipping_total": "0.00", "shipping_tax": "0.00",
                 "cart_tax": "0.00", "total": "0.00", "total_tax": "0.00", "prices_include_tax": self.settings["prices_include_tax"],
                 "customer_id": customer_id, "customer_ip_address": f"192.0.2.{self.rng.randint(1, 254)}" if created_via == "checkout" else "",
                 "customer_user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
                 if created_via == "checkout" else "",
                 "customer_note": customer_note, "billing": person, "shipping": {k: v for k, v in person.items() if k != "email"},
                 "payment_method": payment_method, "payment_method_title": payment_method_title, "transaction_id": "",
                 "date_paid": None, "date_paid_gmt": None, "date_completed": None, "date_completed_gmt": None,
                 "cart_hash": self.ids.hex(16) if created_via == "checkout" else "", "meta_data": [], "line_items": [],
                 "tax_lines": [], "shipping_lines": [], "fee_lines": [], "coupon_lines": [], "refunds": [], "payment_url": "",
                 "is_editable": False, "needs_payment": False, "needs_processing": True, "currency_symbol": "€",
                 "_created": now, "_modified": now, "_paid": None, "_completed": None, "_stock_reduced": False,
                 "_notes": [], "_refunds": [], "_trackings": [], "_trashed_status": None}
        self.orders[order_id] = order
        return order

    def order_create(self, data: dict) -> dict:
        """POST /orders: line items by product_id / variation_id (stock is not checked, as in
        WooCommerce), shipping, fee and coupon lines as given; `set_paid` pays it."""
        clean = validate(data, {**ORDER_SCHEMA, "line_items": "array", "shipping_lines": "array", "fee_lines": "array",
                                "coupon_lines": "array"})
        if data.get("id"):
            raise wc_error("woocommerce_rest_shop_order_exists", "Cannot create existing shop_order.", 400)
        picks = []
        for entry in clean.get("line_items") or []:
            entry = entry if isinstance(entry, dict) else {}
            item_id = int(entry.get("variation_id") or entry.get("product_id") or 0)
            item = self.variations.get(item_id) or self.products.get(item_id)
            quantity, problem = _coerce("quantity", entry.get("quantity", 1), "integer")
            if item is None or item.get("type") == "variable" or problem or quantity < 1:
                raise wc_error("woocommerce_rest_invalid_product_id", "Product ID provided is invalid.", 400)
            picks.append((item, quantity))
        shipping_lines = [s for s in clean.get("shipping_lines") or [] if isinstance(s, dict)]
        shipping = sum((_decimal(s.get("total") or 0) or Decimal(0) for s in shipping_lines), Decimal(0))
        method = shipping_lines[0] if shipping_lines else {}
        fee = sum((_decimal(f.get("total") or 0) or Decimal(0) for f in clean.get("fee_lines") or [] if isinstance(f, dict)), Decimal(0))
        codes = [str(c.get("code") or "") for c in clean.get("coupon_lines") or [] if isinstance(c, dict)]
        for code in codes:
            if code.lower() not in COUPONS:
                raise wc_error("woocommerce_rest_invalid_coupon", f'Coupon "{code}" does not exist!', 400)
        customer_id = clean.get("customer_id") or 0
        if customer_id and customer_id not in self.customers:
            raise wc_error("woocommerce_rest_invalid_customer_id", "Customer ID is invalid.", 400)
        blank = {"first_name": "", "last_name": "", "company": "", "address_1": "", "address_2": "", "city": "", "state": "",
                 "postcode": "", "country": "", "email": "", "phone": ""}
        person = {**blank, **{k: str(v) for k, v in (clean.get("billing") or {}).items() if k in blank}}
        payment_method = clean.get("payment_method") or ""
        order = self._new_order(person=person, customer_id=customer_id, payment_method=payment_method,
                                payment_method_title=clean.get("payment_method_title") or PAYMENT_METHODS.get(payment_method, ("",))[0],
                                created_via="rest-api", customer_note=clean.get("customer_note") or "")
        if clean.get("shipping"):
            order["shipping"] = {**order["shipping"], **{k: str(v) for k, v in clean["shipping"].items() if k in order["shipping"]}}
        order.update(self._build_order(picks, coupon=codes[0] if codes else None, fee=fee or None,
                                       shipping=(str(method.get("method_title") or ""), str(method.get("method_id") or ""), shipping)
                                       if shipping_lines else None))
        if clean.get("transaction_id"):
            order["transaction_id"] = clean["transaction_id"]
        if clean.get("set_paid"):
            self._set_status(order, "processing")
        elif clean.get("status") and clean["status"] != "pending":
            self._set_status(order, clean["status"])
        self._emit("order", "created", order["id"])
        return order

    def _set_status(self, order: dict, status: str, *, note: str = "") -> bool:
        old = order["status"]
        if old == status:
            return False
        now = self._now()
        order["status"], order["_modified"] = status, now
        if status in ("processing", "completed") and order["_paid"] is None:
            order["_paid"] = now
        if status == "completed":
            order["_completed"] = now
        self._note(order, f"{note} Order status changed from {STATUS_LABELS[old]} to {STATUS_LABELS[status]}.".strip())
        if status in ("processing", "completed", "on-hold") and not order["_stock_reduced"]:
            order["_stock_reduced"] = True
            self._adjust_stock(order, [(line, line["quantity"]) for line in order["line_items"]], -1, "Stock levels reduced:")
        elif status in ("cancelled", "pending") and order["_stock_reduced"]:
            order["_stock_reduced"] = False
            self._adjust_stock(order, [(line, line["quantity"]) for line in order["line_items"]], +1, "Stock levels increased:")
        if status == "refunded":
            remaining = Decimal(order["total"]) - self._refunded_total(order)
            if remaining > 0:
                self._create_refund(order, amount=remaining, reason="Order fully refunded.", lines=[], restock=False,
                                    api_refund=False, mark_refunded=False)
        return True

    def set_order_status(self, order_id: int, status: str, *, note: str = "") -> dict:
        """The merchant changes an order's status in the admin (fires order.updated)."""
        if status not in ORDER_STATUSES:
            raise ValueError(f"status must be one of {', '.join(ORDER_STATUSES)}")
        with self.lock:
            order = self._order(order_id)
            self._set_status(order, status, note=note)
            self._emit("order", "updated", order_id)
            return self._order_json(order)

    def pay_order(self, order_id: int) -> dict:
        """Payment arrives for an order awaiting it (a bank transfer received)."""
        with self.lock:
            order = self._order(order_id)
            if order["status"] not in ("pending", "on-hold", "failed"):
                raise ValueError(f"order {order_id} is {order['status']}, not awaiting payment")
            self._set_status(order, "processing", note="Payment received.")
            customer = self.customers.get(order["customer_id"])
            if customer:
                customer["is_paying_customer"] = True
            self._emit("order", "updated", order_id)
            return self._order_json(order)

    def cancel_order(self, order_id: int, *, reason: str = "") -> dict:
        with self.lock:
            order = self._order(order_id)
            if order["status"] not in ("pending", "processing", "on-hold", "failed"):
                raise ValueError(f"order {order_id} is {order['status']} and cannot be cancelled")
            self._set_status(order, "cancelled", note=reason)
            self._emit("order", "updated", order_id)
            return self._order_json(order)

    def trash_order(self, order_id: int) -> dict:
        with self.lock:
            order = self._order(order_id)
            if order["status"] != "trash":
                order["_trashed_status"], order["status"], order["_modified"] = order["status"], "trash", self._now()
                self._emit("order", "deleted", order_id)
            return self._order_json(order)

    def restore_order(self, order_id: int) -> dict:
        with self.lock:
            order = self._order(order_id)
            if order["status"] == "trash":
                order["status"], order["_modified"] = order["_trashed_status"] or "pending", self._now()
                self._emit("order", "restored", order_id)
            return self._order_json(order)

    def _create_refund(self, order: dict, *, amount: Decimal | None, reason: str, lines: list[dict], restock: bool,
                       api_refund: bool, mark_refunded: bool = True) -> dict:
        remaining = Decimal(order["total"]) - self._refunded_total(order)
        by_id = {line["id"]: line for line in order["line_items"]}
        refund_lines, computed, restocks = [], Decimal(0), []
        for entry in lines:
            line = by_id.get(int(entry.get("id") or 0)) if str(entry.get("id") or "").isdigit() else None
            if line is None:
                continue
            quantity = int(entry.get("quantity") or 0)
            refund_total = _decimal(entry.get("refund_total") or 0) or Decimal(0)
            refund_tax = sum((_decimal(t.get("refund_total") or 0) or Decimal(0) for t in entry.get("refund_tax") or []
                              if isinstance(t, dict)), Decimal(0))
            computed += refund_total + refund_tax
            refund_lines.append({
                "id": self.ids.next("order_item"), "name": line["name"], "product_id": line["product_id"],
                "variation_id": line["variation_id"], "quantity": -quantity, "tax_class": "",
                "subtotal": money(-refund_total), "subtotal_tax": money(-refund_tax), "total": money(-refund_total),
                "total_tax": money(-refund_tax),
                "taxes": [{"id": 1, "total": raw_amount(-refund_tax), "subtotal": raw_amount(-refund_tax)}] if refund_tax else [],
                "meta_data": [{"id": self.ids.next("meta"), "key": "_refunded_item_id", "value": str(line["id"]),
                               "display_key": "_refunded_item_id", "display_value": str(line["id"])}],
                "sku": line["sku"], "price": number(-refund_total / quantity) if quantity else 0,
            })
            if quantity:
                restocks.append((line, quantity))
        amount = computed if amount is None else amount
        if amount < 0:
            raise wc_error("woocommerce_rest_invalid_order_refund", "Refund amount must be greater than zero.", 400)
        if cents(amount) > remaining:
            raise wc_error("woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.", 500)
        gateway_refunds = PAYMENT_METHODS.get(order["payment_method"], ("", "", False))[2]
        if api_refund and not gateway_refunds:
            raise wc_error("woocommerce_rest_cannot_create_order_refund",
                           "The payment gateway for this order does not support automatic refunds.", 500)
        refund = {"id": self.ids.next("post"), "order_id": order["id"], "_created": self._now(), "amount": money(amount),
                  "reason": reason, "refunded_by": 1, "refunded_payment": bool(api_refund), "meta_data": [],
                  "line_items": refund_lines, "shipping_lines": [], "tax_lines": [], "fee_lines": []}
        self.refunds[refund["id"]] = refund
        order["_refunds"].append(refund["id"])
        order["_modified"] = self._now()
        self._note(order, f"Refunded {money(amount)}&nbsp;&euro;" + (f" &ndash; {reason}" if reason else ""))
        if restock and restocks:
            self._adjust_stock(order, restocks, +1, "Item stock increased:")
        if mark_refunded and cents(amount) == remaining:
            self._set_status(order, "refunded")
        return refund

    def refund_order(self, order_id: int, *, lines: list[dict] | None = None, amount: str | None = None, reason: str = "",
                     restock: bool = True) -> dict:
        """The merchant refunds part of an order in the admin: `lines` are [{line_item_id|sku,
        quantity}] (default: one unit of the first line); the amount follows the lines' paid price
        unless given. Gateways that cannot refund through their API are refunded manually."""
        with self.lock:
            order = self._order(order_id)
            if order["status"] not in ("processing", "completed", "on-hold"):
                raise ValueError(f"order {order_id} is {order['status']} and cannot be refunded")
            wanted = lines or [{"line_item_id": order["line_items"][0]["id"], "quantity": 1}]
            entries = []
            for entry in wanted:
                line = next((l for l in order["line_items"] if l["id"] == int(entry.get("line_item_id") or 0) or
                             (entry.get("sku") and l["sku"] == entry.get("sku"))), None)
                if line is None:
                    raise ValueError(f"no line {entry.get('line_item_id') or entry.get('sku')} in order {order_id}")
                quantity = int(entry.get("quantity") or 1)
                already = self._refunded_quantity(order, line["id"])
                if quantity < 1 or already + quantity > line["quantity"]:
                    raise ValueError(f"cannot refund {quantity} more of line {line['id']}")
                share = self._refund_share(order, line, quantity, last=already + quantity == line["quantity"])
                entries.append({"id": line["id"], "quantity": quantity, **share})
            api_refund = PAYMENT_METHODS[order["payment_method"]][2]
            refund = self._create_refund(order, amount=_decimal(amount) if amount is not None else None, reason=reason,
                                         lines=entries, restock=restock, api_refund=api_refund)
            self._emit("order", "updated", order_id)
            return self._refund_json(refund)

    def _refund_share(self, order: dict, line: dict, quantity: int, *, last: bool) -> dict:
        """What `quantity` units of a line give back: the price paid per unit, tax included; the
        last units take whatever is left so a line refunded in full refunds exactly what was paid."""
        paid_net, paid_tax = Decimal(line["total"]), Decimal(line["total_tax"])
        if last:
            done = [item for r in order["_refunds"] for item in self.refunds[r]["line_items"]
                    if any(m["key"] == "_refunded_item_id" and m["value"] == str(line["id"]) for m in item["meta_data"])]
            tax = paid_tax + sum((Decimal(item["total_tax"]) for item in done), Decimal(0))
            net = paid_net + sum((Decimal(item["total"]) for item in done), Decimal(0))
        else:
            tax = cents(paid_tax * quantity / line["quantity"])
            net = cents((paid_net + paid_tax) * quantity / line["quantity"]) - tax
        return {"refund_total": str(net), "refund_tax": [{"id": 1, "refund_total": str(tax)}]}

    def _refund_json(self, refund: dict) -> dict:
        order_id = refund["order_id"]
        data = {key: value for key, value in refund.items() if not key.startswith("_") and key != "order_id"}
        return {"id": refund["id"], **self._dates("date_created", refund["_created"]), **{k: v for k, v in data.items() if k != "id"},
                "_links": self._links(f"{API}/orders/{order_id}/refunds/{refund['id']}", f"{API}/orders/{order_id}/refunds",
                                      f"{API}/orders/{order_id}")}

    def order_update(self, order_id: int, data: dict) -> dict:
        order = self._order(order_id)
        clean = validate(data, ORDER_SCHEMA)
        for key in ("customer_note", "transaction_id", "payment_method", "payment_method_title"):
            if clean.get(key) is not None:
                order[key] = clean[key]
        for key in ("billing", "shipping"):
            if clean.get(key):
                order[key] = {**order[key], **{k: str(v) for k, v in clean[key].items() if k in order[key]}}
        if clean.get("meta_data") is not None:
            order["meta_data"] = [{"id": self.ids.next("meta"), "key": str(m.get("key", "")), "value": m.get("value")}
                                  for m in clean["meta_data"] if isinstance(m, dict)]
        if clean.get("set_paid"):
            self._set_status(order, "processing")
        if clean.get("status"):
            if clean["status"] == "trash":
                order["_trashed_status"], order["status"] = order["status"], "trash"
            else:
                self._set_status(order, clean["status"])
        order["_modified"] = self._now()
        self._emit("order", "updated", order_id)
        return order

    # order routes
    @route("GET", API + "/orders")
    def orders_list(self, request):
        statuses = self._list_arg(request, "status") or ["any"]
        bad = [s for s in statuses if s not in (*ORDER_STATUSES, "any", "trash", "checkout-draft")]
        if bad:
            raise invalid_params({"status[0]": ("rest_not_in_enum", "status[0] is not one of any, trash, auto-draft, "
                                                f"{', '.join(ORDER_STATUSES)}, checkout-draft.")})
        orders = [o for o in self.orders.values()
                  if (o["status"] != "trash" if "any" in statuses else o["status"] in statuses)]
        customer = self._int_arg(request, "customer", None)
        if customer is not None:
            orders = [o for o in orders if o["customer_id"] == customer]
        if include := self._ids_arg(request, "include"):
            orders = [o for o in orders if o["id"] in include]
        if exclude := self._ids_arg(request, "exclude"):
            orders = [o for o in orders if o["id"] not in exclude]
        if search := request.arg("search"):
            orders = [o for o in orders if search.lower() in json.dumps(o["billing"], ensure_ascii=False).lower()]
        orders = self._filter_dates(request, orders)
        orders = self._sort(request, orders, {"date": lambda o: o["_created"], "id": lambda o: o["id"],
                                              "title": lambda o: o["_created"], "slug": lambda o: o["id"],
                                              "modified": lambda o: o["_modified"]})
        return self._page(request, orders, API + "/orders", self._order_json)

    @route("GET", API + "/orders/<int:order_id>")
    def orders_get(self, request, order_id):
        return self._order_json(self._order(order_id))

    @route("PUT", API + "/orders/<int:order_id>")
    @route("PATCH", API + "/orders/<int:order_id>")
    @route("POST", API + "/orders/<int:order_id>")
    def orders_update(self, request, order_id):
        return self._order_json(self.order_update(order_id, self._body(request)))

    @route("DELETE", API + "/orders/<int:order_id>")
    def orders_delete(self, request, order_id):
        order = self._order(order_id)
        if self._bool_arg(request, "force"):
            rendered = self._order_json(order)
            del self.orders[order_id]
            self._emit("order", "deleted", order_id)
            return rendered
        return self.trash_order(order_id)

    @route("POST", API + "/orders")
    def orders_create(self, request):
        order = self.order_create(self._body(request))
        return self.json(self._order_json(order), 201, {"Location": f"{self.url}{API}/orders/{order['id']}"})

    @route("POST", API + "/orders/batch")
    def orders_batch(self, request):
        return self._batch(request, create=lambda data: self._order_json(self.order_create(data)),
                           update=lambda item_id, data: self._order_json(self.order_update(item_id, data)),
                           delete=lambda item_id: self.trash_order(self._order(item_id)["id"]))

    @route("GET", API + "/orders/<int:order_id>/notes")
    def notes_list(self, request, order_id):
        order = self._order(order_id)
        kind = request.arg("type") or "any"
        if kind not in ("any", "customer", "internal"):
            raise invalid_params({"type": ("rest_not_in_enum", "type is not one of any, customer, internal.")})
        notes = [n for n in reversed(order["_notes"]) if kind == "any" or n["customer_note"] == (kind == "customer")]
        return [self._note_json(order, n) for n in notes]

    @route("POST", API + "/orders/<int:order_id>/notes")
    def notes_create(self, request, order_id):
        body = self._body(request)
        order = self._order(order_id)
        if not body.get("note"):
            raise wc_error("rest_missing_callback_param", "Missing parameter(s): note", 400, params=["note"])
        clean = validate(body, {"note": "string", "customer_note": "boolean", "added_by_user": "boolean"})
        note = self._note(order, clean["note"], customer_note=bool(clean.get("customer_note")),
                          author="admin" if clean.get("added_by_user") else "system")
        return self.json(self._note_json(order, note), 201)

    @route("GET", API + "/orders/<int:order_id>/notes/<int:note_id>")
    def notes_get(self, request, order_id, note_id):
        order = self._order(order_id)
        note = next((n for n in order["_notes"] if n["id"] == note_id), None)
        if note is None:
            raise wc_error("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)
        return self._note_json(order, note)

    @route("GET", API + "/orders/<int:order_id>/refunds")
    def refunds_list(self, request, order_id):
        order = self._order(order_id)
        refunds = sorted((self.refunds[r] for r in order["_refunds"]), key=lambda r: (r["_created"], r["id"]), reverse=True)
        return self._page(request, refunds, f"{API}/orders/{order_id}/refunds", self._refund_json)

    @route("POST", API + "/orders/<int:order_id>/refunds")
    def refunds_create(self, request, order_id):
        body = self._body(request)
        if order_id not in self.orders:
            raise wc_error("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
        order = self.orders[order_id]
        clean = validate(body, {"amount": "string", "reason": "string", "line_items": "array", "api_refund": "boolean",
                                "api_restock": "boolean"})
        amount = None
        if clean.get("amount") not in (None, ""):
            amount = _decimal(clean["amount"])
            if amount is None:
                raise invalid_params({"amount": ("rest_invalid_type", "amount is not of type string.")})
        refund = self._create_refund(order, amount=amount, reason=clean.get("reason") or "",
                                     lines=[e for e in clean.get("line_items") or [] if isinstance(e, dict)],
                                     restock=clean.get("api_restock", True), api_refund=clean.get("api_refund", True))
        self._emit("order", "updated", order_id)
        return self.json(self._refund_json(refund), 201)

    @route("GET", API + "/orders/<int:order_id>/refunds/<int:refund_id>")
    def refunds_get(self, request, order_id, refund_id):
        order = self._order(order_id)
        if refund_id not in order["_refunds"]:
            raise wc_error("woocommerce_rest_invalid_id", "Invalid ID.", 404)
        return self._refund_json(self.refunds[refund_id])

    # --- customers -------------------------------------------------------------------------------
    @route("GET", API + "/customers")
    def customers_list(self, request):
        customers = list(self.customers.values())
        if email := request.arg("email"):
            customers = [c for c in customers if c["email"].lower() == email.lower()]
        if include := self._ids_arg(request, "include"):
            customers = [c for c in customers if c["id"] in include]
        customers = self._sort(request, customers, {"name": lambda c: c["username"], "id": lambda c: c["id"],
                                                    "registered_date": lambda c: c["_created"]}, default="name")
        return self._page(request, customers, API + "/customers", self._customer_json)

    @route("GET", API + "/customers/<int:customer_id>")
    def customers_get(self, request, customer_id):
        customer = self.customers.get(customer_id)
        if customer is None:
            raise wc_error("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)
        return self._customer_json(customer)

    # --- webhooks --------------------------------------------------------------------------------
    def _webhook_new(self, *, name: str, topic: str, delivery_url: str, secret: str) -> dict:
        now = self._now()
        hook = {"id": self.ids.next("webhook"), "name": name or f"Webhook created on {now.astimezone(self.tz):%b %d, %Y @ %I:%M %p}",
                "status": "active", "topic": topic, "delivery_url": delivery_url,
                "secret": secret or self.ids.token(50, GENERATED_SECRET_CHARACTERS),
                "pending_delivery": True, "_created": now, "_modified": now}
        self.hooks[hook["id"]] = hook
        return hook

    def _webhook_json(self, hook: dict) -> dict:
        resource, _, event = hook["topic"].partition(".")
        return {"id": hook["id"], "name": hook["name"], "status": hook["status"], "topic": hook["topic"], "resource": resource,
                "event": event, "hooks": TOPIC_HOOKS.get(hook["topic"], [event] if resource == "action" else []),
                "delivery_url": hook["delivery_url"], **self._dates("date_created", hook["_created"]),
                **self._dates("date_modified", hook["_modified"]), "_links": self._links(f"{API}/webhooks/{hook['id']}", f"{API}/webhooks")}

    @staticmethod
    def _valid_topic(topic: str) -> bool:
        resource, _, event = topic.partition(".")
        if resource == "action":
            return bool(event)
        return topic in TOPIC_HOOKS

    @staticmethod
    def _valid_url(url: str) -> bool:
        return bool(re.match(r"^https?://[^\s/]+", url or ""))

    def _ping(self, hook: dict) -> None:
        """WC_Webhook::deliver_ping — synchronous, form-encoded, unsigned; a 200 clears pending_delivery."""
        record = self.webhooks.send_now(hook["delivery_url"], f"webhook_id={hook['id']}".encode(), topic="ping",
                                        headers={"User-Agent": USER_AGENT, "Content-Type": "application/x-www-form-urlencoded"},
                                        timeout=5.0)
        if record.status == 200:
            with self.lock:
                hook["pending_delivery"] = False

    @route("GET", API + "/webhooks")
    def webhooks_list(self, request):
        hooks = list(self.hooks.values())
        if status := request.arg("status"):
            if status not in ("all", *WEBHOOK_STATUSES):
                raise invalid_params({"status": ("rest_not_in_enum", "status is not one of all, active, paused, disabled.")})
            hooks = [h for h in hooks if status == "all" or h["status"] == status]
        hooks = self._sort(request, hooks, {"date": lambda h: h["_created"], "id": lambda h: h["id"], "title": lambda h: h["name"]})
        return self._page(request, hooks, API + "/webhooks", self._webhook_json)

    @route("POST", API + "/webhooks", locked=False)
    def webhooks_create(self, request):
        with self.lock:
            body = self._body(request)
            if body.get("id"):
                raise wc_error("woocommerce_rest_webhook_exists", "Cannot create existing webhook.", 400)
            clean = validate(body, WEBHOOK_SCHEMA)
            topic = (clean.get("topic") or "").lower()
            if not topic or not self._valid_topic(topic):
                raise wc_error("woocommerce_rest_webhook_invalid_topic", "Webhook topic is required and must be valid.", 400)
            if not self._valid_url(clean.get("delivery_url") or ""):
                raise wc_error("woocommerce_rest_webhook_invalid_delivery_url",
                               "Webhook delivery URL must be a valid URL starting with http:// or https://.", 400)
            hook = self._webhook_new(name=clean.get("name") or "", topic=topic, delivery_url=clean["delivery_url"],
                                     secret=clean.get("secret") or "")
            response = self.json(self._webhook_json(hook), 201, {"Location": f"{self.url}{API}/webhooks/{hook['id']}"})
        self._ping(hook)
        return response

    @route("GET", API + "/webhooks/<int:webhook_id>")
    def webhooks_get(self, request, webhook_id):
        return self._webhook_json(self._hook(webhook_id, 404))

    def _hook(self, webhook_id: int, status: int) -> dict:
        hook = self.hooks.get(webhook_id)
        if hook is None:
            raise wc_error("woocommerce_rest_webhook_invalid_id", "Invalid ID." if status == 404 else "ID is invalid.", status)
        return hook

    @route("PUT", API + "/webhooks/<int:webhook_id>", locked=False)
    @route("PATCH", API + "/webhooks/<int:webhook_id>", locked=False)
    @route("POST", API + "/webhooks/<int:webhook_id>", locked=False)
    def webhooks_update(self, request, webhook_id):
        with self.lock:
            hook = self._hook(webhook_id, 400)
            clean = validate(self._body(request), WEBHOOK_SCHEMA)
            if clean.get("topic"):
                if not self._valid_topic(clean["topic"].lower()):
                    raise wc_error("woocommerce_rest_webhook_invalid_topic", "Webhook topic must be valid.", 400)
                hook["topic"] = clean["topic"].lower()
            url_changed = False
            if clean.get("delivery_url"):
                if not self._valid_url(clean["delivery_url"]):
                    raise wc_error("woocommerce_rest_webhook_invalid_delivery_url",
                                   "Webhook delivery URL must be a valid URL starting with http:// or https://.", 400)
                url_changed = clean["delivery_url"] != hook["delivery_url"]
                hook["delivery_url"] = clean["delivery_url"]
            if clean.get("secret"):
                hook["secret"] = clean["secret"]
            if clean.get("name"):
                hook["name"] = clean["name"]
            if clean.get("status"):
                hook["status"] = clean["status"]
                if clean["status"] == "active":
                    self.webhooks.enable(webhook_id, reset_failures=False)  # WooCommerce keeps the failure count
            hook["_modified"] = self._now()
            ping = hook["status"] == "active" and (url_changed or hook["pending_delivery"])
            answer = self._webhook_json(hook)
        if ping:
            self._ping(hook)
        return answer

    @route("DELETE", API + "/webhooks/<int:webhook_id>")
    def webhooks_delete(self, request, webhook_id):
        if not self._bool_arg(request, "force"):
            raise wc_error("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
        hook = self._hook(webhook_id, 404)
        answer = self._webhook_json(hook)
        del self.hooks[webhook_id]
        self.webhooks.forget(webhook_id)
        return answer

    def _emit(self, resource: str, event: str, resource_id: int) -> None:
        topic = f"{resource}.{event}"
        subscribers = [h for h in self.hooks.values() if h["topic"] == topic and h["status"] == "active"]
        if not subscribers:
            return
        if event == "deleted":
            payload = {"id": resource_id}
        elif resource == "order":
            payload = self._order_json(self.orders[resource_id])
        elif resource == "product":
            payload = self._item_json(resource_id)
        elif resource == "customer":
            payload = self._customer_json(self.customers[resource_id])
        else:
            payload = {"id": resource_id}
        body = php_json(payload).strip()
        for hook in subscribers:
            headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "X-WC-Webhook-Source": f"{self.url}/",
                       "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": resource, "X-WC-Webhook-Event": event,
                       "X-WC-Webhook-Signature": signature(hook["secret"], body), "X-WC-Webhook-ID": str(hook["id"])}
            self.webhooks.enqueue(hook["delivery_url"], body, headers=headers, topic=topic, subscription=hook["id"])

    def before_webhook_send(self, delivery, headers: dict) -> dict:
        """The delivery id is `wp_hash(webhook id . time())`, computed when the delivery is sent."""
        stamp = f"{delivery.subscription}{int(self.clock.timestamp())}".encode()
        return {**headers, "X-WC-Webhook-Delivery-ID": hmac.new(self._salt, stamp, hashlib.md5).hexdigest()}

    def on_webhook_disabled(self, subscription) -> None:
        with self.lock:
            hook = self.hooks.get(subscription)
            if hook is not None:
                hook["status"], hook["_modified"] = "disabled", self._now()

    # --- shipment tracking extension -------------------------------------------------------------
    def _tracking_order(self, order_id: int) -> dict:
        if not self.settings["shipment_tracking"]:
            raise no_route()
        if order_id not in self.orders:
            raise wc_error("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
        return self.orders[order_id]

    def _tracking_json(self, order_id: int, item: dict) -> dict:
        return {**item, "_links": self._links(f"{TRACKING_API}/orders/{order_id}/shipment-trackings/{item['tracking_id']}",
                                              f"{TRACKING_API}/orders/{order_id}/shipment-trackings", f"{API}/orders/{order_id}")}

    @route("GET", TRACKING_API + "/orders/<int:order_id>/shipment-trackings/providers")
    def tracking_providers(self, request, order_id):
        self._tracking_order(order_id)
        return TRACKING_PROVIDERS

    @route("GET", TRACKING_API + "/orders/<int:order_id>/shipment-trackings")
    def tracking_list(self, request, order_id):
        order = self._tracking_order(order_id)
        return [self._tracking_json(order_id, item) for item in order["_trackings"]]

    @route("POST", TRACKING_API + "/orders/<int:order_id>/shipment-trackings")
    def tracking_create(self, request, order_id):
        order = self._tracking_order(order_id)
        body = self._body(request)
        if not body.get("tracking_number"):
            raise wc_error("rest_missing_callback_param", "Missing parameter(s): tracking_number", 400, params=["tracking_number"])
        number_text = str(body["tracking_number"]).strip()
        custom = str(body.get("custom_tracking_provider") or "").strip()
        provider = custom or str(body.get("tracking_provider") or "").strip()
        known = {name: url for providers in TRACKING_PROVIDERS.values() for name, url in providers.items()}
        link = str(body.get("custom_tracking_link") or "") if custom else known.get(provider, "").replace("%1$s", number_text)
        shipped = body.get("date_shipped")
        if shipped:
            try:
                shipped_on = (datetime.fromtimestamp(int(shipped), timezone.utc) if str(shipped).isdigit()
                              else datetime.fromisoformat(str(shipped))).strftime("%Y-%m-%d")
            except (ValueError, OverflowError):
                raise invalid_params({"date_shipped": ("rest_invalid_date", "Invalid date.")}) from None
        else:
            shipped_on = self._now().astimezone(self.tz).strftime("%Y-%m-%d")
        item = {"tracking_id": hashlib.md5(f"{provider}-{number_text}-{self.ids.hex(4)}".encode()).hexdigest(),
                "tracking_provider": provider, "tracking_link": link, "tracking_number": number_text, "date_shipped": shipped_on}
        order["_trackings"].append(item)
        order["_modified"] = self._now()
        self._emit("order", "updated", order_id)
        return self.json(self._tracking_json(order_id, item), 201)

    @route("GET", TRACKING_API + "/orders/<int:order_id>/shipment-trackings/<tracking_id>")
    def tracking_get(self, request, order_id, tracking_id):
        order = self._tracking_order(order_id)
        item = next((t for t in order["_trackings"] if t["tracking_id"] == tracking_id), None)
        if item is None:
            raise wc_error("woocommerce_rest_order_invalid_id", "Invalid tracking ID.", 404)
        return self._tracking_json(order_id, item)

    @route("DELETE", TRACKING_API + "/orders/<int:order_id>/shipment-trackings/<tracking_id>")
    def tracking_delete(self, request, order_id, tracking_id):
        order = self._tracking_order(order_id)
        item = next((t for t in order["_trackings"] if t["tracking_id"] == tracking_id), None)
        if item is None:
            raise wc_error("woocommerce_rest_order_invalid_id", "Invalid tracking ID.", 404)
        order["_trackings"].remove(item)
        return {"message": "Shipment tracking deleted"}

    # --- discovery and status --------------------------------------------------------------------
    def _namespaces(self) -> list[str]:
        return ["wp/v2", "wc/v3"] + (["wc-shipment-tracking/v3"] if self.settings["shipment_tracking"] else [])

    @route("GET", "/wp-json", auth=False)
    def index(self, request):
        return {"name": self.site_name, "description": "", "url": self.url, "home": self.url, "gmt_offset": "1",
                "timezone_string": str(self.tz), "namespaces": self._namespaces(), "authentication": [], "routes": {}}

    @route("GET", API, auth=False)
    def namespace_index(self, request):
        routes = {}
        for entry in self.routes(control=False):
            if not entry.pattern.startswith(API):
                continue
            wp_pattern = re.sub(r"<int:(\w+)>", r"(?P<\1>[\\d]+)", entry.pattern[len("/wp-json"):])
            routes.setdefault(wp_pattern, {"namespace": "wc/v3", "methods": []})["methods"].append(entry.method)
        return {"namespace": "wc/v3", "routes": routes, "_links": {"up": [{"href": f"{self.url}/wp-json/"}]}}

    @route("GET", API + "/system_status")
    def system_status(self, request):
        plugins = [{"plugin": "woocommerce/woocommerce.php", "name": "WooCommerce", "version": WC_VERSION, "author_name": "Automattic"}]
        if self.settings["shipment_tracking"]:
            plugins.append({"plugin": "woocommerce-shipment-tracking/woocommerce-shipment-tracking.php",
                            "name": "WooCommerce Shipment Tracking", "version": "2.6.0", "author_name": "WooCommerce"})
        return {"environment": {"home_url": self.url, "site_url": self.url, "version": WC_VERSION, "wp_version": WP_VERSION,
                                "wp_multisite": False, "language": "fr_FR", "default_timezone": "UTC"},
                "settings": {"api_enabled": True, "force_ssl": False, "currency": self.currency, "currency_symbol": "&euro;",
                             "currency_position": "right_space", "thousand_separator": " ", "decimal_separator": ",",
                             "number_of_decimals": 2, "geolocation_enabled": False,
                             "woocommerce_prices_include_tax": "yes" if self.settings["prices_include_tax"] else "no",
                             "woocommerce_tax_round_at_subtotal": "yes" if self.settings["round_tax_at_subtotal"] else "no"},
                "active_plugins": plugins}

    # --- control API (not WooCommerce: shoppers and the merchant, for tests and the demo) ---------
    def state(self) -> dict:
        return {"settings": dict(self.settings), "products": len(self.products), "variations": len(self.variations),
                "orders": len(self.orders), "customers": len(self.customers),
                "skus": [item["sku"] for item in self.purchasable()],
                "open_orders": sorted(o["id"] for o in self.orders.values() if o["status"] in ("processing", "on-hold")),
                "awaiting_payment": sorted(o["id"] for o in self.orders.values() if o["status"] in ("pending", "on-hold")),
                "refundable_orders": sorted(o["id"] for o in self.orders.values() if o["status"] in ("processing", "completed")
                                            and any(self._refunded_quantity(o, l["id"]) < l["quantity"] for l in o["line_items"])),
                "webhooks": [{"id": h["id"], "topic": h["topic"], "status": h["status"], "delivery_url": h["delivery_url"],
                              "failures": self.webhooks.failures(h["id"])} for h in self.hooks.values()]}

    @control("POST", "orders")
    def control_place_order(self, request):
        body = request.json() or {}
        return self.json(self.place_order(lines=body.get("lines"), line_count=body.get("line_count"),
                                          customer=body.get("customer", "new"), email=body.get("email"),
                                          payment_method=body.get("payment_method", "stripe"), paid=body.get("paid", True),
                                          coupon=body.get("coupon"), fee=body.get("fee"), customer_note=body.get("customer_note", "")), 201)

    @control("GET", "orders/<int:order_id>")
    def control_order(self, request, order_id):
        return self._order_json(self._order(order_id))

    @control("POST", "orders/<int:order_id>/status")
    def control_status(self, request, order_id):
        body = request.json() or {}
        return self.set_order_status(order_id, body["status"], note=body.get("note", ""))

    @control("POST", "orders/<int:order_id>/pay")
    def control_pay(self, request, order_id):
        return self.pay_order(order_id)

    @control("POST", "orders/<int:order_id>/cancel")
    def control_cancel(self, request, order_id):
        return self.cancel_order(order_id, reason=(request.json() or {}).get("reason", ""))

    @control("POST", "orders/<int:order_id>/refunds")
    def control_refund(self, request, order_id):
        body = request.json() or {}
        return self.json(self.refund_order(order_id, lines=body.get("lines"), amount=body.get("amount"),
                                           reason=body.get("reason", ""), restock=body.get("restock", True)), 201)

    @control("POST", "orders/<int:order_id>/trash")
    def control_trash(self, request, order_id):
        return self.trash_order(order_id)

    @control("POST", "orders/<int:order_id>/restore")
    def control_restore(self, request, order_id):
        return self.restore_order(order_id)

    def seed_products(self, products: list[dict]) -> list[dict]:
        """Create products (REST create bodies, variable ones with a `variations` list) without webhooks."""
        created = []
        with self.lock:
            for data in products:
                product = self.product_create({k: v for k, v in data.items() if k != "variations"}, notify=False)
                for variation in data.get("variations") or []:
                    self.variation_create(product["id"], variation, notify=False)
                created.append(self._product_json(product))
        return created

    @control("POST", "products")
    def control_products(self, request):
        return self.json({"products": self.seed_products((request.json() or {}).get("products") or [])}, 201)

    def add_key(self, permissions: str = "read_write") -> tuple[str, str]:
        if permissions not in ("read", "write", "read_write"):
            raise ValueError("permissions must be read, write or read_write")
        with self.lock:
            key, secret = f"ck_{self.ids.hex(20)}", f"cs_{self.ids.hex(20)}"
            self.keys[key] = (secret, permissions)
            return key, secret

    @control("POST", "keys")
    def control_keys(self, request):
        key, secret = self.add_key((request.json() or {}).get("permissions", "read_write"))
        return {"consumer_key": key, "consumer_secret": secret}

    def update_settings(self, **changes) -> dict:
        problems = [name for name, value in changes.items()
                    if name not in SETTINGS_SCHEMA or not isinstance(value, SETTINGS_SCHEMA[name])]
        if problems:
            raise ValueError(f"unknown or mistyped settings: {', '.join(problems)} (known: {', '.join(SETTINGS_SCHEMA)})")
        for name in ("tax_rate", "shipping_cost"):
            if name in changes and _decimal(changes[name]) is None:
                raise ValueError(f"{name} must be a decimal number as a string")
        with self.lock:
            self.settings.update(changes)
            return dict(self.settings)

    @control("POST", "settings")
    def control_settings(self, request):
        return {"settings": self.update_settings(**(request.json() or {}))}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Run a WooCommerce sandbox shop (REST API wc/v3) in the foreground.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--consumer-key", required=True)
    parser.add_argument("--consumer-secret", required=True)
    parser.add_argument("--webhook-url", default="", help="subscribe this URL to --topics (as if done in the admin)")
    parser.add_argument("--webhook-secret", default="")
    parser.add_argument("--topics", default="order.created,order.updated,order.deleted,order.restored")
    parser.add_argument("--shipment-tracking", action="store_true", help="the Shipment Tracking extension is installed")
    parser.add_argument("--prices-exclude-tax", action="store_true")
    parser.add_argument("--round-tax-at-subtotal", action="store_true")
    parser.add_argument("--duplicate-rate", type=float, default=0.0, help="share of webhooks delivered twice")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    hooks = [{"topic": topic.strip(), "delivery_url": args.webhook_url, "secret": args.webhook_secret}
             for topic in args.topics.split(",") if topic.strip()] if args.webhook_url else []
    sandbox = WooCommerceSandbox(consumer_key=args.consumer_key, consumer_secret=args.consumer_secret, host=args.host, port=args.port,
                                 shipment_tracking=args.shipment_tracking, prices_include_tax=not args.prices_exclude_tax,
                                 round_tax_at_subtotal=args.round_tax_at_subtotal, webhooks=hooks, seed=args.seed)
    if args.duplicate_rate:
        sandbox.set_faults(webhook_duplicate_rate=args.duplicate_rate)
    print(f"WooCommerce sandbox on {sandbox.url} (REST API {sandbox.url}{API}, control API {sandbox.url}/_sandbox/state)", flush=True)
    sandbox.serve_forever()


if __name__ == "__main__":
    main()
