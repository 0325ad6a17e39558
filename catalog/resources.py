"""Spreadsheet resources of the catalogue: categories, products (variants included), price lists, prices."""


from functools import lru_cache
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from catalog.models import Category, PriceEntry, PriceList, Product, gtin_is_valid
from catalog.services import CATEGORY_TOPIC, PRICE_TOPIC, PRODUCT_TOPIC, category_get_or_create_path, category_path_normalise
from hub.bulk import bulk_upsert
from hub.changes import change_record_many
from hub.imports.columns import Boolean, Choice, Date, DecimalNumber, Integer, KeyValues, Text
from hub.imports.engine import Plan, Resource, register
from hub.models import code_validator
from hub.money import CURRENCY_CHOICES

BATCH = 2000


def _duplicates(rows, key, errors, column):
    seen = {}
    for row in rows:
        value = key(row)
        if value in seen:
            errors.add(row.line, column, row.raw.get(column, ""), gettext("duplicate of line %(line)s") % {"line": seen[value]})
        else:
            seen[value] = row.line


# A file names few distinct categories on many rows.
_path_normalised = lru_cache(maxsize=10_000)(category_path_normalise)


class CategoryPath(Text):
    """A category path, spaced as the catalogue spaces it ('Home>Garden' → 'Home > Garden')."""

    def convert(self, text, *, options):
        return _path_normalised(super().convert(text, options=options))


NAME_LENGTH = Category._meta.get_field("name").max_length


class CategoryResource(Resource):
    name, label, order = "categories", _("Categories"), 10
    columns = [CategoryPath("path", required=True, max_length=1000), Integer("position", minimum=0, default=0)]

    def check(self, rows, errors, options):
        _duplicates(rows, lambda r: r.values["path"], errors, "path")
        for row in rows:
            parts = row.values["path"].split(Category.PATH_SEPARATOR)
            if any(not p for p in parts):
                errors.add(row.line, "path", row.raw["path"], gettext("path has an empty level (write 'Lighting > Outdoor')"))
            elif any(len(p) > NAME_LENGTH for p in parts):
                errors.add(row.line, "path", row.raw["path"], gettext("a level of the path is longer than a category name may be "
                                                                      "(at most %(max_length)s characters)") % {"max_length": NAME_LENGTH})

    def plan(self, rows, options, user=None):
        wanted = {r.values["path"]: r.values["position"] for r in rows}
        existing = dict(Category.objects.filter(path__in=wanted).values_list("path", "position"))
        new = [p for p in wanted if p not in existing]
        changed = [p for p in wanted if p in existing and existing[p] != wanted[p]]

        def apply():
            for path in sorted(new, key=lambda p: p.count(">")):
                category = category_get_or_create_path(path=path)
                if category.position != wanted[path]:
                    Category.objects.filter(pk=category.pk).update(position=wanted[path])
            for path in changed:
                Category.objects.filter(path=path).update(position=wanted[path])
            ids = Category.objects.filter(path__in=new + changed).values_list("pk", flat=True)
            change_record_many(topic=CATEGORY_TOPIC, object_ids=ids)

        line_of = {r.values["path"]: r.line for r in rows}
        return Plan(new=len(new), updated=len(changed), unchanged=len(wanted) - len(new) - len(changed), apply=apply,
                    new_lines=[line_of[p] for p in new], updated_lines=[line_of[p] for p in changed])

    def export_queryset(self):
        return Category.objects.order_by("path")

    def export_values(self, obj):
        return [obj.path, obj.position]


PRODUCT_FIELDS = ["name", "category_id", "status", "brand", "gtin", "weight_g", "description", "parent_id", "option_values",
                  "track_expiry", "allow_backorder", "hazardous", "country_of_origin", "customs_code"]


