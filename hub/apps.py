from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Hub"

    def ready(self):
        from django.contrib import admin
        from django_q.signals import post_execute, pre_execute

        from hub.logging import bind_task_id, unbind_task_id

        pre_execute.connect(bind_task_id, dispatch_uid="hub.bind_task_id")
        post_execute.connect(unbind_task_id, dispatch_uid="hub.unbind_task_id")

        admin.site.site_header = "ERP Hub"
        admin.site.site_title = "ERP Hub"
        admin.site.index_title = "Operations"
        admin.site.index_template = "admin/hub_index.html"
