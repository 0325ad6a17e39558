from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
