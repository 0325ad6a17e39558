"""Bench-only settings: the production settings plus a URLconf that adds a bare constant view."""

from hub.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.price_api.urls"
