"""Endpoint kind → connector. One sub-package per external system registers itself here."""


class Connector:
    """What the sync engine needs from one external system's protocol."""

    kind = ""
    flows: tuple = ()
    credential_names: tuple[str, ...] = ()  # required, checked when an endpoint is saved

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

    def verify_webhook(self, *, endpoint, headers: dict, body: bytes) -> bool:
        raise NotImplementedError

    def parse_webhook(self, body: bytes):
        """The delivery's document; ValueError with a message when the hub cannot read it."""
        from connectors.documents import json_document

        return json_document(body)

    def delivery_id(self, headers: dict) -> str:
        return ""

    def topic(self, headers: dict) -> str:
        return ""

    def check_connection(self, *, endpoint) -> str:
        """Reach the system with the endpoint's credentials; return a one-line description or raise."""
        raise NotImplementedError

    def process(self, *, message) -> str:
        """Apply an accepted inbox message; returns a short outcome for the operator."""
        raise NotImplementedError


CONNECTORS: dict[str, Connector] = {}


def register(connector: Connector) -> Connector:
    CONNECTORS[connector.kind] = connector
    return connector


def connector_for(endpoint) -> Connector:
    try:
        return CONNECTORS[endpoint.kind]
    except KeyError:
        raise LookupError(f"no connector for kind {endpoint.kind!r}; known: {', '.join(sorted(CONNECTORS))}") from None
