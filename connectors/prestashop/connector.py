"""PrestaShop as a storefront: the hooks the storefront flows call, over the Webservice (1.7 / 8.x).

PrestaShop core sends no webhooks: orders (with their credit slips) are polled by `date_upd`
with the kernel's overlap window. Status changes go out as `order_histories`, tracking numbers
on `order_carriers`, stock per product or combination and shop on `stock_availables`, prices
on products and combinations, and customer-group prices as `specific_prices`."""

import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from connectors.commerce.flows import STOREFRONT_FLOWS, endpoint_price_list
from connectors.commerce.storefront import ProductRef, RefundData, Storefront, StorefrontSettings, VariantRef
from connectors.errors import PermanentError
from connectors.http import Recorder
from connectors.inbound import Acknowledgement
from connectors.options import MappingField, warehouse_map_field
from connectors.prestashop import documents, mapping
from connectors.prestashop.client import PrestaShopClient, any_of, between
from connectors.prestashop.documents import Languages
from connectors.registry import register
from hub.texts import Text

# What the hub needs the webservice key to allow (resource → methods), checked by `hub_endpoint test`.
PERMISSIONS = {
    "orders": {"get"}, "order_details": {"get"}, "order_histories": {"post"}, "order_carriers": {"get", "post", "patch"},
    "order_states": {"get"}, "order_slip": {"get"}, "order_cart_rules": {"get"}, "carriers": {"get"}, "customers": {"get"},
    "addresses": {"get"}, "countries": {"get"}, "currencies": {"get"}, "taxes": {"get"},
    "products": {"get", "post", "patch"}, "combinations": {"get", "post", "patch"}, "product_options": {"get", "post"},
    "product_option_values": {"get", "post"}, "stock_availables": {"get", "patch"},
    "specific_prices": {"get", "post", "patch", "delete"},
}


def _ids_text(value: str, what: str) -> str:
    ids = [part.strip() for part in (value or "").replace("\n", ",").split(",") if part.strip()]
    bad = [part for part in ids if not part.isdigit()]
    if bad:
        raise ValidationError(_("%(what)s must be PrestaShop ids (numbers); not: %(bad)s."), params={"what": what, "bad": ", ".join(bad)})
    return ",".join(ids)


def _numeric_ids(mapping_value: dict, what) -> dict:
    bad = sorted(code for code, vendor_id in (mapping_value or {}).items() if not str(vendor_id).isdigit())
    if bad:
        raise ValidationError(_("%(what)s must map to PrestaShop ids (numbers); check: %(codes)s."), params={"what": what, "codes": ", ".join(bad)})
    return mapping_value


def _language_codes():
    from catalog.models import LANGUAGES

    return [code for code, _label in LANGUAGES]


def _price_list_codes():
    from catalog.models import PriceList

    return PriceList.objects.values_list("code", flat=True)


