from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = _("Inventory")

    def ready(self):
        from hub.registry import AdminPanelSpec, register_admin_panel
        from inventory.panels import product_stock_panel

        register_admin_panel(AdminPanelSpec(model="catalog.Product", name="stock", title=_("Stock per warehouse"),
                                            render=product_stock_panel, permission="inventory.view_stocklevel", order=10))
