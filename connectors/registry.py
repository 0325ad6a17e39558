"""Endpoint kind → connector. Each sub-package of `connectors/` with a `connector.py` registers
its connector there; `discover()` imports them all, so the kernel names no vendor."""

import importlib
import importlib.util
import pkgutil

from connectors.options import ConnectorSettings


class Connector:
    """What the sync engine needs from one external system's protocol."""

    kind = ""
    label = ""
    flows: tuple = ()
    settings_form = ConnectorSettings
    credential_names: tuple[str, ...] = ()  # required, checked when an endpoint is saved
    needs_channel = True

    def client(self, *, endpoint, recorder):
        """The vendor's HTTP client for this endpoint, recording into `recorder`."""
        raise NotImplementedError

    def flow(self, name: str):
        for flow in self.flows:
            if flow.name == name:
                return flow
        raise LookupError(f"{self.kind} has no flow {name!r}")

    def enabled_flows(self, endpoint) -> list:
        chosen = set(endpoint.enabled_flows or [])
        return [flow for flow in self.flows if (flow.name in chosen if chosen else flow.enabled_by_default)]

    def sync_due(self, *, endpoint) -> int:
        """Queue whatever is due now, whatever the endpoint's schedules say (`hub_endpoint sync`);
        returns how many jobs were queued. Most connectors queue work as changes happen: nothing to do."""
        return 0

    def scheduled_flows(self) -> list:
        return [flow for flow in self.flows if getattr(flow, "every_minutes", None) is not None]

    # --- inbound (webhooks): see connectors.inbound.InboundRequest ------------------------------
    def acknowledge(self, *, endpoint, request):
        """An `Acknowledgement` for a request that is not a delivery (a ping, an endpoint
        challenge), answered before anything is stored; None for a delivery."""
        return None

    def verify_webhook(self, *, endpoint, request) -> bool:
        raise NotImplementedError

    def parse_webhook(self, body: bytes):
        """The delivery's document; ValueError with a message when the hub cannot read it."""
        from connectors.documents import json_document

        return json_document(body)

    def delivery_id(self, request) -> str:
        """The vendor's id for this event, when it has a stable one (deliveries are deduplicated on it)."""
        return ""

    def topic(self, request) -> str:
        return ""

    def topics(self) -> set[str]:
        """The topics this connector processes; a delivery of another topic is stored as ignored."""
        return set()

    def check_connection(self, *, endpoint) -> str:
        """Reach the system with the endpoint's credentials; return a one-line description or raise."""
        raise NotImplementedError

    def process(self, *, message) -> "Text | str":
        """Apply an accepted inbox message; returns a short outcome for the operator (a
        `hub.texts.Text`, shown in the reader's language; "ignored" when the message is not
        for the hub)."""
        raise NotImplementedError


CONNECTORS: dict[str, Connector] = {}


def register(connector: Connector) -> Connector:
    CONNECTORS[connector.kind] = connector
    return connector


def discover() -> None:
    """Import `connectors.<package>.connector` for every sub-package that has one."""
    import connectors

    for module in pkgutil.iter_modules(connectors.__path__):
        if module.ispkg and importlib.util.find_spec(f"connectors.{module.name}.connector") is not None:
            importlib.import_module(f"connectors.{module.name}.connector")


def connector_for(endpoint) -> Connector:
    try:
        return CONNECTORS[endpoint.kind]
    except KeyError:
        raise LookupError(f"no connector for kind {endpoint.kind!r}; known: {', '.join(sorted(CONNECTORS))}") from None
