from django.urls import re_path

from connectors import views

# Only what an endpoint code can be (hub.models.code_validator): anything else is a plain 404.
urlpatterns = [re_path(r"^webhooks/(?P<code>[A-Za-z0-9][A-Za-z0-9._-]{0,49})/$", views.webhook, name="connector-webhook")]
