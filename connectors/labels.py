"""Names the back office gives to connectors and their flows, in the reader's language."""

from django.utils.translation import gettext_lazy as _

# Flows as the back office names them (the connectors' own labels are for logs and developers).
FLOW_LABELS = {
    "products.out": _("Products and prices sent"), "stock.out": _("Available stock sent"), "stock.reconcile": _("Stock reconciliation"),
    "fulfilments.out": _("Shipments sent (with tracking)"), "cancellations.out": _("Cancellations sent"), "orders.poll": _("Orders fetched"),
    "items.out": _("Items sent"), "orders.out": _("Orders sent to the warehouse"), "shipments.poll": _("Shipments fetched"),
    "stock.in": _("Warehouse stock checked"), "returns.out": _("Expected returns sent"), "returns.poll": _("Returns fetched"),
    "contacts.out": _("Contacts sent"), "invoices.out": _("Invoices sent"), "credit_notes.out": _("Credit notes sent"),
    "payments.out": _("Payments and refunds sent"), "documents.batch": _("Daily batch"), "return.outcome": _("Return outcome sent"),
}


def flow_label(flow: str) -> str:
    return str(FLOW_LABELS.get(flow, flow))


def connector_label(kind: str) -> str:
    from connectors.registry import CONNECTORS

    connector = CONNECTORS.get(kind)
    return str(connector.label) if connector is not None and connector.label else kind
