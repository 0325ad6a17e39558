"""Bench-only settings: the production settings plus a URLconf that adds a bare constant view."""

from hub.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.price_api.urls"

import os  # noqa: E402

if os.environ.get("HUB_PRICE_CACHE_SKUS"):
    HUB_PRICE_CACHE_SKUS = int(os.environ["HUB_PRICE_CACHE_SKUS"])  # 0: the price API's cache off (run.py --no-cache)
