"""A Magento 2 / Adobe Commerce shop on localhost, speaking the REST API (`/rest/<store_code>/V1/…`)
as Adobe's documentation (AdobeDocs/commerce-webapi: the REST tutorials, "Search using REST
endpoints", "Status codes and responses", "Token-based authentication", MSI "Manage source
items") and the generated admin schema (`src/openapi/admin-schema-2.4.8.yaml`) describe it:

- Bearer tokens: admin tokens from `POST /V1/integration/admin/token` (a JSON string, valid
  `admin_token_lifetime` seconds, 4 hours by default); an integration access token is accepted
  as a bearer token only when the store allows it (`integration_as_bearer`, off by default as in
  2.4.4+). Refusals are 401 `{"message": "The consumer isn't authorized to access %resources.",
  "parameters": {"resources": …}}`.
- Error bodies are message templates with `parameters` (`%1` by position, `%name` by name), and
  `errors` lists for several problems; unknown routes are 404 "Request does not match any route.".
- `searchCriteria`: `filter_groups` (AND) of `filters` (OR) with `condition_type`, `sortOrders`,
  `pageSize`, `currentPage`; every answer echoes `search_criteria` with `total_count`. Without a
  page size, everything; page 0 is page 1; a page past the end answers the LAST page again
  (Magento's collections do that; `repeat_last_page=False` answers an empty page instead).
- Catalogue: simple and configurable products (`POST /V1/products`, `PUT /V1/products/{sku}` —
  both save: an existing SKU is updated), URL keys unique per store, select attributes with
  options (`/V1/products/attributes/{code}[/options]`), configurable options and children
  (`/V1/configurable-products/{sku}/options|child|children`), base prices in bulk
  (`POST /V1/products/base-prices`: 200 with the refused rows, never an error status; prices of
  configurable parents are refused, children carry them).
- MSI: sources and `POST|GET /V1/inventory/source-items` (quantity per SKU and source).
- Sales: orders with `updated_at` in UTC (`Y-m-d H:i:s`), configurable lines as a parent item
  (the child's SKU, the price) and a child item (price 0) — as in Adobe's order samples;
  `POST /V1/orders/{id}/cancel` answers `false` for an order that cannot be cancelled (invoiced,
  complete, closed); `POST /V1/order/{id}/ship` with items and tracks (a full shipment of an
  invoiced order completes it); credit memos (`POST /V1/order/{id}/refund`, `GET /V1/creditmemos`).
- No webhooks (Magento Open Source sends none): integrations poll `updated_at`.

The control API (`/_sandbox/…`) places orders as shoppers would and acts as the merchant in the
admin (invoice, cancel, credit memo). Standard library and the harness only."""

import argparse
import hmac
import math
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import unquote

from connectors.testing.harness import Abort, Request, Response, Sandbox, control, json_response, raw_response, route

