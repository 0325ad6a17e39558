from django.urls import path

from connectors import views

urlpatterns = [path("webhooks/<str:code>/", views.webhook, name="connector-webhook")]
