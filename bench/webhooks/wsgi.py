"""The hub's WSGI application, plus `/bench/bare/` served by a Django handler with no middleware
at all: the reference a webhook delivery is compared with (same server, same senders)."""

import os

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.webhooks.settings")
hub = get_wsgi_application()


class NoMiddlewareHandler(WSGIHandler):
    def load_middleware(self, is_async=False):
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []
        self._middleware_chain = convert_exception_to_response(self._get_response)


bare = NoMiddlewareHandler()


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/bench/bare/":
        return bare(environ, start_response)
    return hub(environ, start_response)
