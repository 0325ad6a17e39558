"""Bindings — a hub record ↔ its id in one external system — behind one typed API.

Flows never query `Binding` with string literals: they name a `BindingType` (declared once,
here for the kinds every connector shares, or in a vendor package for its own) and go through
`Binder(endpoint)`. A binding is stored the moment the vendor answers, in its own transaction, so
a crash later in a job never leads to creating the same record twice; `create_once` looks the
record up at the vendor by its natural key before creating it, for the crash that happens
between the vendor's answer and the binding."""

from dataclasses import dataclass

from django.db import transaction

from connectors.models import Binding


@dataclass(frozen=True)
class BindingType:
    name: str
    label: str
    model: str = ""  # "app_label.model" of the hub record, for links in the admin

    def __str__(self) -> str:
        return self.name


BINDING_TYPES: dict[str, BindingType] = {}


def binding_type(name: str, label: str, model: str = "") -> BindingType:
    declared = BindingType(name=name, label=label, model=model)
    BINDING_TYPES.setdefault(name, declared)
    return BINDING_TYPES[name]


PRODUCT = binding_type("product", "Product", "catalog.product")
VARIANT = binding_type("variant", "Variant", "catalog.product")
ORDER = binding_type("order", "Order", "orders.salesorder")
CUSTOMER = binding_type("customer", "Customer", "orders.customer")
SHIPMENT = binding_type("shipment", "Shipment", "orders.shipment")
REFUND = binding_type("refund", "Refund")
INVOICE = binding_type("invoice", "Invoice", "orders.invoice")
CREDIT_NOTE = binding_type("credit_note", "Credit note", "orders.creditnote")
PAYMENT = binding_type("payment", "Payment", "orders.payment")
RETURN = binding_type("return", "Return", "returns.rma")


class Binder:
    """Bindings of one endpoint."""

    def __init__(self, endpoint):
        self.endpoint = endpoint

    def _rows(self, kind: BindingType):
        return Binding.objects.filter(endpoint=self.endpoint, model=kind.name)

    def get(self, kind: BindingType, local_id) -> Binding | None:
        return self._rows(kind).filter(local_id=str(local_id)).first()

    def external_id(self, kind: BindingType, local_id) -> str | None:
        return self._rows(kind).filter(local_id=str(local_id)).values_list("external_id", flat=True).first()

    def local_id(self, kind: BindingType, external_id) -> str | None:
        return self._rows(kind).filter(external_id=str(external_id)).values_list("local_id", flat=True).first()

    def is_bound(self, kind: BindingType, *, local_id=None, external_id=None) -> bool:
        rows = self._rows(kind)
        rows = rows.filter(local_id=str(local_id)) if local_id is not None else rows.filter(external_id=str(external_id))
        return rows.exists()

    def many(self, kind: BindingType, local_ids, *, for_update: bool = False) -> dict[str, Binding]:
        """local id → binding, in chunks that stay under SQLite's variable limit."""
        ids = [str(i) for i in local_ids]
        found: dict[str, Binding] = {}
        for start in range(0, len(ids), 2000):
            rows = self._rows(kind).filter(local_id__in=ids[start:start + 2000])
            if for_update:
                rows = rows.select_for_update()
            found.update({binding.local_id: binding for binding in rows})
        return found

    def external_ids(self, kind: BindingType, local_ids) -> dict[str, str]:
        return {local: binding.external_id for local, binding in self.many(kind, local_ids).items()}

    def all(self, kind: BindingType):
        return self._rows(kind)

    def page(self, kind: BindingType, *, after: int = 0, size: int) -> list[Binding]:
        """Up to `size` bindings in creation order, after the binding with id `after`."""
        return list(self._rows(kind).filter(pk__gt=after).order_by("pk")[:size])

    def bind(self, kind: BindingType, local_id, external_id, *, fingerprint: str = "", data: dict | None = None,
             merge_data: bool = False) -> Binding:
        """Store (or move) the binding now, in its own transaction."""
        with transaction.atomic():
            defaults = {"external_id": str(external_id)}
            if fingerprint:
                defaults["fingerprint"] = fingerprint
            if data is not None:
                if merge_data:
                    previous = self._rows(kind).filter(local_id=str(local_id)).values_list("data", flat=True).first() or {}
                    data = {**previous, **data}
                defaults["data"] = data
            binding, _ = Binding.objects.update_or_create(endpoint=self.endpoint, model=kind.name, local_id=str(local_id),
                                                          defaults=defaults)
        return binding

    def update_data(self, bindings: list[Binding]) -> None:
        """Save the `data` of bindings changed in place (e.g. last pushed stock levels)."""
        from hub.bulk import bulk_update_fields

        bulk_update_fields(bindings, ["data"])

    def create_once(self, kind: BindingType, local_id, *, find, create, fingerprint: str = "", data=None):
        """Exactly-once create: an existing binding wins; otherwise the vendor is asked for the
        record by its natural key (`find()` → (external id, answer) or None) before `create()`
        (→ (external id, answer)) is called. Whatever is found or created is bound at once.
        Returns (answer, created)."""
        bound = self.get(kind, local_id)
        if bound is not None:
            return None, False
        found = find()
        if found is not None:
            external_id, answer = found
            self.bind(kind, local_id, external_id, fingerprint=fingerprint, data=data(answer) if callable(data) else data)
            return answer, False
        external_id, answer = create()
        self.bind(kind, local_id, external_id, fingerprint=fingerprint, data=data(answer) if callable(data) else data)
        return answer, True
