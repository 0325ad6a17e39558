from django.apps import AppConfig


class LoopConfig(AppConfig):
    name = "connectors.loop"
    label = "connectors_loop"
    verbose_name = "Loop Returns"
