from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = _("Returns")

    def ready(self):
        from hub.registry import AdminPanelSpec, register_admin_panel
        from returns.panels import customer_returns_panel

        register_admin_panel(AdminPanelSpec(model="orders.Customer", name="returns", title=_("Returns"), render=customer_returns_panel,
                                            permission="returns.view_rma", order=20))