class ProductResource(Resource):
    name, label, order = "products", _("Products (variants included)"), 20
    columns = [
        Text("sku", required=True, max_length=64, pattern=r"^\S+$", pattern_message=gettext_lazy("must not contain spaces")),
        Text("name", required=True, max_length=255),
        CategoryPath("category", max_length=1000),
        Choice("status", Product.Status.choices, default=Product.Status.DRAFT),
        Text("brand", max_length=100),
        Text("gtin", max_length=14),
        Integer("weight_g", minimum=0),
        Text("description"),
        Text("parent_sku", max_length=64),
        KeyValues("options"),
        Boolean("track_expiry"),
        Boolean("allow_backorder"),
        Boolean("hazardous"),
        Text("country_of_origin", max_length=2, pattern=r"^[A-Z]{2}$", pattern_message=gettext_lazy("must be a 2-letter ISO country code (FR, DE…)")),
        Text("customs_code", max_length=10, pattern=r"^\d{6,10}$", pattern_message=gettext_lazy("must be 6 to 10 digits (HS / CN code)")),
    ]

    def check(self, rows, errors, options):
        _duplicates(rows, lambda r: r.values["sku"], errors, "sku")
        paths = {r.values["category"] for r in rows if r.values["category"]}
        self._categories = dict(Category.objects.filter(path__in=paths).values_list("path", "pk"))
        file_skus = {r.values["sku"] for r in rows}
        parent_skus = {r.values["parent_sku"] for r in rows if r.values["parent_sku"]}
        known_parents = set(Product.objects.filter(sku__in=parent_skus - file_skus, parent__isnull=True).values_list("sku", flat=True))
        file_children = {r.values["sku"] for r in rows if r.values["parent_sku"]}
        for row in rows:
            v = row.values
            if v["category"] and v["category"] not in self._categories:
                errors.add(row.line, "category", v["category"], gettext("no such category (import categories first, or fix the path)"))
            if v["gtin"] and not gtin_is_valid(v["gtin"]):
                errors.add(row.line, "gtin", v["gtin"], gettext("not a valid GTIN (8, 12, 13 or 14 digits with a correct "
                                                                "check digit)"))
            parent = v["parent_sku"]
            if parent:
                if parent == v["sku"]:
                    errors.add(row.line, "parent_sku", parent, gettext("a product cannot be its own parent"))
                elif parent in file_children:
                    errors.add(row.line, "parent_sku", parent, gettext("the parent is itself a variant; variants have one level"))
                elif parent not in file_skus and parent not in known_parents:
                    errors.add(row.line, "parent_sku", parent, gettext("no such parent product (in the file or the catalogue)"))
            elif v["options"]:
                errors.add(row.line, "options", row.raw.get("options", ""), gettext("only variants (with a parent_sku) have option values"))

    def _fields(self, v, parent_ids):
        return {
            "name": v["name"], "category_id": self._categories.get(v["category"]), "status": v["status"],
            "brand": v["brand"], "gtin": v["gtin"], "weight_g": v["weight_g"], "description": v["description"],
            "parent_id": parent_ids.get(v["parent_sku"]) if v["parent_sku"] else None, "option_values": v["options"],
            "track_expiry": v["track_expiry"], "allow_backorder": v["allow_backorder"], "hazardous": v["hazardous"],
            "country_of_origin": v["country_of_origin"], "customs_code": v["customs_code"],
        }

    def plan(self, rows, options, user=None):
        skus = [r.values["sku"] for r in rows]
        existing = {}
        for chunk_start in range(0, len(skus), 20000):
            chunk = skus[chunk_start:chunk_start + 20000]
            for values in Product.objects.filter(sku__in=chunk).values("pk", "sku", *PRODUCT_FIELDS):
                existing[values["sku"]] = values
        parent_skus = {r.values["parent_sku"] for r in rows if r.values["parent_sku"]}
        parent_ids = {sku: existing[sku]["pk"] for sku in parent_skus if sku in existing}
        parent_ids.update(dict(Product.objects.filter(sku__in=parent_skus - set(parent_ids)).values_list("sku", "pk")))
        new_rows, changed_rows = [], []
        for row in rows:
            v = row.values
            current = existing.get(v["sku"])
            if current is None:
                new_rows.append(row)
                continue
            wanted = self._fields(v, parent_ids)
            if v["parent_sku"] and v["parent_sku"] not in parent_ids:
                changed_rows.append(row)  # parent created by this file: resolved at write time
            elif any(current[f] != wanted[f] for f in PRODUCT_FIELDS):
                changed_rows.append(row)

        def apply():
            # Parents first, so variants can point to them.
            ordered = sorted(new_rows + changed_rows, key=lambda r: bool(r.values["parent_sku"]))
            written_ids = []
            for group in (False, True):
                batch_rows = [r for r in ordered if bool(r.values["parent_sku"]) == group]
                if not batch_rows:
                    continue
                if group:
                    missing = {r.values["parent_sku"] for r in batch_rows} - set(parent_ids)
                    parent_ids.update(dict(Product.objects.filter(sku__in=missing).values_list("sku", "pk")))
                values = [{"sku": r.values["sku"], **self._fields(r.values, parent_ids)} for r in batch_rows]
                written = bulk_upsert(Product, values, unique_fields=["sku"], update_fields=PRODUCT_FIELDS, returning="id")
                if written is None:  # the database cannot return ids from a bulk upsert: look them up
                    skus = [r.values["sku"] for r in batch_rows]
                    written = []
                    for start in range(0, len(skus), 20000):
                        written.extend(Product.objects.filter(sku__in=skus[start:start + 20000]).values_list("pk", flat=True))
                written_ids.extend(written)
            change_record_many(topic=PRODUCT_TOPIC, object_ids=written_ids)

        return Plan(new=len(new_rows), updated=len(changed_rows), unchanged=len(rows) - len(new_rows) - len(changed_rows), apply=apply,
                    new_lines=[r.line for r in new_rows], updated_lines=[r.line for r in changed_rows])

    def export_queryset(self):
        return Product.objects.select_related("category", "parent").order_by("pk")

    def export_values(self, p):
        return [p.sku, p.name, p.category.path if p.category_id else "", p.status, p.brand, p.gtin, p.weight_g, p.description,
                p.parent.sku if p.parent_id else "", p.option_values, p.track_expiry, p.allow_backorder, p.hazardous,
                p.country_of_origin, p.customs_code]


