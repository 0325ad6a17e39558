"""Bench-only settings: the hub's settings plus a bare POST view as the reference."""

from hub.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.webhooks.urls"