class PrestaShopSettings(StorefrontSettings):
    warehouse_map = warehouse_map_field(help_text=_(
        "Hub warehouse code → PrestaShop shop id (id_shop: 1 on a shop without multistore), one pair per line; a shop's "
        "quantity is what the warehouses mapped to it can sell together. Empty: no stock push."))
    languages = MappingField(known_codes=_language_codes, code_label=_("language code(s)"), initial={"fr": "1"}, label=_("Languages"),
                             help_text=_("Hub language code → PrestaShop language id (fr=1, en=2): product names and descriptions "
                                         "are written in each."))
    group_price_lists = MappingField(known_codes=_price_list_codes, code_label=_("price list code(s)"), label=_("Group prices"),
                                     help_text=_("Hub price list code → PrestaShop customer group id (PRO=3): each list's prices "
                                                 "become fixed specific prices for that group."))
    category_id = forms.IntegerField(min_value=1, initial=2, label=_("Category of new products"),
                                     help_text=_("PrestaShop category id (2 is Home on a new shop)."))
    tax_rules_group = forms.IntegerField(min_value=0, initial=1, label=_("Tax rules group"),
                                         help_text=_("PrestaShop tax rules group id given to published products (0: no tax)."))
    tax_rate = forms.DecimalField(min_value=0, max_value=100, decimal_places=3, initial=Decimal("20"), label=_("Tax rate (%)"),
                                  help_text=_("The rate of that group: PrestaShop prices are tax-exclusive, so prices of a "
                                              "tax-inclusive price list are divided by it."))
    shipped_state = forms.IntegerField(min_value=1, initial=4, label=_("Shipped order state"),
                                       help_text=_("Order state id set when the hub ships the whole order (4 on a new shop)."))
    cancelled_state = forms.IntegerField(min_value=1, initial=6, label=_("Cancelled order state"),
                                         help_text=_("Order state id set when the hub cancels an order (6 on a new shop)."))
    cancelled_states = forms.CharField(required=False, initial="6,8", label=_("States that cancel an order"),
                                       help_text=_("Comma-separated order state ids that cancel the hub's order (6 Canceled, "
                                                   "8 Payment error on a new shop)."))
    notify_customer = forms.BooleanField(required=False, initial=False, label=_("E-mail the customer"),
                                         help_text=_("Ask the shop to send its e-mails when the hub changes an order's state "
                                                     "or adds a tracking number (sendemail=1)."))
    timezone = forms.CharField(initial="Europe/Paris", label=_("Shop time zone"),
                               help_text=_("The Webservice writes dates in the shop's time zone, without an offset."))

    def clean_warehouse_map(self):
        return _numeric_ids(self.cleaned_data.get("warehouse_map"), _("Warehouses"))

    def clean_languages(self):
        languages = _numeric_ids(self.cleaned_data.get("languages"), _("Languages"))
        if not languages:
            raise ValidationError(_("Give at least one language, e.g. fr=1."))
        return languages

    def clean_group_price_lists(self):
        return _numeric_ids(self.cleaned_data.get("group_price_lists"), _("Group prices"))

    def clean_cancelled_states(self):
        return _ids_text(self.cleaned_data.get("cancelled_states") or "", _("Cancelling states"))

    def clean_timezone(self):
        name = (self.cleaned_data.get("timezone") or "").strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(_("%(name)s is not a time zone name (e.g. Europe/Paris)."), params={"name": name}) from None
        return name


def variant_id(product_id, combination_id=0) -> str:
    """A sellable item in the shop: product and combination (0 for a product without combinations)."""
    return f"{product_id}:{combination_id or 0}"


def split_variant_id(external_id: str) -> tuple[str, str]:
    product_id, _, combination_id = external_id.partition(":")
    return product_id, combination_id or "0"


