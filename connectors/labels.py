"""Names the back office gives to connectors and their flows, in the reader's language: each
connector's `label` and each flow's `label` (translatable, declared with the flow)."""


def flow_label(flow: str) -> str:
    from connectors.registry import CONNECTORS

    for connector in CONNECTORS.values():
        for candidate in connector.flows:
            if candidate.name == flow and candidate.label:
                return str(candidate.label)
    return flow


def connector_label(kind: str) -> str:
    from connectors.registry import CONNECTORS

    connector = CONNECTORS.get(kind)
    return str(connector.label) if connector is not None and connector.label else kind
