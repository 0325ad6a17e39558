"""Spreadsheet resources of inventory: warehouses, and stock imported as a count."""


from catalog.models import Product
from hub.imports.cells import excerpt
from hub.imports.columns import Boolean, Choice, Date, Integer, Text
from hub.imports.engine import Plan, Resource, register
from inventory.models import StockLevel, StockLot, Warehouse
from inventory.services import StockError, stock_count_many
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _


class WarehouseResource(Resource):
    name, label, order = "warehouses", _("Warehouses"), 50
    columns = [
        Text("code", required=True, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", pattern_message=gettext_lazy("use letters, digits, '.', '_' or '-'")),
        Text("name", required=True, max_length=200), Choice("kind", Warehouse.Kind.choices, default=Warehouse.Kind.OWN),
        Text("country", max_length=2, default="FR", pattern=r"^[A-Z]{2}$", pattern_message=gettext_lazy("must be a 2-letter ISO country code")),
        Integer("priority", default=0), Boolean("is_sellable", default=True), Boolean("allow_negative", default=False),
        Boolean("is_active", default=True), Text("address"),
    ]
    FIELDS = ["name", "kind", "country", "priority", "is_sellable", "allow_negative", "is_active", "address"]

    def check(self, rows, errors, options):
        seen = {}
        for row in rows:
            code = row.values["code"]
            if code in seen:
                errors.add(row.line, "code", code, gettext("duplicate of line %(line)s") % {"line": seen[code]})
            seen[code] = row.line

    def plan(self, rows, options, user=None):
        existing = {d["code"]: d for d in Warehouse.objects.values("code", *self.FIELDS)}
        new = [r for r in rows if r.values["code"] not in existing]
        changed = [r for r in rows if r.values["code"] in existing and any(existing[r.values["code"]][f] != r.values[f] for f in self.FIELDS)]

        def apply():
            Warehouse.objects.bulk_create(
                [Warehouse(code=r.values["code"], **{f: r.values[f] for f in self.FIELDS}) for r in new + changed],
                update_conflicts=True, unique_fields=["code"], update_fields=self.FIELDS,
            )

        return Plan(new=len(new), updated=len(changed), unchanged=len(rows) - len(new) - len(changed), apply=apply,
                    new_lines=[r.line for r in new], updated_lines=[r.line for r in changed])

    def export_queryset(self):
        return Warehouse.objects.order_by("code")

    def export_values(self, w):
        return [w.code, w.name, w.kind, w.country, w.priority, w.is_sellable, w.allow_negative, w.is_active, w.address]


# Counted units per SKU, warehouse and lot; leaves room for the difference from the current level
# (the count movement) within the ledger's integer columns.
MAX_COUNTED = 1_000_000_000


class StockResource(Resource):
    """A stocktake: each row says how many units were counted. Differences become count
    movements in the ledger (never silent overwrites); unchanged rows write nothing."""

    name, label, order = "stock", _("Stock (count)"), 60
    columns = [
        Text("sku", required=True, max_length=64), Text("warehouse", required=True, max_length=50),
        Integer("quantity", required=True, minimum=0, maximum=MAX_COUNTED), Text("lot", max_length=64), Date("expiry"),
    ]

    def check(self, rows, errors, options):
        skus = list({r.values["sku"] for r in rows})
        self._products = {}
        for start in range(0, len(skus), 20000):
            self._products.update({p.sku: p for p in Product.objects.filter(sku__in=skus[start:start + 20000])})
        self._warehouses = {w.code: w for w in Warehouse.objects.all()}
        lot_codes = {r.values["lot"] for r in rows if r.values["lot"]}
        lot_expiry = {(pid, wid, lot): expiry for pid, wid, lot, expiry in StockLot.objects.filter(
            product_id__in=[p.pk for p in self._products.values()], lot__in=lot_codes,
        ).values_list("product_id", "warehouse_id", "lot", "expiry")} if lot_codes else {}
        seen = {}
        for row in rows:
            v = row.values
            product = self._products.get(v["sku"])
            if product is None:
                errors.add(row.line, "sku", v["sku"], gettext("no such product"))
            if v["warehouse"] not in self._warehouses:
                errors.add(row.line, "warehouse", v["warehouse"], gettext("no such warehouse (import warehouses first)"))
            if product is not None and product.track_expiry and not v["lot"]:
                errors.add(row.line, "lot", "", gettext("%(sku)s is tracked by lot: give the lot (and expiry for a "
                                                        "new lot)") % {"sku": excerpt(v['sku'])})
            if product is not None and not product.track_expiry and (v["lot"] or v["expiry"]):
                errors.add(row.line, "lot", v["lot"], gettext("%(sku)s is not tracked by lot; leave lot and expiry empty") % {"sku": excerpt(v['sku'])})
            warehouse = self._warehouses.get(v["warehouse"])
            if product is not None and product.track_expiry and v["lot"] and warehouse is not None:
                # The ledger's rules for lots, checked here so that they are line errors.
                lot_key = (product.pk, warehouse.pk, v["lot"])
                if lot_key not in lot_expiry and v["quantity"] > 0 and not v["expiry"]:
                    errors.add(row.line, "expiry", "", gettext("lot %(lot)s of %(sku)s is new: give its expiry date") % {"lot": excerpt(v['lot']), "sku": excerpt(v['sku'])})
                elif v["expiry"] and lot_expiry.get(lot_key) and lot_expiry[lot_key] != v["expiry"]:
                    errors.add(row.line, "expiry", row.raw.get("expiry", ""),
                               gettext("lot %(lot)s of %(sku)s already has expiry %(lot_expiry)s") % {"lot": excerpt(v['lot']), "sku": excerpt(v['sku']), "lot_expiry": lot_expiry[lot_key]})
            key = (v["sku"], v["warehouse"], v["lot"])
            if key in seen:
                errors.add(row.line, "sku", v["sku"], gettext("counted twice (see line %(line)s)") % {"line": seen[key]})
            seen[key] = row.line

    def plan(self, rows, options, user=None):
        product_ids = {p.pk for p in self._products.values()}
        levels = {(pid, wid): on for pid, wid, on in StockLevel.objects.filter(product_id__in=product_ids).values_list("product_id", "warehouse_id", "on_hand")}
        lots = {(pid, wid, lot): on for pid, wid, lot, on in StockLot.objects.filter(product_id__in=product_ids).values_list("product_id", "warehouse_id", "lot", "on_hand")}
        changes, new, unchanged = [], 0, 0
        new_lines, updated_lines = [], []
        for row in rows:
            v = row.values
            product, warehouse = self._products[v["sku"]], self._warehouses[v["warehouse"]]
            current = lots.get((product.pk, warehouse.pk, v["lot"])) if v["lot"] else levels.get((product.pk, warehouse.pk))
            if current == v["quantity"] or (current is None and v["quantity"] == 0):
                unchanged += 1
                continue
            new += current is None
            (new_lines if current is None else updated_lines).append(row.line)
            changes.append({"product": product, "warehouse": warehouse, "counted": v["quantity"], "lot": v["lot"], "expiry": v["expiry"]})

        def apply():
            try:
                stock_count_many(rows=changes, source="import", reference="stock import", user=user)
            except StockError as exc:
                raise ValueError(str(exc)) from exc

        return Plan(new=new, updated=len(changes) - new, unchanged=unchanged, apply=apply, new_lines=new_lines, updated_lines=updated_lines)

    def export_header(self):
        return ["sku", "warehouse", "quantity", "lot", "expiry", "reserved", "available"]

    def export_queryset(self):
        return StockLevel.objects.select_related("product", "warehouse").order_by("product__sku", "warehouse__code")

    def export_values(self, level):
        return [level.product.sku, level.warehouse.code, level.on_hand, "", None, level.reserved, level.on_hand - level.reserved]

    def export_lines(self, level):
        """A product tracked by lot is counted lot by lot, so its rows are its lots in stock (a count
        sheet that imports back as it is); reserved and available belong to the level, not a lot."""
        if not level.product.track_expiry:
            yield self.export_values(level)
            return
        for lot, expiry, on_hand in StockLot.objects.filter(product_id=level.product_id, warehouse_id=level.warehouse_id).exclude(
                on_hand=0).order_by("expiry", "lot").values_list("lot", "expiry", "on_hand"):
            yield [level.product.sku, level.warehouse.code, on_hand, lot, expiry, None, None]


register(WarehouseResource())
register(StockResource())
