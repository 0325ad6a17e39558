from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class HubAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the hub's site (second factor at login): hub/admin_site.py."""

    default = False  # named in INSTALLED_APPS; HubConfig stays the default for "hub"
    default_site = "hub.admin_site.HubAdminSite"


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = _("Hub")

    def ready(self):
        from django_q.signals import post_execute, post_spawn, pre_execute

        from hub.logging import bind_task_id, unbind_task_id
        from hub.tasks import schedules_ensure

        pre_execute.connect(bind_task_id, dispatch_uid="hub.bind_task_id")
        post_execute.connect(unbind_task_id, dispatch_uid="hub.unbind_task_id")
        post_spawn.connect(schedules_ensure, dispatch_uid="hub.schedules_ensure")
