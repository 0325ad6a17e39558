import os

import pytest


@pytest.fixture(autouse=True)
def _prepared_statements_on(settings):
    """Exercise the PostgreSQL prepared-statement path (production runs with persistent
    connections); SQLite runs cover the portable queries, and so does PostgreSQL with
    PRICING_TESTS_PREPARED=0."""
    settings.HUB_PREPARED_STATEMENTS = os.environ.get("PRICING_TESTS_PREPARED", "1") == "1"


@pytest.fixture(autouse=True)
def _fresh_price_cache():
    """Each test starts with an empty per-process price cache (and re-checks the triggers)."""
    from orders.pricing import price_cache_clear

    price_cache_clear()
    yield
    price_cache_clear()