class OrderReader:
    """Assembles order bundles (see `mapping`) for a page of orders with a few list requests."""

    def __init__(self, client: PrestaShopClient, config: dict):
        self.client, self.config = client, config
        self.zone = ZoneInfo(config.get("timezone") or "Europe/Paris")
        self.cancelled_states = set((config.get("cancelled_states") or "").split(",")) - {""}
        self._states = None
        self._currencies = {}
        self._countries = {}
        self._carriers = {}
        self._taxes = {}

    def states(self) -> dict[str, dict]:
        if self._states is None:
            self._states = {item["id"]: item for item in self.client.select("order_states", params={})}
        return self._states

    def _cached(self, cache: dict, resource: str, ids) -> dict:
        missing = {str(i) for i in ids} - set(cache) - {"", "0"}
        if missing:
            cache.update({item["id"]: item for item in self.client.by_ids(resource, missing)})
        return cache

    def bundles(self, orders: list[dict], slips_by_order: dict[str, list[dict]] | None = None) -> list[dict]:
        if not orders:
            return []
        order_ids = [o["id"] for o in orders]
        details, cart_rules = {}, {}
        for detail in self.client.by_ids("order_details", order_ids, field="id_order"):
            details.setdefault(detail["id_order"], []).append(detail)
        for rule in self.client.by_ids("order_cart_rules", order_ids, field="id_order"):
            cart_rules.setdefault(rule["id_order"], []).append(rule)
        if slips_by_order is None:
            slips_by_order = {}
            for slip in self.client.by_ids("order_slip", order_ids, field="id_order"):
                slips_by_order.setdefault(slip["id_order"], []).append(slip)
        customers = {c["id"]: c for c in self.client.by_ids("customers", {o.get("id_customer") for o in orders})}
        addresses = {a["id"]: a for a in self.client.by_ids(
            "addresses", {o.get(f) for o in orders for f in ("id_address_delivery", "id_address_invoice")})}
        countries = self._cached(self._countries, "countries", {a.get("id_country") for a in addresses.values()})
        currencies = self._cached(self._currencies, "currencies", {o.get("id_currency") for o in orders})
        carriers = self._cached(self._carriers, "carriers", {o.get("id_carrier") for o in orders})
        tax_ids = {tax.get("id") for lines in details.values() for d in lines for tax in (d.get("associations") or {}).get("taxes") or []}
        taxes = self._cached(self._taxes, "taxes", tax_ids)
        states = self.states()
        bundles = []
        for order in orders:
            slips = sorted(slips_by_order.get(order["id"], []), key=lambda s: int(s["id"]))
            stamps = [mapping.shop_time(order.get("date_upd"), self.zone)] + [mapping.shop_time(s.get("date_upd"), self.zone) for s in slips]
            state = states.get(str(order.get("current_state") or ""), {})

            def address(field):
                found = dict(addresses.get(str(order.get(field) or ""), {}))
                if found:
                    found["country_iso"] = (countries.get(str(found.get("id_country") or ""), {}) or {}).get("iso_code", "")
                return found

            bundles.append({
                "order": order, "details": details.get(order["id"], []), "cart_rules": cart_rules.get(order["id"], []), "slips": slips,
                "taxes": {tax_id: tax.get("rate", "0") for tax_id, tax in taxes.items()},
                "state": state, "carrier": carriers.get(str(order.get("id_carrier") or ""), {}),
                "customer": customers.get(str(order.get("id_customer") or ""), {}),
                "delivery_address": address("id_address_delivery"), "invoice_address": address("id_address_invoice"),
                "currency": (currencies.get(str(order.get("id_currency") or ""), {}) or {}).get("iso_code", "EUR"),
                "updated_at": max(s for s in stamps if s).isoformat() if any(stamps) else None,
                "placed_at": (mapping.shop_time(order.get("date_add"), self.zone) or mapping.shop_time(order.get("date_upd"), self.zone)).isoformat(),
                "cancelled": mapping.cancellation(order, state, self.cancelled_states),
            })
        return bundles