class PriceListResource(Resource):
    name, label, order = "price-lists", _("Price lists"), 30
    columns = [
        Text("code", required=True, max_length=50), Text("name", required=True, max_length=200),
        Choice("currency", CURRENCY_CHOICES, required=True), Boolean("prices_include_tax"),
        Date("valid_from"), Date("valid_to"), Integer("priority", default=0), Boolean("is_active", default=True),
    ]
    FIELDS = ["name", "currency", "prices_include_tax", "valid_from", "valid_to", "priority", "is_active"]

    def check(self, rows, errors, options):
        _duplicates(rows, lambda r: r.values["code"], errors, "code")
        for row in rows:
            v = row.values
            try:
                code_validator(v["code"])
            except Exception:
                errors.add(row.line, "code", v["code"], gettext("use letters, digits, '.', '_' or '-' (up to 50 characters)"))
            if v["valid_from"] and v["valid_to"] and v["valid_to"] < v["valid_from"]:
                errors.add(row.line, "valid_to", row.raw.get("valid_to"), gettext("ends before it starts"))

    def plan(self, rows, options, user=None):
        existing = {d["code"]: d for d in PriceList.objects.filter(code__in=[r.values["code"] for r in rows]).values("code", *self.FIELDS)}
        new = [r for r in rows if r.values["code"] not in existing]
        changed = [r for r in rows if r.values["code"] in existing and any(existing[r.values["code"]][f] != r.values[f] for f in self.FIELDS)]

        def apply():
            PriceList.objects.bulk_create(
                [PriceList(code=r.values["code"], **{f: r.values[f] for f in self.FIELDS}) for r in new + changed],
                update_conflicts=True, unique_fields=["code"], update_fields=self.FIELDS + ["updated_at"],
            )
            ids = PriceList.objects.filter(code__in=[r.values["code"] for r in new + changed]).values_list("pk", flat=True)
            change_record_many(topic=PRICE_TOPIC, object_ids=[f"list:{pk}" for pk in ids])

        return Plan(new=len(new), updated=len(changed), unchanged=len(rows) - len(new) - len(changed), apply=apply,
                    new_lines=[r.line for r in new], updated_lines=[r.line for r in changed])

    def export_queryset(self):
        return PriceList.objects.order_by("code")

    def export_values(self, pl):
        return [pl.code, pl.name, pl.currency, pl.prices_include_tax, pl.valid_from, pl.valid_to, pl.priority, pl.is_active]


