import pytest

from connectors.models import Endpoint
from connectors.registry import CONNECTORS, register
from tests.connectors.echo import EchoConnector, Receiver
from tests.connectors.shopify_world import hub_url, sandbox_options, shop, world  # noqa: F401  (fixtures)
from tests.connectors.bigcommerce_world import bc_options, bc_world, bigcommerce  # noqa: F401  (fixtures)
from tests.connectors.magento_world import magento, magento_options, magento_world  # noqa: F401  (fixtures)
from tests.connectors.prestashop_world import prestashop, prestashop_options, ps_world  # noqa: F401  (fixtures)
from tests.connectors.shipbob_world import shipbob, shipbob_options, shipbob_world  # noqa: F401  (fixtures)
from tests.connectors.shipstation_world import shipstation, shipstation_options, shipstation_world  # noqa: F401
from tests.connectors.woocommerce_world import woo, woo_options, woo_world  # noqa: F401  (fixtures)
from tests.connectors.amazon_world import amazon, amazon_options, amazon_world  # noqa: F401  (fixtures)
from tests.connectors.ebay_world import ebay, ebay_world  # noqa: F401  (fixtures)
from tests.connectors.xero_world import books_world, xero, xero_options  # noqa: F401  (fixtures)
from tests.hub.factories import SalesChannelFactory


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def echo_endpoint(db, receiver):
    """An endpoint of the test connector, pushing to `receiver`."""
    register(EchoConnector())
    endpoint = Endpoint.objects.create(kind="echo-test", code="echo", name="Echo receiver", base_url=receiver.url,
                                       channel=SalesChannelFactory(code="echo-channel"), concurrency_limit=2)
    yield endpoint
    CONNECTORS.pop("echo-test", None)
