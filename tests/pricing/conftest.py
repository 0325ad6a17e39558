import os

import pytest


@pytest.fixture(autouse=True)
def _prepared_statements_on(settings):
    """Exercise the PostgreSQL prepared-statement path (production runs with persistent
    connections); SQLite runs cover the portable queries, and so does PostgreSQL with
    PRICING_TESTS_PREPARED=0."""
    settings.HUB_PREPARED_STATEMENTS = os.environ.get("PRICING_TESTS_PREPARED", "1") == "1"
