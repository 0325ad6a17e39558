import pytest


@pytest.fixture(autouse=True)
def _fresh_price_cache():
    """Each test starts with an empty per-process price cache (and re-checks the triggers)."""
    from catalog.pricing.cache import price_cache

    price_cache.clear()
    yield
    price_cache.clear()