V1 = "/rest/<store>/V1"
CENT = Decimal("0.01")
DEFAULT_ATTRIBUTE_SET = 4  # "Default" for catalog_product
PRICE_TYPES = ("simple", "virtual", "downloadable")  # types whose own price base-prices may set
NOT_CANCELLABLE = ("canceled", "complete", "closed", "holded", "payment_review")
RESOURCES = (("/products", "Magento_Catalog::products"), ("/configurable-products", "Magento_Catalog::products"),
             ("/inventory", "Magento_InventoryApi::source"), ("/store", "Magento_Backend::store"),
             ("/creditmemo", "Magento_Sales::sales_creditmemo"), ("/shipment", "Magento_Sales::shipment"),
             ("/order", "Magento_Sales::actions_view"))


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def number(value):
    """Amounts are JSON numbers in Magento's answers (22, 19.9)."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def magento_error(message: str, status: int = 400, parameters=None, errors=None) -> Abort:
    body = {"message": message}
    if parameters is not None:
        body["parameters"] = parameters
    if errors:
        body["errors"] = errors
    return Abort(json_response(body, status))


def not_found(what: str = "entity") -> Abort:
    if what == "product":
        return magento_error("The product that was requested doesn't exist. Verify the product and try again.", 404)
    return magento_error("The entity that was requested doesn't exist. Verify the entity and try again.", 404)


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


# --- searchCriteria -------------------------------------------------------------------------------

_KEY = re.compile(r"^searchCriteria((?:\[[^\]]*\])+)$")


def parse_search_criteria(query: dict[str, list[str]]) -> dict:
    """`searchCriteria[filter_groups][0][filters][0][field]=…` (or the camelCase spelling) → nested dict."""
    tree: dict = {}
    for key, values in query.items():
        match = _KEY.match(key)
        if not match:
            continue
        parts = [re.sub(r"(?<!^)(?=[A-Z])", "_", part).lower() for part in re.findall(r"\[([^\]]*)\]", match.group(1))]
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = values[-1]
    criteria = {"filter_groups": [], "sort_orders": [], "page_size": None, "current_page": None}
    for _, group in sorted((tree.get("filter_groups") or {}).items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0):
        filters = [{"field": f.get("field", ""), "value": f.get("value", ""), "condition_type": f.get("condition_type") or "eq"}
                   for _, f in sorted((group.get("filters") or {}).items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0)]
        criteria["filter_groups"].append({"filters": filters})
    for _, order in sorted((tree.get("sort_orders") or {}).items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0):
        criteria["sort_orders"].append({"field": order.get("field", ""), "direction": (order.get("direction") or "DESC").upper()})
    for name in ("page_size", "current_page"):
        if tree.get(name) not in (None, ""):
            try:
                criteria[name] = int(tree[name])
            except ValueError:
                raise magento_error('The "%1" value\'s type is invalid. The "%2" type was expected. Verify and try again.',
                                    400, [tree[name], "int"]) from None
    return criteria


def _comparable(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)


def _matches(item: dict, flt: dict) -> bool:
    field, condition, wanted = flt["field"], flt["condition_type"], flt["value"]
    value = item.get(field)
    if condition == "null":
        return value in (None, "")
    if condition == "notnull":
        return value not in (None, "")
    if condition in ("in", "nin"):
        found = str(value) in [part.strip() for part in str(wanted).split(",")]
        return found if condition == "in" else not found
    if condition in ("like", "nlike"):
        pattern = "^" + ".*".join(re.escape(part) for part in unquote(str(wanted)).split("%")) + "$"
        found = re.match(pattern, str(value or ""), re.IGNORECASE) is not None
        return found if condition == "like" else not found
    if condition in ("finset", "nfinset"):
        found = str(wanted) in str(value or "").split(",")
        return found if condition == "finset" else not found
    if value is None:
        return False
    left, right = _comparable(value), _comparable(wanted)
    if type(left) is not type(right):
        left, right = str(value), str(wanted)
    return {"eq": left == right, "neq": left != right, "gt": left > right, "gteq": left >= right, "moreq": left >= right,
            "from": left >= right, "lt": left < right, "lteq": left <= right, "to": left <= right}.get(condition, False)


# --- the sandbox ----------------------------------------------------------------------------------

class MagentoSandbox(Sandbox):
    name = "magento"

    def __init__(self, *, admin_username: str = "api-user", admin_password: str = "api-password-1", integration_token: str = "",
                 integration_as_bearer: bool = False, admin_token_lifetime: float = 4 * 3600, store_codes=("default",),
                 currency: str = "EUR", tax_rate: str = "20", shipping_cost: str = "5.00", sources=("default",),
                 attributes: dict | None = None, repeat_last_page: bool = True, **options):
        self.admins = {admin_username: admin_password}
        self.integration_token, self.integration_as_bearer = integration_token, integration_as_bearer
        self.admin_token_lifetime = admin_token_lifetime
        self.store_codes = tuple(store_codes)
        self.currency, self.tax_rate, self.shipping_cost = currency, Decimal(tax_rate) / 100, money(shipping_cost)
        self.initial_sources = tuple(sources)
        self.initial_attributes = attributes if attributes is not None else {"size": ["XS", "S"], "color": ["Blue", "Red"]}
        self.repeat_last_page = repeat_last_page
        super().__init__(**options)

    # --- state -----------------------------------------------------------------------------------
    def reset_state(self) -> None:
        self.ids.begin("product", 2040)
        self.ids.begin("attribute", 141)
        self.ids.begin("option_value", 168)
        self.ids.begin("configurable_option", 335)
        self.ids.begin("order", 3)
        self.ids.begin("order_item", 3)
        self.ids.begin("address", 5)
        self.ids.begin("shipment", 3)
        self.ids.begin("track", 1)
        self.ids.begin("invoice", 3)
        self.ids.begin("creditmemo", 3)
        self.ids.begin("customer", 3)
        self.tokens: dict[str, float] = {}
        self.products: dict[str, dict] = {}  # sku → product
        self.attributes: dict[str, dict] = {}
        for code, labels in self.initial_attributes.items():
            self.attributes[code] = {"attribute_id": self.ids.next("attribute"), "attribute_code": code, "frontend_input": "select",
                                     "default_frontend_label": code.capitalize(),
                                     "options": [{"label": label, "value": str(self.ids.next("option_value"))} for label in labels]}
        self.sources = {code: {"source_code": code, "name": code.replace("-", " ").title(), "enabled": True} for code in self.initial_sources}
        self.source_items: dict[tuple[str, str], dict] = {}
        self.orders: dict[int, dict] = {}
        self.shipments: dict[int, dict] = {}
        self.creditmemos: dict[int, dict] = {}
        self.customers: dict[str, int] = {}

    def _stamp(self) -> str:
        return self.clock.now().strftime("%Y-%m-%d %H:%M:%S")

    # --- harness hooks ---------------------------------------------------------------------------
    def no_route_response(self, request: Request, allowed: list[str]) -> Response:
        return json_response({"message": "Request does not match any route."}, 404)

    def invalid_body_response(self, request: Request, error) -> Response:
        return json_response({"message": "Decoding error: \nSyntax error"}, 400)

    def server_error_response(self, request: Request, status: int) -> Response:
        if status == 500:
            return json_response({"message": f"Internal Error. Details are available in Magento log file. Report ID: webapi-{self.ids.hex(6)}"}, 500)
        return raw_response("<html><head><title>Service Unavailable</title></head><body><h1>Service Temporarily Unavailable</h1>"
                            "</body></html>", status, content_type="text/html")

    def throttled_response(self, request: Request, retry_after: float | None) -> Response:
        return raw_response("<html><body><h1>429 Too Many Requests</h1></body></html>", 429, content_type="text/html")

    def authenticate(self, request: Request) -> Response | None:
        store = request.params.get("store")
        if store is not None and store not in (*self.store_codes, "all", "default"):
            return json_response({"message": "The store that was requested wasn't found. Verify the store and try again."}, 400)
        header = request.header("Authorization") or ""
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if token and token in self.tokens and self.tokens[token] > self.clock.timestamp():
            return None
        if token and self.integration_token and self.integration_as_bearer and hmac.compare_digest(token, self.integration_token):
            return None
        resource = next((name for prefix, name in RESOURCES if request.path.split("/V1", 1)[-1].startswith(prefix)), "Magento_Backend::admin")
        return json_response({"message": "The consumer isn't authorized to access %resources.", "parameters": {"resources": resource}}, 401)

    # --- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _body(request: Request) -> dict:
        data = request.json()
        if not isinstance(data, dict):
            raise magento_error("Decoding error: \nSyntax error")
        return data

    def search(self, request: Request, items: list[dict], render=lambda item: item, default_sort: str | None = None) -> dict:
        criteria = parse_search_criteria(request.query)
        chosen = [item for item in items
                  if all(any(_matches(item, flt) for flt in group["filters"]) for group in criteria["filter_groups"] if group["filters"])]
        orders = criteria["sort_orders"] or ([{"field": default_sort, "direction": "ASC"}] if default_sort else [])
        for order in reversed(orders):
            chosen.sort(key=lambda item: (item.get(order["field"]) is None, _comparable(item.get(order["field"]) or 0)),
                        reverse=order["direction"] == "DESC")
        total = len(chosen)
        size, page = criteria["page_size"], criteria["current_page"]
        echo = {"filter_groups": criteria["filter_groups"]}
        if criteria["sort_orders"]:
            echo["sort_orders"] = criteria["sort_orders"]
        if size:
            page = max(1, page or 1)
            last = max(1, math.ceil(total / size))
            if page > last:
                self.count("pages past the end")
            shown = min(page, last) if self.repeat_last_page else page
            chosen = chosen[(shown - 1) * size:shown * size]
            echo.update({"page_size": size, "current_page": page})
        return {"items": [render(item) for item in chosen], "search_criteria": echo, "total_count": total}

    def _product(self, sku: str) -> dict:
        product = self.products.get(sku)
        if product is None:
            raise not_found("product")
        return product

    def _order(self, order_id: int) -> dict:
        order = self.orders.get(order_id)
        if order is None:
            raise not_found()
        return order

    # --- authentication --------------------------------------------------------------------------
    @route("POST", V1 + "/integration/admin/token", auth=False)
    def admin_token(self, request, store):
        body = self._body(request)
        username, password = str(body.get("username") or ""), str(body.get("password") or "")
        if not username or not password:
            field = "username" if not username else "password"
            raise magento_error("One or more input exceptions have occurred.", 400, errors=[
                {"message": '"%fieldName" is required. Enter and try again.', "parameters": {"fieldName": field}}])
        expected = self.admins.get(username)
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            raise magento_error("The account sign-in was incorrect or your account is disabled temporarily. "
                                "Please wait and try again later.", 401)
        token = self.ids.token(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        self.tokens[token] = self.clock.timestamp() + self.admin_token_lifetime
        self.count("admin tokens issued")
        return token

    def expire_tokens(self) -> None:
        """Every admin token stops working (the hourly cron removed them, or an admin revoked them)."""
        with self.lock:
            self.tokens.clear()

    # --- store -----------------------------------------------------------------------------------
    @route("GET", V1 + "/store/storeConfigs")
    def store_configs(self, request, store):
        return [{"id": n, "code": code, "website_id": 1, "locale": "fr_FR", "base_currency_code": self.currency,
                 "default_display_currency_code": self.currency, "timezone": "Europe/Paris", "weight_unit": "kgs",
                 "base_url": f"{self.url}/", "base_link_url": f"{self.url}/", "secure_base_url": f"{self.url}/"}
                for n, code in enumerate(self.store_codes, start=1)]

    # --- attributes ------------------------------------------------------------------------------
    def _attribute(self, code: str) -> dict:
        attribute = self.attributes.get(code)
        if attribute is None:
            raise magento_error('The attribute with a "%1" attributeCode doesn\'t exist. Verify the attribute and try again.', 404, [code])
        return attribute

    def _attribute_json(self, attribute: dict) -> dict:
        return {**{k: v for k, v in attribute.items() if k != "options"}, "entity_type_id": "4", "is_required": False,
                "is_user_defined": True, "scope": "global", "backend_type": "int", "frontend_labels": [],
                "options": [{"label": " ", "value": ""}, *attribute["options"]]}

    @route("GET", V1 + "/products/attributes/<code>")
    def attribute_get(self, request, store, code):
        return self._attribute_json(self._attribute(code))

    @route("GET", V1 + "/products/attributes/<code>/options")
    def attribute_options(self, request, store, code):
        return self._attribute_json(self._attribute(code))["options"]

    @route("POST", V1 + "/products/attributes/<code>/options")
    def attribute_option_add(self, request, store, code):
        attribute = self._attribute(code)
        label = str((self._body(request).get("option") or {}).get("label") or "").strip()
        if not label:
            raise magento_error("The attribute option label is empty. Enter the value and try again.")
        if any(option["label"] == label for option in attribute["options"]):
            raise magento_error("Admin store attribute option label '%1' is already exists.", 400, [label])
        value = str(self.ids.next("option_value"))
        attribute["options"].append({"label": label, "value": value})
        return f"id_{value}"

    # --- products --------------------------------------------------------------------------------
    def _product_json(self, product: dict) -> dict:
        data = {key: value for key, value in product.items() if not key.startswith("_")}
        extension = {"website_ids": list(product["_website_ids"])}
        if product["type_id"] == "configurable":
            extension["configurable_product_options"] = [dict(option) for option in product["_options"]]
            extension["configurable_product_links"] = [self.products[sku]["id"] for sku in product["_children"] if sku in self.products]
        data["extension_attributes"] = extension
        data["custom_attributes"] = [{"attribute_code": code, "value": value} for code, value in product["_custom"].items()]
        if data.get("price") is not None:
            data["price"] = number(data["price"])
        return data

    def product_save(self, data: dict, *, sku: str | None = None) -> dict:
        """POST /V1/products and PUT /V1/products/{sku} alike: the SKU's product is created or updated."""
        if not isinstance(data, dict):
            raise magento_error('"%fieldName" is required. Enter and try again.', 400, {"fieldName": "product"})
        sku = sku or str(data.get("sku") or "").strip()
        if not sku:
            raise magento_error('The "%1" attribute value is empty. Set the attribute and try again.', 400, ["sku"])
        existing = self.products.get(sku)
        product = dict(existing) if existing else {"id": None, "sku": sku, "name": None, "attribute_set_id": DEFAULT_ATTRIBUTE_SET,
                                                   "price": None, "status": 1, "visibility": 4, "type_id": "simple", "weight": None,
                                                   "_custom": {}, "_options": [], "_children": [], "_website_ids": [1]}
        product["_custom"] = dict(product["_custom"])
        for key in ("name", "attribute_set_id", "status", "visibility", "type_id", "weight"):
            if key in data and data[key] is not None:
                product[key] = data[key]
        if "price" in data and data["price"] is not None:
            try:
                product["price"] = money(data["price"])
            except (InvalidOperation, ValueError):
                raise magento_error('The "%1" value\'s type is invalid. The "%2" type was expected. Verify and try again.',
                                    400, [str(data["price"]), "float"]) from None
        for item in data.get("custom_attributes") or []:
            product["_custom"][item.get("attribute_code")] = item.get("value")
        extension = data.get("extension_attributes") or {}
        if extension.get("website_ids"):
            product["_website_ids"] = list(extension["website_ids"])
        if not product.get("name"):
            raise magento_error('The "%1" attribute value is empty. Set the attribute and try again.', 400, ["name"])
        if product["type_id"] not in ("simple", "virtual", "configurable"):
            raise magento_error('The "%1" value\'s type is invalid.', 400, [product["type_id"]])
        if product["type_id"] != "configurable" and product["price"] is None:
            raise magento_error('The "%1" attribute value is empty. Set the attribute and try again.', 400, ["price"])
        if product["attribute_set_id"] != DEFAULT_ATTRIBUTE_SET:
            raise magento_error("Invalid product data: %1", 400, ["Invalid attribute set entity type"])
        for code, value in product["_custom"].items():
            if code in self.attributes and value not in (None, "") and str(value) not in {o["value"] for o in self.attributes[code]["options"]}:
                raise magento_error('The value of attribute "%1" must be set', 400, [code])
        url_key = str(product["_custom"].get("url_key") or slug(product["name"]) or slug(sku))
        clash = next((p for p in self.products.values() if p["sku"] != sku and p["_custom"].get("url_key") == url_key), None)
        if clash is not None:
            raise magento_error("URL key for specified store already exists.")
        product["_custom"]["url_key"] = url_key
        now = self._stamp()
        if existing is None:
            product["id"] = self.ids.next("product")
            product["created_at"] = now
            self.count("products created")
        product["updated_at"] = now
        self.products[sku] = product
        return self._product_json(product)

    @route("GET", V1 + "/products/<sku>")
    def product_get(self, request, store, sku):
        return self._product_json(self._product(sku))

    @route("GET", V1 + "/products")
    def product_list(self, request, store):
        return self.search(request, list(self.products.values()), render=self._product_json, default_sort="id")

    @route("POST", V1 + "/products")
    def product_create(self, request, store):
        return self.product_save(self._body(request).get("product"))

    @route("PUT", V1 + "/products/<sku>")
    def product_put(self, request, store, sku):
        body = self._body(request).get("product")
        if isinstance(body, dict) and body.get("sku") and body["sku"] != sku:
            raise magento_error("The sku in the request body and the URL differ.")
        return self.product_save(body, sku=sku)

    @route("POST", V1 + "/products/base-prices")
    def base_prices(self, request, store):
        prices = self._body(request).get("prices")
        if not isinstance(prices, list):
            raise magento_error("Invalid input data format. Expected an array of prices.")
        failed = []
        for row in prices:
            sku, price, store_id = (row or {}).get("sku"), (row or {}).get("price"), (row or {}).get("store_id")
            product = self.products.get(str(sku or ""))
            problems = []
            if product is None or product["type_id"] not in PRICE_TYPES:
                problems.append({"message": "Invalid attribute %fieldName = %fieldValue.", "parameters": {"fieldName": "SKU", "fieldValue": sku}})
            if price is None or not isinstance(price, (int, float)) or price < 0:
                problems.append({"message": "Invalid attribute %fieldName = %fieldValue.", "parameters": {"fieldName": "Price", "fieldValue": price}})
            if store_id not in (0, *range(1, len(self.store_codes) + 1)):
                problems.append({"message": "Requested store is not found. Row ID: SKU = %SKU, Store ID: %storeId.",
                                 "parameters": {"SKU": sku, "storeId": store_id}})
            if problems:
                failed.extend(problems)
                continue
            product["price"] = money(price)
            product["updated_at"] = self._stamp()
        return failed

    # --- configurable products -------------------------------------------------------------------
    def _configurable(self, sku: str) -> dict:
        product = self._product(sku)
        if product["type_id"] != "configurable":
            raise magento_error('The product with SKU "%1" is not a configurable product.', 400, [sku])
        return product

    @route("POST", V1 + "/configurable-products/<sku>/options")
    def configurable_option_add(self, request, store, sku):
        product = self._configurable(sku)
        option = self._body(request).get("option") or {}
        attribute = next((a for a in self.attributes.values() if str(a["attribute_id"]) == str(option.get("attribute_id"))), None)
        if attribute is None:
            raise magento_error("Invalid option data: %1", 400, ["attribute_id"])
        if any(str(o["attribute_id"]) == str(attribute["attribute_id"]) for o in product["_options"]):
            raise magento_error("Something went wrong while saving option.", 400)
        saved = {"id": self.ids.next("configurable_option"), "attribute_id": str(attribute["attribute_id"]),
                 "label": option.get("label") or attribute["default_frontend_label"], "position": option.get("position", 0),
                 "values": [{"value_index": int(v.get("value_index"))} for v in option.get("values") or []], "product_id": product["id"]}
        product["_options"] = [*product["_options"], saved]
        return saved["id"]

    @route("POST", V1 + "/configurable-products/<sku>/child")
    def configurable_child_add(self, request, store, sku):
        product = self._configurable(sku)
        child_sku = str(self._body(request).get("childSku") or "")
        child = self._product(child_sku)
        if child_sku in product["_children"]:
            raise magento_error("The product is already attached.", 400)
        if not product["_options"]:
            raise magento_error("The parent product doesn't have configurable product options.", 400)
        by_id = {str(a["attribute_id"]): a["attribute_code"] for a in self.attributes.values()}
        wanted = [by_id[o["attribute_id"]] for o in product["_options"]]
        for code in wanted:
            if child["_custom"].get(code) in (None, ""):
                raise magento_error('The child product doesn\'t have the "%1" attribute value. Verify the value and try again.', 400, [code])
        combination = tuple(child["_custom"].get(code) for code in wanted)
        for other in product["_children"]:
            if tuple(self.products[other]["_custom"].get(code) for code in wanted) == combination:
                raise magento_error("Product has been already attached", 400)
        product["_children"] = [*product["_children"], child_sku]
        product["updated_at"] = self._stamp()
        return True

    @route("GET", V1 + "/configurable-products/<sku>/children")
    def configurable_children(self, request, store, sku):
        product = self._configurable(sku)
        return [self._product_json(self.products[child]) for child in product["_children"] if child in self.products]

    # --- MSI sources -----------------------------------------------------------------------------
    @route("GET", V1 + "/inventory/sources")
    def source_list(self, request, store):
        return self.search(request, list(self.sources.values()), default_sort="source_code")

    @route("POST", V1 + "/inventory/source-items")
    def source_items_save(self, request, store):
        rows = self._body(request).get("sourceItems")
        if not isinstance(rows, list) or not rows:
            raise magento_error("Input data is empty", 400)
        errors = []
        for row in rows:
            sku, source_code = str(row.get("sku") or ""), str(row.get("source_code") or "")
            if not sku:
                errors.append({"message": '"%field" can not be empty.', "parameters": {"field": "sku"}})
            elif sku not in self.products:
                errors.append({"message": 'Product with SKU "%sku" does not exist.', "parameters": {"sku": sku}})
            elif self.products[sku]["type_id"] == "configurable":
                errors.append({"message": 'Product type "%type" of "%sku" has no source items.', "parameters": {"type": "configurable", "sku": sku}})
            if source_code not in self.sources:
                errors.append({"message": 'Source with code "%code" does not exist.', "parameters": {"code": source_code}})
            quantity = row.get("quantity")
            if quantity is not None and (not isinstance(quantity, (int, float)) or isinstance(quantity, bool)):
                errors.append({"message": '"%field" should be numeric.', "parameters": {"field": "quantity"}})
        if errors:
            raise magento_error("Validation Failed", 400, errors=errors)
        for row in rows:
            quantity = row.get("quantity") or 0
            self.source_items[(row["sku"], row["source_code"])] = {"sku": row["sku"], "source_code": row["source_code"],
                                                                    "quantity": number(Decimal(str(quantity))),
                                                                    "status": int(row.get("status", 1 if quantity > 0 else 0))}
        self.count("source items saved", len(rows))
        return []

    @route("GET", V1 + "/inventory/source-items")
    def source_items_search(self, request, store):
        return self.search(request, list(self.source_items.values()))

    # --- orders ----------------------------------------------------------------------------------
    def _order_json(self, order: dict) -> dict:
        return {key: value for key, value in order.items() if not key.startswith("_")}

    def _address(self, customer: dict, kind: str, order_id: int) -> dict:
        return {"address_type": kind, "entity_id": self.ids.next("address"), "parent_id": order_id, "firstname": customer["firstname"],
                "lastname": customer["lastname"], "email": customer["email"], "street": [customer.get("street") or "12 rue des Lilas"],
                "city": customer.get("city") or "Lyon", "postcode": customer.get("postcode") or "69003",
                "country_id": customer.get("country_id") or "FR", "telephone": customer.get("telephone") or "0600000000"}

    def place_order(self, *, lines: list[dict], email: str = "", firstname: str = "Camille", lastname: str = "Martin",
                    paid: bool = True, coupon_percent=None, guest: bool = False) -> dict:
        """A shopper checks out (prices exclude tax; tax, discount and shipping computed per line as Magento does)."""
        if not lines:
            raise ValueError("an order needs lines")
        order_id = self.ids.next("order")
        now = self._stamp()
        email = email or f"client{order_id}@example.com"
        customer = {"firstname": firstname, "lastname": lastname, "email": email}
        percent = Decimal(str(coupon_percent or 0)) / 100
        items, subtotal, discount, tax = [], Decimal(0), Decimal(0), Decimal(0)
        for line in lines:
            product = self.products.get(line.get("sku") or "")
            if product is None or product["type_id"] == "configurable":
                raise ValueError(f"{line.get('sku')} is not a product one can buy")
            quantity = int(line.get("quantity") or 1)
            parent = next((p for p in self.products.values() if p["type_id"] == "configurable" and product["sku"] in p["_children"]), None)
            price = money(product["price"])
            row_total = money(price * quantity)
            row_discount = money(row_total * percent)
            row_tax = money((row_total - row_discount) * self.tax_rate)
            base = {"order_id": order_id, "created_at": now, "updated_at": now, "store_id": 1, "qty_ordered": quantity, "qty_shipped": 0,
                    "qty_invoiced": quantity if paid else 0, "qty_canceled": 0, "qty_refunded": 0, "is_virtual": 0}
            item_id = self.ids.next("order_item")
            item = {**base, "item_id": item_id, "sku": product["sku"], "name": (parent or product)["name"],
                    "product_id": (parent or product)["id"], "product_type": "configurable" if parent else "simple",
                    "price": number(price), "base_price": number(price), "original_price": number(price),
                    "price_incl_tax": number(money(price * (1 + self.tax_rate))), "row_total": number(row_total),
                    "base_row_total": number(row_total), "row_total_incl_tax": number(row_total + row_tax),
                    "discount_amount": number(row_discount), "discount_percent": number(percent * 100), "tax_amount": number(row_tax),
                    "tax_percent": number(self.tax_rate * 100), "amount_refunded": 0}
            items.append(item)
            if parent:
                items.append({**base, "item_id": self.ids.next("order_item"), "parent_item_id": item_id, "sku": product["sku"],
                              "name": product["name"], "product_id": product["id"], "product_type": "simple", "price": 0, "base_price": 0,
                              "original_price": 0, "price_incl_tax": 0, "row_total": 0, "base_row_total": 0, "row_total_incl_tax": 0,
                              "discount_amount": 0, "discount_percent": 0, "tax_amount": 0, "tax_percent": 0, "amount_refunded": 0})
            subtotal, discount, tax = subtotal + row_total, discount + row_discount, tax + row_tax
        shipping_tax = money(self.shipping_cost * self.tax_rate)
        grand_total = subtotal - discount + self.shipping_cost + tax + shipping_tax
        if not guest and email not in self.customers:
            self.customers[email] = self.ids.next("customer")
        order = {
            "entity_id": order_id, "increment_id": f"{order_id:09d}", "state": "processing" if paid else "new",
            "status": "processing" if paid else "pending", "created_at": now, "updated_at": now, "store_id": 1,
            "base_currency_code": self.currency, "order_currency_code": self.currency, "global_currency_code": self.currency,
            "customer_email": email, "customer_firstname": firstname, "customer_lastname": lastname,
            "customer_is_guest": 1 if guest else 0, "customer_group_id": 0 if guest else 1,
            "subtotal": number(subtotal), "base_subtotal": number(subtotal), "subtotal_incl_tax": number(subtotal + tax),
            "discount_amount": number(-discount), "base_discount_amount": number(-discount),
            "discount_description": f"COUPON{int(percent * 100)}" if discount else None,
            "shipping_amount": number(self.shipping_cost), "base_shipping_amount": number(self.shipping_cost),
            "shipping_tax_amount": number(shipping_tax), "shipping_incl_tax": number(self.shipping_cost + shipping_tax),
            "shipping_description": "Colissimo - Domicile", "tax_amount": number(tax + shipping_tax), "base_tax_amount": number(tax + shipping_tax),
            "grand_total": number(grand_total), "base_grand_total": number(grand_total),
            "total_paid": number(grand_total) if paid else 0, "total_invoiced": number(grand_total) if paid else 0, "total_refunded": 0,
            "total_due": 0 if paid else number(grand_total), "total_qty_ordered": sum(int(line.get("quantity") or 1) for line in lines),
            "items": items, "status_histories": [],
            "payment": {"method": "checkmo" if not paid else "banktransfer", "amount_ordered": number(grand_total),
                        "amount_paid": number(grand_total) if paid else None},
        }
        if not guest:
            order["customer_id"] = self.customers[email]
        order["billing_address"] = self._address(customer, "billing", order_id)
        order["extension_attributes"] = {"shipping_assignments": [{
            "shipping": {"address": self._address(customer, "shipping", order_id), "method": "flatrate_flatrate",
                         "total": {"shipping_amount": number(self.shipping_cost), "shipping_tax_amount": number(shipping_tax),
                                   "shipping_incl_tax": number(self.shipping_cost + shipping_tax)}},
            "items": items}]}
        order["_coupon_percent"] = percent
        self.orders[order_id] = order
        self.count("orders placed")
        return self._order_json(order)

    def _touch(self, order: dict) -> None:
        order["updated_at"] = self._stamp()

    @route("GET", V1 + "/orders")
    def order_search(self, request, store):
        return self.search(request, list(self.orders.values()), render=self._order_json, default_sort="entity_id")

    @route("GET", V1 + "/orders/<int:order_id>")
    def order_get(self, request, store, order_id):
        return self._order_json(self._order(order_id))

    def cancel_order(self, order_id: int) -> bool:
        order = self._order(order_id)
        top = [item for item in order["items"] if not item.get("parent_item_id")]
        if order["state"] in NOT_CANCELLABLE or all(item["qty_invoiced"] >= item["qty_ordered"] for item in top):
            return False
        for item in order["items"]:
            item["qty_canceled"] = item["qty_ordered"] - item["qty_invoiced"]
        order.update(state="canceled", status="canceled")
        order["status_histories"].append({"comment": "Order canceled", "created_at": self._stamp(), "status": "canceled"})
        self._touch(order)
        self.count("orders canceled")
        return True

    @route("POST", V1 + "/orders/<int:order_id>/cancel")
    def order_cancel(self, request, store, order_id):
        return self.cancel_order(order_id)

    @route("POST", V1 + "/orders/<int:order_id>/comments")
    def order_comment(self, request, store, order_id):
        order = self._order(order_id)
        history = self._body(request).get("statusHistory") or {}
        order["status_histories"].append({"comment": history.get("comment") or "", "created_at": self._stamp(),
                                          "status": history.get("status") or order["status"]})
        self._touch(order)
        return True

    def invoice_order(self, order_id: int) -> dict:
        order = self._order(order_id)
        if order["state"] not in ("new", "processing") or order["total_invoiced"]:
            raise magento_error("The order does not allow an invoice to be created.")
        for item in order["items"]:
            item["qty_invoiced"] = item["qty_ordered"]
        order.update(state="processing", status="processing", total_paid=order["grand_total"], total_invoiced=order["grand_total"], total_due=0)
        self._complete_if_done(order)
        self._touch(order)
        return self._order_json(order)

    def _complete_if_done(self, order: dict) -> None:
        top = [item for item in order["items"] if not item.get("parent_item_id")]
        shipped = all(item["qty_shipped"] + item["qty_canceled"] + item["qty_refunded"] >= item["qty_ordered"] for item in top)
        invoiced = all(item["qty_invoiced"] >= item["qty_ordered"] - item["qty_canceled"] for item in top)
        if shipped and invoiced and order["state"] == "processing":
            order.update(state="complete", status="complete")

    # --- shipments -------------------------------------------------------------------------------
    @route("POST", V1 + "/order/<int:order_id>/ship")
    def order_ship(self, request, store, order_id):
        order = self._order(order_id)
        body = self._body(request)
        problems = []
        top = {item["item_id"]: item for item in order["items"] if not item.get("parent_item_id")}
        wanted = body.get("items") or [{"order_item_id": item_id, "qty": item["qty_ordered"] - item["qty_shipped"] - item["qty_canceled"]}
                                       for item_id, item in top.items()]
        if order["state"] in ("canceled", "closed", "complete", "holded"):
            problems.append("The order does not allow a shipment to be created.")
        lines = []
        for row in wanted:
            item = top.get(int(row.get("order_item_id") or 0))
            quantity = row.get("qty") or 0
            if item is None:
                problems.append("The order does not contain one or more items.")
                continue
            if quantity <= 0 or quantity > item["qty_ordered"] - item["qty_shipped"] - item["qty_canceled"]:
                problems.append("You can't create a shipment without products.")
                continue
            lines.append((item, quantity))
        tracks = body.get("tracks") or []
        for track in tracks:
            for field in ("track_number", "title", "carrier_code"):
                if not track.get(field):
                    problems.append(f"Please enter a tracking {field.replace('_', ' ')}.")
        if problems:
            raise magento_error("Shipment Document Validation Error(s):\n" + "\n".join(dict.fromkeys(problems)), 400)
        shipment_id = self.ids.next("shipment")
        now = self._stamp()
        for item, quantity in lines:
            item["qty_shipped"] += quantity
            for child in order["items"]:
                if child.get("parent_item_id") == item["item_id"]:
                    child["qty_shipped"] += quantity
        self.shipments[shipment_id] = {
            "entity_id": shipment_id, "increment_id": f"{shipment_id:09d}", "order_id": order_id, "store_id": 1, "created_at": now,
            "updated_at": now, "total_qty": sum(q for _, q in lines),
            "items": [{"entity_id": self.ids.next("track"), "order_item_id": item["item_id"], "qty": q, "sku": item["sku"], "name": item["name"],
                       "parent_id": shipment_id} for item, q in lines],
            "tracks": [{"entity_id": self.ids.next("track"), "parent_id": shipment_id, "order_id": order_id, "track_number": t["track_number"],
                        "title": t["title"], "carrier_code": t["carrier_code"], "created_at": now} for t in tracks],
            "comments": []}
        if order["state"] == "new":
            order.update(state="processing", status="processing")
        self._complete_if_done(order)
        self._touch(order)
        self.count("shipments created")
        return shipment_id

    @route("GET", V1 + "/shipments")
    def shipment_search(self, request, store):
        return self.search(request, list(self.shipments.values()), default_sort="entity_id")

    # --- credit memos ----------------------------------------------------------------------------
    def refund_order(self, order_id: int, *, items: list[dict], shipping_amount=0, adjustment_positive=0, adjustment_negative=0) -> int:
        order = self._order(order_id)
        if not order["total_invoiced"] or order["state"] in ("canceled", "closed"):
            raise magento_error("We can't create creditmemo for the order.")
        top = {item["item_id"]: item for item in order["items"] if not item.get("parent_item_id")}
        percent = order["_coupon_percent"]
        rows, subtotal, discount, tax = [], Decimal(0), Decimal(0), Decimal(0)
        memo_id = self.ids.next("creditmemo")
        for row in items:
            item = top.get(int(row.get("order_item_id") or 0))
            quantity = int(row.get("qty") or 0)
            if item is None or quantity <= 0 or quantity > item["qty_invoiced"] - item["qty_refunded"]:
                raise magento_error("The most money available to refund is %1.", 400, [str(order["grand_total"])])
            price = Decimal(str(item["price"]))
            row_total = money(price * quantity)
            row_discount = money(row_total * percent)
            row_tax = money((row_total - row_discount) * self.tax_rate)
            rows.append({"entity_id": self.ids.next("order_item"), "parent_id": memo_id, "order_item_id": item["item_id"], "sku": item["sku"],
                         "name": item["name"], "product_id": item["product_id"], "qty": quantity, "price": number(price),
                         "base_price": number(price), "base_cost": 0, "row_total": number(row_total), "discount_amount": number(row_discount),
                         "tax_amount": number(row_tax), "row_total_incl_tax": number(row_total + row_tax),
                         "price_incl_tax": number(money(price * (1 + self.tax_rate)))})
            item["qty_refunded"] += quantity
            subtotal, discount, tax = subtotal + row_total, discount + row_discount, tax + row_tax
        shipping = money(shipping_amount or 0)
        shipping_tax = money(shipping * self.tax_rate)
        grand_total = subtotal - discount + tax + shipping + shipping_tax + money(adjustment_positive or 0) - money(adjustment_negative or 0)
        already = Decimal(str(order["total_refunded"]))
        if grand_total <= 0 or already + grand_total > Decimal(str(order["total_paid"])):
            raise magento_error("The most money available to refund is %1.", 400, [str(money(Decimal(str(order["total_paid"])) - already))])
        now = self._stamp()
        self.creditmemos[memo_id] = {
            "entity_id": memo_id, "increment_id": f"{memo_id:09d}", "order_id": order_id, "invoice_id": None, "state": 2,
            "created_at": now, "updated_at": now, "order_currency_code": order["order_currency_code"],
            "subtotal": number(subtotal), "discount_amount": number(-discount), "tax_amount": number(tax + shipping_tax),
            "shipping_amount": number(shipping), "shipping_tax_amount": number(shipping_tax),
            "adjustment_positive": number(money(adjustment_positive or 0)), "adjustment_negative": number(money(adjustment_negative or 0)),
            "grand_total": number(grand_total), "base_grand_total": number(grand_total), "items": rows, "comments": []}
        order["total_refunded"] = number(already + grand_total)
        if all(item["qty_refunded"] >= item["qty_invoiced"] for item in top.values()) and order["state"] != "complete":
            order.update(state="closed", status="closed")
        elif Decimal(str(order["total_refunded"])) >= Decimal(str(order["total_paid"])):
            order.update(state="closed", status="closed")
        self._touch(order)
        self.count("credit memos created")
        return memo_id

    @route("POST", V1 + "/order/<int:order_id>/refund")
    def order_refund(self, request, store, order_id):
        body = self._body(request)
        arguments = body.get("arguments") or {}
        return self.refund_order(order_id, items=body.get("items") or [], shipping_amount=arguments.get("shipping_amount") or 0,
                                 adjustment_positive=arguments.get("adjustment_positive") or 0,
                                 adjustment_negative=arguments.get("adjustment_negative") or 0)

    @route("GET", V1 + "/creditmemos")
    def creditmemo_search(self, request, store):
        return self.search(request, list(self.creditmemos.values()), default_sort="entity_id")

    @route("GET", V1 + "/creditmemo/<int:memo_id>")
    def creditmemo_get(self, request, store, memo_id):
        memo = self.creditmemos.get(memo_id)
        if memo is None:
            raise not_found()
        return memo

    # --- control API (not Magento's: shoppers and the merchant's admin, for tests and the demo) ----
    def state(self) -> dict:
        return {"products": len(self.products), "orders": len(self.orders), "shipments": len(self.shipments),
                "creditmemos": len(self.creditmemos), "repeat_last_page": self.repeat_last_page, "sources": sorted(self.sources),
                "skus": sorted(sku for sku, p in self.products.items() if p["type_id"] != "configurable")}

    @control("POST", "orders")
    def control_place_order(self, request):
        body = request.json() or {}
        return json_response(self.place_order(lines=body.get("lines") or [], email=body.get("email") or "", paid=body.get("paid", True),
                                              coupon_percent=body.get("coupon_percent"), guest=bool(body.get("guest"))), 201)

    @control("GET", "orders/<int:order_id>")
    def control_order(self, request, order_id):
        return self._order_json(self._order(order_id))

    @control("POST", "orders/<int:order_id>/invoice")
    def control_invoice(self, request, order_id):
        return self.invoice_order(order_id)

    @control("POST", "orders/<int:order_id>/cancel")
    def control_cancel(self, request, order_id):
        if not self.cancel_order(order_id):
            raise ValueError(f"order {order_id} cannot be canceled ({self.orders[order_id]['state']})")
        return self._order_json(self.orders[order_id])

    @control("POST", "orders/<int:order_id>/refund")
    def control_refund(self, request, order_id):
        body = request.json() or {}
        order = self._order(order_id)
        by_sku = {item["sku"]: item["item_id"] for item in order["items"] if not item.get("parent_item_id")}
        items = [{"order_item_id": by_sku.get(line["sku"], 0), "qty": line.get("quantity", 1)} for line in body.get("lines") or []]
        memo_id = self.refund_order(order_id, items=items, shipping_amount=body.get("shipping_amount") or 0)
        return json_response(self.creditmemos[memo_id], 201)

    @control("POST", "settings")
    def control_settings(self, request):
        body = request.json() or {}
        with self.lock:
            if "repeat_last_page" in body:
                self.repeat_last_page = bool(body["repeat_last_page"])
            if "integration_as_bearer" in body:
                self.integration_as_bearer = bool(body["integration_as_bearer"])
        return {"repeat_last_page": self.repeat_last_page, "integration_as_bearer": self.integration_as_bearer}

    @control("POST", "tokens/expire")
    def control_expire_tokens(self, request):
        self.expire_tokens()
        return {"expired": True}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Run a Magento 2 sandbox shop (REST API) in the foreground.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8012)
    parser.add_argument("--admin-username", default="api-user")
    parser.add_argument("--admin-password", required=True)
    parser.add_argument("--source", action="append", default=[], help="an MSI source code (repeat); default: default")
    args = parser.parse_args(argv)
    sandbox = MagentoSandbox(admin_username=args.admin_username, admin_password=args.admin_password, host=args.host, port=args.port,
                             sources=tuple(args.source) or ("default",))
    print(f"Magento sandbox on {sandbox.url} (REST {sandbox.url}/rest/default/V1, control API {sandbox.url}/_sandbox/state)", flush=True)
    sandbox.serve_forever()


if __name__ == "__main__":
    main()
