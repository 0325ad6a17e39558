"""gunicorn settings for production: `manage.py hub_run --production` uses them (or
`gunicorn -c hub/gunicorn_conf.py`). Environment: HUB_BIND, WEB_WORKERS (default: one per CPU
core), WEB_THREADS (default 4: a thread waiting on the database or a slow client does not hold
a core), WEB_TIMEOUT (seconds, default 30)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402

wsgi_app = ":".join(settings.WSGI_APPLICATION.rsplit(".", 1))  # as runserver
bind = os.environ.get("HUB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS") or os.cpu_count() or 2)
threads = int(os.environ.get("WEB_THREADS") or 4)
worker_class = "gthread"
keepalive = 5  # seconds an idle client connection stays open (the proxy or storefront reuses it)
timeout = int(os.environ.get("WEB_TIMEOUT") or 30)
preload_app = True  # load Django once, before forking: workers start fast and share memory


def post_fork(server, worker):
    connections.close_all()  # no database connection crosses a fork (loading opens none; belt and braces)


def layout() -> str:
    return f"gunicorn on {bind}: {workers} workers × {threads} threads ({worker_class}), keep-alive {keepalive} s, timeout {timeout} s"