class PriceResource(Resource):
    """Price breaks. With the replace option, breaks of the listed price lists that the file no
    longer contains are deleted (and counted as such in the dry run)."""

    name, label, order = "prices", _("Prices (quantity breaks)"), 40
    supports_replace = True
    columns = [
        Text("price_list", required=True, max_length=50), Text("sku", required=True, max_length=64),
        Integer("min_quantity", minimum=1, default=1), DecimalNumber("unit_price", required=True, minimum=0),
        Date("valid_from"), Date("valid_to"),
    ]

    def check(self, rows, errors, options):
        self._lists = dict(PriceList.objects.filter(code__in={r.values["price_list"] for r in rows}).values_list("code", "pk"))
        skus = {r.values["sku"] for r in rows}
        self._products = {}
        sku_list = list(skus)
        for start in range(0, len(sku_list), 20000):
            self._products.update(Product.objects.filter(sku__in=sku_list[start:start + 20000]).values_list("sku", "pk"))
        _duplicates(rows, lambda r: (r.values["price_list"], r.values["sku"], r.values["min_quantity"], r.values["valid_from"]), errors, "min_quantity")
        for row in rows:
            v = row.values
            if v["price_list"] not in self._lists:
                errors.add(row.line, "price_list", v["price_list"], gettext("no such price list (import price-lists first)"))
            if v["sku"] not in self._products:
                errors.add(row.line, "sku", v["sku"], gettext("no such product"))
            if v["valid_from"] and v["valid_to"] and v["valid_to"] < v["valid_from"]:
                errors.add(row.line, "valid_to", row.raw.get("valid_to"), gettext("ends before it starts"))

    def plan(self, rows, options, user=None):
        list_ids = set(self._lists.values())
        existing = {
            (e["price_list_id"], e["product_id"], e["min_quantity"], e["valid_from"]): e
            for e in PriceEntry.objects.filter(price_list_id__in=list_ids).values("pk", "price_list_id", "product_id", "min_quantity", "valid_from", "unit_price", "valid_to")
        }
        new, changed, seen = [], [], set()
        new_lines, updated_lines = [], []
        for row in rows:
            v = row.values
            key = (self._lists[v["price_list"]], self._products[v["sku"]], v["min_quantity"], v["valid_from"])
            seen.add(key)
            current = existing.get(key)
            if current is None:
                new.append(PriceEntry(price_list_id=key[0], product_id=key[1], min_quantity=key[2], valid_from=key[3],
                                      unit_price=v["unit_price"], valid_to=v["valid_to"]))
                new_lines.append(row.line)
            elif current["unit_price"] != v["unit_price"] or current["valid_to"] != v["valid_to"]:
                changed.append(PriceEntry(pk=current["pk"], price_list_id=key[0], product_id=key[1], unit_price=v["unit_price"], valid_to=v["valid_to"]))
                updated_lines.append(row.line)
        to_delete = [e["pk"] for key, e in existing.items() if key not in seen] if options.replace else []
        deleted_keys = [key for key, e in existing.items() if key not in seen] if options.replace else []

        def apply():
            PriceEntry.objects.bulk_create(new, batch_size=BATCH)
            PriceEntry.objects.bulk_update(changed, ["unit_price", "valid_to"], batch_size=500)
            for start in range(0, len(to_delete), 5000):
                PriceEntry.objects.filter(pk__in=to_delete[start:start + 5000]).delete()
            touched = {f"{e.price_list_id}:{e.product_id}" for e in new + changed} | {f"{k[0]}:{k[1]}" for k in deleted_keys}
            change_record_many(topic=PRICE_TOPIC, object_ids=sorted(touched))

        return Plan(new=len(new), updated=len(changed), unchanged=len(rows) - len(new) - len(changed), deleted=len(to_delete), apply=apply,
                    new_lines=new_lines, updated_lines=updated_lines)

    def export_queryset(self):
        return PriceEntry.objects.select_related("price_list", "product").order_by("price_list__code", "product__sku", "min_quantity")

    def export_values(self, e):
        return [e.price_list.code, e.product.sku, e.min_quantity, e.unit_price, e.valid_from, e.valid_to]


for resource in (CategoryResource(), ProductResource(), PriceListResource(), PriceResource()):
    register(resource)