class PrestaShopConnector(Storefront):
    kind = "prestashop"
    label = "PrestaShop"
    flows = STOREFRONT_FLOWS
    settings_form = PrestaShopSettings
    credential_names = ("webservice_key",)

    def client(self, *, endpoint, recorder):
        return PrestaShopClient(endpoint=endpoint, recorder=recorder)

    # --- no webhooks ------------------------------------------------------------------------------
    def acknowledge(self, *, endpoint, request):
        return Acknowledgement(status=404, body={"error": "PrestaShop sends no webhooks; this endpoint's orders are polled"})

    def verify_webhook(self, *, endpoint, request):
        return False

    def check_connection(self, *, endpoint):
        client = self.client(endpoint=endpoint, recorder=Recorder())
        try:
            response = client.request("GET", "")
        except PermanentError as exc:
            if exc.status == 401:
                raise ValueError(f"the shop refused the webservice key: {exc}") from None
            raise
        try:
            api = documents.parse(response.content).find("api")
        except documents.DocumentError as error:
            raise ValueError(f"{endpoint.base_url}api/ does not answer as the PrestaShop Webservice ({error})") from None
        if api is None:
            raise ValueError(f"{endpoint.base_url}api/ answered without the list of resources")
        allowed = {child.tag: {method for method in ("get", "post", "put", "patch", "delete") if child.get(method) == "true"} for child in api}
        missing = [f"{resource} ({', '.join(sorted(methods - allowed.get(resource, set())))})"
                   for resource, methods in PERMISSIONS.items() if methods - allowed.get(resource, set())]
        if missing:
            raise ValueError("the webservice key lacks permissions the hub needs: " + "; ".join(missing))
        version = response.headers.get("PSWS-Version", "?")
        return f"connected to {api.get('shopName') or endpoint.base_url}, PrestaShop {version}, {len(allowed)} resources allowed"

    # --- products out -----------------------------------------------------------------------------
    def published_price_lists(self, endpoint):
        from catalog.models import PriceList

        lists = super().published_price_lists(endpoint)
        codes = list((endpoint.config.get("group_price_lists") or {}))
        return lists + [p for p in PriceList.objects.filter(code__in=codes) if p not in lists]

    def _group_prices(self, endpoint, variants) -> dict[str, dict[str, Decimal]]:
        from catalog.models import PriceList
        from catalog.pricing import PricingRequest, Tier, price_lines

        config = endpoint.config
        groups = {}
        for price_list in PriceList.objects.filter(code__in=list(config.get("group_price_lists") or {})):
            request = PricingRequest(tiers=(Tier(reason="group", list_ids=(price_list.pk,)),), currency=endpoint.channel.currency)
            found = {line.sku: line.unit_price for line in price_lines(lines=[(v.sku, 1) for v in variants], request=request) if not line.error}
            groups[config["group_price_lists"][price_list.code]] = {
                sku: mapping.price_without_tax(price, includes_tax=price_list.prices_include_tax, tax_rate_percent=config["tax_rate"])
                for sku, price in found.items()}
        return groups

    def product_document(self, *, endpoint, parent, variants, prices):
        config = endpoint.config
        price_list = endpoint_price_list(endpoint)
        return mapping.product_document(parent, variants, prices, languages=config["languages"],
                                        includes_tax=bool(price_list and price_list.prices_include_tax), tax_rate_percent=config["tax_rate"],
                                        category_id=config["category_id"], tax_rules_group=config["tax_rules_group"],
                                        group_prices=self._group_prices(endpoint, variants))

    @staticmethod
    def _product_fields(body: dict, *, creating: bool) -> dict:
        fields = {"reference": body["reference"], "price": body["price"], "ean13": body["ean13"], "weight": body["weight"],
                  "id_tax_rules_group": body["tax_rules_group"], "name": Languages(body["name"]),
                  "link_rewrite": Languages(body["link_rewrite"]), "description": Languages(body["description"]),
                  "product_type": body["type"]}
        if creating:
            fields.update({"id_category_default": body["category"], "active": 1, "state": 1, "minimal_quantity": 1,
                           "available_for_order": 1, "show_price": 1, "visibility": "both",
                           "associations": {"categories": ("category", [{"id": body["category"]}])}})
        return fields

    def _combinations(self, ctx, product_id: str) -> dict[str, dict]:
        """The product's combinations by reference."""
        return {c.get("reference"): c for c in ctx.client.all("combinations", filters={"id_product": f"[{product_id}]"}) if c.get("reference")}

    def _product_ref(self, ctx, product: dict) -> ProductRef:
        product_id = product["id"]
        combinations = self._combinations(ctx, product_id)
        if combinations:
            variants = [VariantRef(sku=ref, external_id=variant_id(product_id, c["id"]), data={"combination": c["id"]})
                        for ref, c in combinations.items()]
        else:
            variants = [VariantRef(sku=product.get("reference") or "", external_id=variant_id(product_id), data={"combination": "0"})]
        return ProductRef(external_id=product_id, variants=variants)

    def _option_values(self, ctx, combinations: list[dict]) -> dict[tuple[str, str], str]:
        """(axis, value) → the shop's attribute (product option value) id, created when missing."""
        language = next(iter(ctx.endpoint.config["languages"].values()))
        wanted = {(axis, value) for c in combinations for axis, value in c["options"]}
        groups = {documents.language_value(g.get("name"), language): g["id"] for g in ctx.client.all("product_options")}
        found = {}
        for axis in sorted({axis for axis, _ in wanted}):
            if axis not in groups:
                name = Languages({lang: mapping.catalog_name(axis) for lang in ctx.endpoint.config["languages"].values()})
                groups[axis] = ctx.client.create("product_options", "product_option", {
                    "is_color_group": 0, "group_type": "select", "name": name, "public_name": name})["id"]
            values = {documents.language_value(v.get("name"), language): v["id"]
                      for v in ctx.client.all("product_option_values", filters={"id_attribute_group": f"[{groups[axis]}]"})}
            for wanted_axis, value in sorted(wanted):
                if wanted_axis != axis:
                    continue
                if value not in values:
                    values[value] = ctx.client.create("product_option_values", "product_option_value", {
                        "id_attribute_group": groups[axis],
                        "name": Languages({lang: mapping.catalog_name(value) for lang in ctx.endpoint.config["languages"].values()})})["id"]
                found[(axis, value)] = values[value]
        return found

    def _send_combinations(self, ctx, product_id: str, body: dict) -> None:
        if not body["combinations"]:
            return
        existing = self._combinations(ctx, product_id)
        option_values = self._option_values(ctx, body["combinations"])
        for combination in body["combinations"]:
            fields = {"id_product": product_id, "reference": combination["reference"], "price": combination["price"],
                      "ean13": combination["ean13"], "weight": combination["weight"], "minimal_quantity": 1,
                      "associations": {"product_option_values": ("product_option_value", [
                          {"id": option_values[(axis, value)]} for axis, value in combination["options"]])}}
            known = existing.get(combination["reference"])
            if known is None:
                ctx.client.create("combinations", "combination", fields)
            else:
                ctx.client.patch("combinations", known["id"], "combination", fields)

    def _send_group_prices(self, ctx, product_id: str, body: dict) -> None:
        """Fixed specific prices for the mapped groups: created, corrected, and removed when a
        group's list no longer prices the item. Other specific prices are left alone."""
        managed = {str(group) for group in (ctx.endpoint.config.get("group_price_lists") or {}).values()}
        if not managed and not body["group_prices"]:
            return
        combinations = {ref: c["id"] for ref, c in self._combinations(ctx, product_id).items()}
        wanted = {}
        for item in body["group_prices"]:
            attribute = combinations.get(item["reference"], "0") if body["combinations"] else "0"
            wanted[(str(attribute), item["group"])] = item["price"]
        existing = {}
        for price in ctx.client.all("specific_prices", filters={"id_product": f"[{product_id}]"}):
            mine = (price.get("id_group") in managed and price.get("id_customer") in ("0", "") and price.get("id_cart") in ("0", "")
                    and price.get("from_quantity") == "1" and price.get("id_specific_price_rule") in ("0", ""))
            if mine:
                existing[(price.get("id_product_attribute") or "0", price["id_group"])] = price
        for key, price in wanted.items():
            found = existing.pop(key, None)
            if found is None:
                ctx.client.create("specific_prices", "specific_price", {
                    "id_product": product_id, "id_product_attribute": key[0], "id_group": key[1], "id_shop": 0, "id_shop_group": 0,
                    "id_cart": 0, "id_currency": 0, "id_country": 0, "id_customer": 0, "price": price, "from_quantity": 1,
                    "reduction": 0, "reduction_tax": 1, "reduction_type": "amount", "from": "0000-00-00 00:00:00", "to": "0000-00-00 00:00:00"})
            elif mapping.money(found.get("price")) != mapping.money(price):
                ctx.client.patch("specific_prices", found["id"], "specific_price", {"price": price})
        for stale in existing.values():
            ctx.client.delete("specific_prices", stale["id"])

    def product_find(self, ctx, *, document):
        """The shop's product with exactly this reference (the filter ignores case, and a reference
        with `|` or `,` in it would read as several values or an interval)."""
        reference = document.body["reference"]
        found = [p for p in ctx.client.select("products", params={"filter[reference]": f"[{reference}]"}) if p.get("reference") == reference]
        return self._product_ref(ctx, found[0]) if found else None

    def product_create(self, ctx, *, document):
        product = ctx.client.create("products", "product", self._product_fields(document.body, creating=True))
        self._send_combinations(ctx, product["id"], document.body)
        self._send_group_prices(ctx, product["id"], document.body)
        return self._product_ref(ctx, product)

    def product_update(self, ctx, *, external_id, document, variant_ids):
        product = ctx.client.patch("products", external_id, "product", self._product_fields(document.body, creating=False))
        self._send_combinations(ctx, external_id, document.body)
        self._send_group_prices(ctx, external_id, document.body)
        return self._product_ref(ctx, product)

    # --- stock ------------------------------------------------------------------------------------
    def _stock_records(self, ctx, product_ids) -> dict[tuple[str, str, str], dict]:
        """(product id, combination id, shop id) → the shop's stock_available record."""
        records = {}
        ids = sorted({str(i) for i in product_ids})
        for start in range(0, len(ids), 100):
            for item in ctx.client.list_json("stock_availables", params={"filter[id_product]": any_of(ids[start:start + 100])}):
                records[(str(item.get("id_product")), str(item.get("id_product_attribute") or 0), str(item.get("id_shop")))] = item
        return records

    def stock_set(self, ctx, *, rows):
        records = self._stock_records(ctx, {split_variant_id(data["external_id"])[0] for data, _, _ in rows})
        missing = []
        for data, shop_id, units in rows:
            product_id, combination_id = split_variant_id(data["external_id"])
            record = records.get((product_id, combination_id, str(shop_id)))
            if record is None:
                missing.append(f"{data.get('sku') or data['external_id']} in shop {shop_id}")
                continue
            if str(record.get("quantity")) != str(units):
                ctx.client.patch("stock_availables", record["id"], "stock_available", {"quantity": int(units)})
        if missing:
            raise PermanentError(Text(gettext_noop("the shop has no stock record for %(records)s (is the product in that shop? with stock shared "
                                                   "by a shop group, map the warehouses to the group's shops)"), records=", ".join(missing[:10])))

    def stock_read(self, ctx, *, variants, locations):
        records = self._stock_records(ctx, {split_variant_id(external_id)[0] for external_id in variants})
        shown = {}
        for external_id in variants:
            product_id, combination_id = split_variant_id(external_id)
            for shop_id in locations:
                record = records.get((product_id, combination_id, str(shop_id)))
                shown[(external_id, shop_id)] = int(record["quantity"]) if record is not None else None
        return shown

    # --- fulfilments and cancellations ------------------------------------------------------------
    def _email(self, ctx) -> dict:
        return {"sendemail": "1"} if ctx.endpoint.config.get("notify_customer") else {}

    def _set_state(self, ctx, order_id: str, state_id: int) -> None:
        ctx.client.create("order_histories", "order_history", {"id_order": order_id, "id_order_state": state_id}, params=self._email(ctx))

    def fulfilment_find(self, ctx, *, order_id, tracking_number):
        for carrier in ctx.client.select("order_carriers", params={"filter[id_order]": f"[{order_id}]"}):
            if tracking_number and carrier.get("tracking_number") == tracking_number:
                return carrier["id"]
        return None

    def fulfilment_create(self, ctx, *, order_id, lines, tracking, order_shipped):
        """The state first (unless the order already has it), then the tracking number: a retry
        after a failure in between finds the tracking number and stops there, with the state set."""
        shipped_state = ctx.endpoint.config["shipped_state"]
        if order_shipped and ctx.client.get("orders", order_id, "order").get("current_state") != str(shipped_state):
            self._set_state(ctx, order_id, shipped_state)
        number = (tracking.get("number") or "").strip()
        if not number:
            return f"untracked:{order_id}:{uuid.uuid4().hex[:12]}"
        carriers = sorted(ctx.client.select("order_carriers", params={"filter[id_order]": f"[{order_id}]"}), key=lambda c: int(c["id"]))
        blank = next((c for c in carriers if not c.get("tracking_number")), None)
        if blank is not None:
            return ctx.client.patch("order_carriers", blank["id"], "order_carrier", {"tracking_number": number}, params=self._email(ctx))["id"]
        carrier_id = carriers[0]["id_carrier"] if carriers else ctx.client.get("orders", order_id, "order").get("id_carrier")
        return ctx.client.create("order_carriers", "order_carrier", {"id_order": order_id, "id_carrier": carrier_id, "weight": 0,
                                                                     "tracking_number": number}, params=self._email(ctx))["id"]

    def order_is_cancelled(self, ctx, *, order_id):
        cancelled = set((ctx.endpoint.config.get("cancelled_states") or "").split(",")) | {str(ctx.endpoint.config["cancelled_state"])}
        return ctx.client.get("orders", order_id, "order").get("current_state") in cancelled

    def order_cancel(self, ctx, *, order_id, reason):
        self._set_state(ctx, order_id, ctx.endpoint.config["cancelled_state"])

    # --- orders, refunds in -----------------------------------------------------------------------
    def orders_changed_since(self, ctx, *, since):
        """Orders whose `date_upd` is at or after `since`, and the orders of credit slips issued
        since then (a slip does not always touch its order), each as a bundle (see `mapping`)."""
        reader = OrderReader(ctx.client, ctx.endpoint.config)
        window = between(mapping.shop_time_text(since, reader.zone), "9999-12-31 23:59:59")
        slips_by_order: dict[str, list[dict]] = {}
        for slip in ctx.client.all("order_slip", filters={"date_upd": window}, dates=True):
            slips_by_order.setdefault(slip["id_order"], [])
        page: list[dict] = []
        seen = set()
        for order in ctx.client.all("orders", filters={"date_upd": window}, dates=True):
            seen.add(order["id"])
            page.append(order)
            if len(page) == 50:
                yield from reader.bundles(page)
                page = []
        page.extend(ctx.client.by_ids("orders", set(slips_by_order) - seen))
        yield from reader.bundles(page)

    def order_map(self, order):
        return mapping.order_payload(order)

    def order_external_id(self, order):
        return str(order["order"]["id"])

    def order_label(self, order):
        return order["order"].get("reference") or f"#{order['order']['id']}"

    def order_updated_at(self, order):
        from datetime import datetime

        return datetime.fromisoformat(order["updated_at"]) if order.get("updated_at") else None

    def order_cancellation(self, order):
        return order.get("cancelled") or None

    def refund_map(self, refund, *, prices_include_tax):
        slip, bundle = refund["slip"], refund["order"]
        return RefundData(refund_id=str(slip["id"]), order_external_id=str(bundle["order"]["id"]), amount=mapping.refund_amount(slip),
                          lines=mapping.refund_lines(slip, details=bundle.get("details") or [], prices_include_tax=prices_include_tax),
                          reference=f"PrestaShop credit slip {slip['id']}")

    def apply_order(self, *, endpoint, order_json, cancelled=False):
        """The order, then its credit slips the hub has not recorded yet."""
        from connectors.binder import REFUND, Binder
        from connectors.commerce.inbound import refund_apply

        created = super().apply_order(endpoint=endpoint, order_json=order_json, cancelled=cancelled)
        binder = Binder(endpoint)
        for slip in order_json.get("slips") or []:
            if not binder.is_bound(REFUND, external_id=str(slip["id"])):
                refund_apply(endpoint=endpoint, payload={"slip": slip, "order": order_json})
        return created


register(PrestaShopConnector())
