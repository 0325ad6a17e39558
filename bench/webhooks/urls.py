"""The hub's routes plus `/bench/bare/`: a plain view that reads the POSTed body and answers a
constant JSON, the reference for what the same server and senders manage without the inbox."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from hub.urls import urlpatterns as hub_urlpatterns


@csrf_exempt
def bare(request):
    request.body  # noqa: B018  (read the upload, as the inbox does)
    return HttpResponse(b'{"ok": true}', content_type="application/json")


urlpatterns = [path("bench/bare/", bare), *hub_urlpatterns]
