"""Bench-only settings: the production settings plus the bench's WSGI entry and URLconf."""

from hub.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.price_api.urls"
WSGI_APPLICATION = "bench.price_api.wsgi.application"
