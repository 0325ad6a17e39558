"""Bench WSGI entry: `/bench/bare/` goes to a Django handler without middleware (the reference
the targets are measured against); everything else to the hub's own handler."""

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.test.utils import override_settings

hub = get_wsgi_application()
with override_settings(MIDDLEWARE=[]):
    bare = WSGIHandler()


def application(environ, start_response):
    return (bare if environ.get("PATH_INFO") == "/bench/bare/" else hub)(environ, start_response)
