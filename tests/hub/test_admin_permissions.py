"""Every admin action, custom admin view and workflow button checks one specific permission.

Staff holding every view permission but not the specific one are refused (403, or the action is
not offered and a forged POST changes nothing in the database); staff holding the view
permissions plus exactly that one succeed. Actions and custom views are discovered from the admin
registry, so one without a case below, or an action that view permission alone allows, fails."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Task

from catalog.models import ChannelCatalog, PriceList, Product
from catalog.services import price_entry_set, product_update
from connectors.models import Endpoint, InboxMessage, SyncJob
from hub.imports.models import ImportJob
from hub.imports.services import import_job_create
from hub.services import api_token_create
from inventory.models import StockMovement
from inventory.services import stock_receive
from orders import services
from orders.models import SalesOrder
from orders.services import order_hold, order_import, payment_record, shipment_create
from returns import services as returns
from returns.models import ChannelReturnPolicy, Rma
from tests.catalog.factories import CategoryFactory, PriceEntryFactory, PriceListFactory, ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import CustomerFactory, order_payload

pytestmark = pytest.mark.django_db

DATA_APPS = ("auth", "axes", "hub", "catalog", "inventory", "orders", "returns", "connectors", "django_q")


def database_state() -> dict:
    """Every row of users, permissions and the hub's data: what a refused request must not change."""
    return {model._meta.label: list(model._default_manager.order_by("pk").values())
            for model in apps.get_models() if model._meta.app_label in DATA_APPS and not model._meta.proxy}


def permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@pytest.fixture
def staff(client, django_user_model):
    """Log in a staff user holding every view permission, plus `grant`, minus `deny`."""
    def login(*, grant=(), deny=()):
        user, _ = django_user_model.objects.get_or_create(username="staff", defaults={"is_staff": True})
        granted = set(Permission.objects.select_related("content_type").filter(codename__startswith="view_")) | {permission(p) for p in grant}
        user.user_permissions.set({p for p in granted if f"{p.content_type.app_label}.{p.codename}" not in deny})
        client.force_login(user)
        return client
    return login


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# --- What the cases act on ---------------------------------------------------------------------

def an_order(status: str) -> SalesOrder:
    if status == "confirmed":  # between confirmation and allocation (e.g. allocation interrupted)
        order = an_order("received")
        SalesOrder.objects.filter(pk=order.pk).update(status="confirmed")
        return reloaded(order)
    channel, warehouse = SalesChannelFactory(code="web"), WarehouseFactory(code="LYON")
    stock_receive(product=ProductFactory(sku="LAMP-1", name="Lampe"), warehouse=warehouse, quantity=10)
    paid = status in {"allocated", "shipped"}
    order, _ = order_import(channel=channel, data=order_payload(payment_status="paid" if paid else "pending"))
    if status == "on_hold":
        order_hold(order=order, reason="checking the address")
    if status == "shipped":
        payment_record(order=order, amount="54.90", method="card")
        shipment_create(order=order, warehouse=warehouse, lines=[(order.lines.get(), 2)])
    order.refresh_from_db()
    assert order.status == status
    return order


def an_rma(status: str) -> Rma:
    rma = returns.rma_request(order=an_order("shipped"), lines=[{"order_line": SalesOrder.objects.get().lines.get(), "quantity": 1, "reason": "size_fit"}])
    if status in {"authorised", "received", "refunded"}:
        returns.rma_authorise(rma=rma)
    if status in {"received", "refunded"}:
        returns.rma_receive(rma=rma, quantities={rma.lines.get().pk: 1})
    if status == "refunded":
        returns.rma_inspect(rma=rma, results={rma.lines.get().pk: {"condition": "sellable", "disposition": "restock"}})
    rma.refresh_from_db()
    assert rma.status == status
    return rma


def an_endpoint() -> Endpoint:
    return Endpoint.objects.create(kind="shopify", code="shop", name="Shop", base_url="https://shop.example",
                                   channel=SalesChannelFactory(code="web"))


def a_failed_job() -> SyncJob:
    return SyncJob.objects.create(endpoint=an_endpoint(), flow="products", record_key="1", record_label="LAMP-1",
                                  status=SyncJob.Status.FAILED, payload={"sku": "LAMP-1"}, next_attempt_at=timezone.now())


def a_task(*, success: bool) -> Task:
    now = timezone.now()
    return Task.objects.create(id=uuid.uuid4().hex, name=f"ping-{success}", func="hub.tasks.ping", args=("again",), kwargs={},
                               started=now, stopped=now, success=success)


def an_import(*, dry_run: bool, content: bytes = b"sku,name\nA1,Lamp\n") -> ImportJob:
    return import_job_create(resource="products", uploaded_file=SimpleUploadedFile("p.csv", content), dry_run=dry_run)


def reloaded(obj):
    return type(obj)._default_manager.get(pk=obj.pk)


# --- Admin actions -----------------------------------------------------------------------------

@dataclass
class ActionCase:
    model: str
    action: str
    permission: str
    arrange: Callable  # () -> (selected pk, done: () -> bool)

    def __str__(self):
        return f"{self.model}.{self.action}"


def _order_action(status, done_status):
    def arrange():
        order = an_order(status)
        return order.pk, lambda: reloaded(order).status == done_status
    return arrange


def _rma_action(status, done):
    def arrange():
        rma = an_rma(status)
        return rma.pk, lambda: done(reloaded(rma))
    return arrange


def _refund():
    """Received under a policy that refunds after inspection, which then changed to refund on receipt."""
    rma = an_rma("received")
    ChannelReturnPolicy.objects.update_or_create(channel=rma.channel, defaults={"refund_trigger": "received"})
    return rma.pk, lambda: reloaded(rma).refunded_total > 0


def _issue_token():
    channel = SalesChannelFactory(code="web")
    return channel.pk, lambda: channel.api_tokens.exists()


def _revoke_token():
    token, _ = api_token_create(channel=SalesChannelFactory(code="web"), name="shop")
    return token.pk, lambda: reloaded(token).revoked_at is not None


def _product(status, done_status):
    def arrange():
        product = ProductFactory(sku="LAMP-1", status=status)
        return product.pk, lambda: reloaded(product).status == done_status
    return arrange


def _job_action(done_status):
    def arrange():
        job = a_failed_job()
        return job.pk, lambda: reloaded(job).status == done_status
    return arrange


def _replay():
    message = InboxMessage.objects.create(endpoint=an_endpoint(), topic="orders/create", body=b"{}", signature_ok=True,
                                          status=InboxMessage.Status.FAILED)
    return message.pk, lambda: reloaded(message).attempts == 1


def _customer_match(done_status):
    def arrange():
        from orders.models import CustomerMatch

        match = CustomerMatch.objects.create(customer=CustomerFactory(code="WEB-2", email="ana@example.com"),
                                             existing=CustomerFactory(code="B2B-1", email="ana@example.com"), reason="same e-mail")
        return match.pk, lambda: reloaded(match).status == done_status
    return arrange


def _lift_lockout():
    from axes.models import AccessAttempt

    locked = AccessAttempt.objects.create(username="mallory", ip_address="10.0.0.9", user_agent="x", get_data="", post_data="",
                                          http_accept="", path_info="/admin/login/", failures_since_start=5)
    return locked.pk, lambda: not AccessAttempt.objects.filter(pk=locked.pk).exists()


def _resubmit_failure():
    task = a_task(success=False)
    return task.pk, lambda: not Task.objects.filter(pk=task.pk).exists()


def _resubmit_success():
    task, queued = a_task(success=True), get_broker().queue_size()
    return task.pk, lambda: get_broker().queue_size() == queued + 1


ACTION_CASES = [
    ActionCase("hub.SalesChannel", "issue_token", "hub.issue_apitoken", _issue_token),
    ActionCase("hub.ApiToken", "revoke", "hub.revoke_apitoken", _revoke_token),
    ActionCase("catalog.Product", "activate", "catalog.activate_product", _product(Product.Status.DRAFT, Product.Status.ACTIVE)),
    ActionCase("catalog.Product", "archive", "catalog.archive_product", _product(Product.Status.ACTIVE, Product.Status.ARCHIVED)),
    ActionCase("orders.SalesOrder", "confirm", "orders.confirm_salesorder", _order_action("received", "allocated")),
    ActionCase("orders.SalesOrder", "allocate", "orders.confirm_salesorder", _order_action("confirmed", "allocated")),
    ActionCase("orders.SalesOrder", "hold", "orders.hold_salesorder", _order_action("received", "on_hold")),
    ActionCase("orders.SalesOrder", "release", "orders.release_salesorder", _order_action("on_hold", "allocated")),
    ActionCase("orders.SalesOrder", "cancel", "orders.cancel_salesorder", _order_action("received", "cancelled")),
    ActionCase("orders.SalesOrder", "ship_reserved", "orders.ship_salesorder", _order_action("allocated", "shipped")),
    ActionCase("orders.SalesOrder", "complete", "orders.complete_salesorder", _order_action("shipped", "completed")),
    ActionCase("returns.Rma", "authorise", "returns.authorise_rma", _rma_action("requested", lambda r: r.status == "authorised")),
    ActionCase("returns.Rma", "reject", "returns.reject_rma", _rma_action("requested", lambda r: r.status == "rejected")),
    ActionCase("returns.Rma", "cancel", "returns.cancel_rma", _rma_action("requested", lambda r: r.status == "cancelled")),
    ActionCase("returns.Rma", "refund", "returns.refund_rma", _refund),
    ActionCase("returns.Rma", "close", "returns.close_rma", _rma_action("refunded", lambda r: r.status == "closed")),
    ActionCase("connectors.SyncJob", "retry", "connectors.retry_syncjob", _job_action(SyncJob.Status.PENDING)),
    ActionCase("connectors.SyncJob", "resolve", "connectors.resolve_syncjob", _job_action(SyncJob.Status.RESOLVED)),
    ActionCase("connectors.InboxMessage", "replay", "connectors.replay_inboxmessage", _replay),
    ActionCase("orders.CustomerMatch", "link", "orders.link_customermatch", _customer_match("linked")),
    ActionCase("orders.CustomerMatch", "dismiss", "orders.link_customermatch", _customer_match("dismissed")),
    ActionCase("axes.AccessAttempt", "lift_lockout", "axes.delete_accessattempt", _lift_lockout),
    ActionCase("django_q.Failure", "resubmit_task", "django_q.change_failure", _resubmit_failure),
    ActionCase("django_q.Success", "resubmit_task", "django_q.change_success", _resubmit_success),
]


def changelist(label: str) -> str:
    model = apps.get_model(label)
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def registered_actions():
    request = RequestFactory().get("/")
    request.user = type("Superuser", (), {"is_active": True, "is_staff": True, "is_superuser": True,
                                          "has_perm": lambda self, perm, obj=None: True})()
    for model, model_admin in admin.site._registry.items():
        for name, (func, _, _) in model_admin.get_actions(request).items():
            yield model._meta.label, name, func


def test_every_admin_action_needs_a_permission_that_viewing_does_not_give():
    loose = [f"{label}.{name}: {getattr(func, 'allowed_permissions', None)}" for label, name, func in registered_actions()
             if not getattr(func, "allowed_permissions", None) or "view" in func.allowed_permissions]
    assert loose == []


# "Export selected" (django-import-export's action, run by the hub engine) on every list with an Export button.
EXPORT_LISTS = ["catalog.Category", "catalog.Product", "catalog.PriceList", "catalog.PriceEntry", "inventory.Warehouse",
                "inventory.StockLevel", "orders.Customer", "orders.SalesOrder", "orders.Invoice", "returns.Rma"]


def test_every_admin_action_has_a_permission_case_here():
    registered = {(label, name) for label, name, _ in registered_actions() if name != "delete_selected"}
    assert registered == {(case.model, case.action) for case in ACTION_CASES} | {(label, "export_admin_action") for label in EXPORT_LISTS}


def _an_exportable(label):
    if label in {"orders.SalesOrder", "orders.Invoice"}:
        order = an_order("shipped")
        return order if label == "orders.SalesOrder" else order.invoices.get()
    if label == "returns.Rma":
        return an_rma("requested")
    if label == "inventory.StockLevel":
        stock_receive(product=ProductFactory(sku="LAMP-1"), warehouse=WarehouseFactory(code="LYON"), quantity=3)
        return apps.get_model(label).objects.get()
    factories = {"catalog.Category": lambda: CategoryFactory(name="Lighting", path="Lighting"),
                 "catalog.Product": lambda: ProductFactory(sku="LAMP-1"), "catalog.PriceList": lambda: PriceListFactory(code="PUBLIC"),
                 "catalog.PriceEntry": lambda: PriceEntryFactory(), "inventory.Warehouse": lambda: WarehouseFactory(code="LYON"),
                 "orders.Customer": lambda: CustomerFactory(code="HOTEL")}
    return factories[label]()


@pytest.mark.parametrize("label", EXPORT_LISTS)
def test_export_selected_is_not_offered_without_the_export_permission_and_a_forged_post_exports_nothing(label, staff):
    selected = _an_exportable(label).pk
    client = staff(deny=["hub.export_importjob"])
    url = changelist(label)
    action_form = client.get(url).context["action_form"]
    assert "export_admin_action" not in ([name for name, _ in action_form.fields["action"].choices] if action_form else [])
    response = client.post(url, {"action": "export_admin_action", "_selected_action": [selected]})
    assert response.status_code in {200, 302, 403} and "export_items" not in response.content.decode()


@pytest.mark.parametrize("label", EXPORT_LISTS)
def test_export_selected_offers_the_selected_rows_to_staff_with_the_export_permission(label, staff):
    selected = _an_exportable(label).pk
    client = staff(grant=["hub.export_importjob"])
    response = client.post(changelist(label), {"action": "export_admin_action", "_selected_action": [selected]})
    assert response.status_code == 200
    assert f'name="export_items" value="{selected}"' in response.content.decode()


@pytest.mark.parametrize("case", ACTION_CASES, ids=str)
def test_an_action_is_not_offered_without_its_permission_and_a_forged_post_changes_nothing(case, staff):
    selected, done = case.arrange()
    client = staff(deny=[case.permission])
    url = changelist(case.model)
    action_form = client.get(url).context["action_form"]  # None when no action is offered at all
    offered = [name for name, _ in action_form.fields["action"].choices] if action_form else []
    assert case.action not in offered
    before = database_state()
    response = client.post(url, {"action": case.action, "_selected_action": [selected]})
    assert response.status_code in {200, 302, 403}
    assert database_state() == before and not done()


@pytest.mark.parametrize("case", ACTION_CASES, ids=str)
def test_an_action_runs_for_staff_with_exactly_its_permission(case, staff):
    selected, done = case.arrange()
    client = staff(grant=[case.permission])
    response = client.post(changelist(case.model), {"action": case.action, "_selected_action": [selected]})
    assert response.status_code == 302 and done()


# --- Custom admin views ------------------------------------------------------------------------

@dataclass
class ViewCase:
    name: str
    permission: str | tuple  # all of them are needed
    arrange: Callable  # () -> (url, POST data or None for a GET, done: (response) -> bool)

    def __str__(self):
        return self.name

    @property
    def permissions(self) -> tuple:
        return (self.permission,) if isinstance(self.permission, str) else self.permission


def _ok(response):
    return response.status_code == 200


def _new_import():
    upload = SimpleUploadedFile("p.csv", b"sku,name\nA1,Lamp\n")
    return reverse("admin:hub_importjob_new"), {"resource": "products", "file": upload, "import": "1"}, \
        lambda response: Product.objects.filter(sku="A1").exists()


def _confirm_import():
    dry = an_import(dry_run=True)
    return reverse("admin:hub_importjob_confirm", args=[dry.pk]), {}, lambda response: Product.objects.filter(sku="A1").exists()


def _import_page(name, **content):
    def arrange():
        job = an_import(dry_run=False, **content)
        return reverse(f"admin:{name}", args=[job.pk]), None, _ok
    return arrange


def _export():
    ProductFactory(sku="A1")
    return reverse("admin:hub_importjob_export") + "?resource=products&format=csv", None, \
        lambda response: response.status_code == 200 and b"A1" in b"".join(response.streaming_content)


def _stock_form(kind):
    def arrange():
        product, lyon, paris = ProductFactory(sku="LAMP-1"), WarehouseFactory(code="LYON"), WarehouseFactory(code="PARIS")
        stock_receive(product=product, warehouse=lyon, quantity=10)
        data = {"product": product.pk, "warehouse": lyon.pk, "quantity_delta": 5, "kind": "adjustment", "reason": "found", "lot": ""} \
            if kind == "adjust" else {"product": product.pk, "from_warehouse": lyon.pk, "to_warehouse": paris.pk, "quantity": 4, "reference": "TR-1"}
        return reverse(f"admin:inventory_stock_{kind}"), data, lambda response: StockMovement.objects.count() > 1
    return arrange


def _staff_order():
    channel, product = SalesChannelFactory(code="phone"), ProductFactory(sku="LAMP-1")
    stock_receive(product=product, warehouse=WarehouseFactory(code="LYON"), quantity=10)
    ChannelCatalog.objects.create(channel=channel, public_price_list=PriceEntryFactory(product=product, unit_price="25.00").price_list)
    hotel = CustomerFactory(code="HOTEL", channels=[channel])
    data = {"channel": channel.pk, "customer": hotel.pk, "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-0-product": product.pk,
            "lines-0-quantity": "2", "tax_rate": "0.20", "shipping": "0", "payment_status": "pending", "notes": ""}
    return reverse("admin:orders_staff_order"), data, lambda response: SalesOrder.objects.filter(channel=channel).exists()


def _invoice_print():
    invoice = an_order("shipped").invoices.get()
    return reverse("admin:orders_invoice_print", args=[invoice.pk]), None, lambda response: invoice.number in response.content.decode()


def _credit_note_print():
    invoice = an_order("shipped").invoices.get()
    note = services.invoice_credit_in_full(invoice=invoice, reason="goodwill")
    return reverse("admin:orders_creditnote_print", args=[note.pk]), None, lambda response: note.number in response.content.decode()


def _credit_invoice():
    invoice = an_order("shipped").invoices.get()
    return reverse("admin:orders_invoice_credit", args=[invoice.pk]), {"reason": "goodwill"}, lambda response: invoice.credit_notes.exists()


def _fec():
    from orders.models import CompanySettings

    CompanySettings.objects.create(name="Maison Test", siren="842519373")
    invoice = an_order("shipped").invoices.get()
    return reverse("admin:orders_companysettings_fec") + "?export=1", None, \
        lambda response: "842519373FEC" in response["Content-Disposition"] and invoice.number.encode() in response.content


def _receive():
    rma = an_rma("authorised")
    return reverse("admin:returns_rma_receive", args=[rma.pk]), {f"line_{rma.lines.get().pk}": 1}, \
        lambda response: reloaded(rma).status == "received"


def _inspect():
    rma = an_rma("received")
    line = rma.lines.get()
    data = {f"condition_{line.pk}": "sellable", f"disposition_{line.pk}": "restock", f"warehouse_{line.pk}": ""}
    return reverse("admin:returns_rma_inspect", args=[rma.pk]), data, lambda response: reloaded(rma).status != "received"


def _console():
    an_endpoint()
    return reverse("admin:connectors_console"), None, lambda response: _ok(response) and b"Shop (shop, Shopify)" in response.content


def _edit_payload():
    job = a_failed_job()
    return reverse("admin:connectors_syncjob_edit_payload", args=[job.pk]), {"payload": '{"sku": "LAMP-1", "name": "fixed"}'}, \
        lambda response: reloaded(job).payload == {"sku": "LAMP-1", "name": "fixed"}


def _password_change():
    clerk = get_user_model().objects.create_user("clerk", password="an-old-passphrase")
    data = {"password1": "a-new-passphrase-42", "password2": "a-new-passphrase-42"}
    return reverse("admin:auth_user_password_change", args=[clerk.pk]), data, \
        lambda response: reloaded(clerk).check_password("a-new-passphrase-42")


IMPORT_LISTS = {"catalog.Category": b"path\nLighting\n", "catalog.Product": b"sku,name\nA1,Lamp\n",
                "catalog.PriceList": b"code,name,currency\nPUBLIC,Public,EUR\n", "catalog.PriceEntry": None,
                "inventory.Warehouse": b"code,name\nLYON,Lyon\n", "inventory.StockLevel": None,
                "orders.Customer": b"code,name\nHOTEL,Hotel\n"}


def _spreadsheet_file(label):
    """A file of one new row for the list's resource (creating what it refers to)."""
    if label == "catalog.PriceEntry":
        PriceListFactory(code="PUBLIC"), ProductFactory(sku="A1")
        return b"price_list,sku,unit_price\nPUBLIC,A1,9.90\n"
    if label == "inventory.StockLevel":
        ProductFactory(sku="A1"), WarehouseFactory(code="LYON")
        return b"sku,warehouse,quantity\nA1,LYON,4\n"
    return IMPORT_LISTS[label]


def _model_url(label, view):
    model = apps.get_model(label)
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}")


def _list_import_page(label):
    def arrange():
        data = {"import_file": SimpleUploadedFile("file.csv", _spreadsheet_file(label)), "format": "0", "resource": "0"}
        return _model_url(label, "import"), data, lambda response: _ok(response) and ImportJob.objects.filter(dry_run=True, status="succeeded").exists() \
            and 'id="import-confirm"' in response.content.decode()
    return arrange


def _process_import(label):
    def arrange():
        model = apps.get_model(label)
        staff_user, _ = get_user_model().objects.get_or_create(username="staff", defaults={"is_staff": True})
        dry = import_job_create(resource=admin.site._registry[model].hub_resource, user=staff_user, dry_run=True,
                                uploaded_file=SimpleUploadedFile("file.csv", _spreadsheet_file(label)))
        assert dry.status == "succeeded", dry.errors
        data = {"import_job": dry.pk, "import_file_name": dry.file.name, "original_file_name": dry.original_name, "format": "0", "resource": "0"}
        return _model_url(label, "process_import"), data, lambda response: ImportJob.objects.filter(dry_run=False, status="succeeded", new=1).exists()
    return arrange


def _export_page(label):
    def arrange():
        _an_exportable(label)
        return _model_url(label, "export"), {"format": "0"}, \
            lambda response: response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return arrange


def _import_permissions(label):
    model = apps.get_model(label)
    return (f"{model._meta.app_label}.add_{model._meta.model_name}", f"{model._meta.app_label}.change_{model._meta.model_name}", "hub.run_importjob")


def _export_permissions(label):
    model = apps.get_model(label)
    return (f"{model._meta.app_label}.view_{model._meta.model_name}", "hub.export_importjob")


def _snake(label):
    model = apps.get_model(label)
    return f"{model._meta.app_label}_{model._meta.model_name}"


SPREADSHEET_VIEW_CASES = [
    *(ViewCase(f"{_snake(label)}_import", _import_permissions(label), _list_import_page(label)) for label in IMPORT_LISTS),
    *(ViewCase(f"{_snake(label)}_process_import", _import_permissions(label), _process_import(label)) for label in IMPORT_LISTS),
    *(ViewCase(f"{_snake(label)}_export", _export_permissions(label), _export_page(label)) for label in EXPORT_LISTS),
]

VIEW_CASES = [
    *SPREADSHEET_VIEW_CASES,
    ViewCase("auth_user_password_change", "auth.change_user", _password_change),
    ViewCase("hub_importjob_new", "hub.run_importjob", _new_import),
    ViewCase("hub_importjob_confirm", "hub.run_importjob", _confirm_import),
    ViewCase("hub_importjob_result", "hub.view_importjob", _import_page("hub_importjob_result")),
    ViewCase("hub_importjob_errors", "hub.view_importjob", _import_page("hub_importjob_errors", content=b"sku,weight_g\nA1,lots\n")),
    ViewCase("hub_importjob_export", "hub.export_importjob", _export),
    ViewCase("inventory_stock_adjust", "inventory.adjust_stocklevel", _stock_form("adjust")),
    ViewCase("inventory_stock_transfer", "inventory.transfer_stocklevel", _stock_form("transfer")),
    ViewCase("orders_staff_order", "orders.add_salesorder", _staff_order),
    ViewCase("orders_invoice_print", "orders.view_invoice", _invoice_print),
    ViewCase("orders_invoice_credit", "orders.add_creditnote", _credit_invoice),
    ViewCase("orders_creditnote_print", "orders.view_creditnote", _credit_note_print),
    ViewCase("orders_companysettings_fec", "orders.export_fec", _fec),
    ViewCase("returns_rma_receive", "returns.receive_rma", _receive),
    ViewCase("returns_rma_inspect", "returns.inspect_rma", _inspect),
    ViewCase("connectors_console", "connectors.view_endpoint", _console),
    ViewCase("connectors_syncjob_edit_payload", "connectors.edit_payload_syncjob", _edit_payload),
]
HISTORY_VIEWS = ["catalog_product_simple_history", "catalog_pricelist_simple_history", "catalog_priceentry_simple_history"]
# A second factor's key is shown only on the command line (`hub_2fa enrol`), never in the admin.
SECRET_VIEWS = ["otp_totp_totpdevice_config", "otp_totp_totpdevice_qrcode"]


def custom_admin_view_names() -> set[str]:
    names = set()
    for model_admin in admin.site._registry.values():
        standard = {pattern.name for pattern in admin.ModelAdmin.get_urls(model_admin)}
        names |= {pattern.name for pattern in model_admin.get_urls() if pattern.name not in standard}
    return names


def test_every_custom_admin_view_has_a_permission_case_here():
    assert custom_admin_view_names() == {case.name for case in VIEW_CASES} | set(HISTORY_VIEWS) | set(SECRET_VIEWS)


@pytest.mark.parametrize("name", SECRET_VIEWS)
def test_no_one_reads_a_second_factors_key_in_the_admin(name, admin_client, django_user_model):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=django_user_model.objects.create_user("ana", is_staff=True), name="phone")
    response = admin_client.get(reverse(f"admin:{name}", args=[device.pk]))
    assert response.status_code == 403 and device.key not in response.content.decode()


def send(client, url, data):
    return client.get(url) if data is None else client.post(url, data)


@pytest.mark.parametrize(("case", "missing"), [(case, perm) for case in VIEW_CASES for perm in case.permissions],
                         ids=[f"{case}-{perm}" for case in VIEW_CASES for perm in case.permissions])
def test_a_custom_view_answers_403_without_its_permission_and_changes_nothing(case, missing, staff):
    url, data, done = case.arrange()
    client = staff(grant=case.permissions, deny=[missing])
    before = database_state()
    assert client.get(url).status_code == 403
    assert send(client, url, data).status_code == 403
    assert database_state() == before


@pytest.mark.parametrize("case", VIEW_CASES, ids=str)
def test_a_custom_view_works_for_staff_with_exactly_its_permission(case, staff):
    url, data, done = case.arrange()
    client = staff(grant=case.permissions)
    response = send(client, url, data)
    assert response.status_code in {200, 302} and done(response)


# --- Missing objects are 404, not 500 ----------------------------------------------------------

@pytest.mark.parametrize("url", [
    "/admin/hub/importjob/not-a-number/change/",
    "/admin/hub/importjob/999999/change/",
    "/admin/hub/importjob/999999/result/",
    "/admin/connectors/syncjob/999999/edit-payload/",
    "/admin/returns/rma/999999/receive/",
    "/admin/orders/invoice/999999/print/",
    "/admin/orders/invoice/999999/credit/",
    "/admin/catalog/product/not-a-number/history/1/",
    "/admin/catalog/product/1/history/not-a-number/",
])
def test_a_custom_view_for_a_missing_object_answers_404(url, admin_client):
    assert admin_client.get(url).status_code == 404


# --- History pages show old versions but never write them back ---------------------------------

def _history_of(model_name):
    if model_name == "product":
        product = ProductFactory(sku="LAMP-1", name="Lampe")
        product_update(product=product, name="Lampe bleue")
        return product, lambda: reloaded(product).name == "Lampe bleue"
    price_list = PriceListFactory(code="PUBLIC", name="Public")
    entry = price_entry_set(price_list=price_list, product=ProductFactory(sku="LAMP-1"), unit_price="25.00")
    price_entry_set(price_list=price_list, product=entry.product, unit_price="30.00")
    if model_name == "pricelist":
        PriceList.objects.filter(pk=price_list.pk).update(name="Public 2025")
        return price_list, lambda: True
    return reloaded(entry), lambda: reloaded(entry).unit_price == Decimal("30.00")


@pytest.mark.parametrize("name", HISTORY_VIEWS)
@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_a_history_version_is_shown_but_a_revert_is_refused_and_changes_nothing(name, who, staff):
    model_name = name.split("_")[1]
    obj, unchanged = _history_of(model_name)
    oldest = obj.history.order_by("history_id").first()
    model = type(obj)
    grant = [f"catalog.change_{model_name}"] if who == "editor" else []
    client = staff(grant=grant)
    url = reverse(f"admin:{name}", args=[obj.pk, oldest.history_id])
    assert client.get(url).status_code == 200
    form = {field.name: getattr(oldest, field.attname) or "" for field in model._meta.concrete_fields if field.editable}
    before = database_state()
    response = client.post(url, form)
    assert database_state() == before and unchanged()
    assert response.status_code == 403


# --- Workflow buttons are shown only to who may use them ----------------------------------------

def _rma_receive_link():
    rma = an_rma("authorised")
    return changelist("returns.Rma"), reverse("admin:returns_rma_receive", args=[rma.pk])


def _rma_inspect_link():
    rma = an_rma("received")
    return changelist("returns.Rma"), reverse("admin:returns_rma_inspect", args=[rma.pk])


def _confirm_button():
    dry = an_import(dry_run=True)
    return reverse("admin:hub_importjob_result", args=[dry.pk]), reverse("admin:hub_importjob_confirm", args=[dry.pk])


def _edit_payload_button():
    job = a_failed_job()
    return reverse("admin:connectors_syncjob_change", args=[job.pk]), reverse("admin:connectors_syncjob_edit_payload", args=[job.pk])


def _change_page_link(model, arrange, url_name):
    def links():
        obj = arrange()
        return reverse(f"admin:{model}_change", args=[obj.pk]), reverse(f"admin:{url_name}", args=[obj.pk])
    return links


BUTTONS = [
    ("returns.receive_rma", _change_page_link("returns_rma", lambda: an_rma("authorised"), "returns_rma_receive")),
    ("returns.inspect_rma", _change_page_link("returns_rma", lambda: an_rma("received"), "returns_rma_inspect")),
    ("orders.add_creditnote", _change_page_link("orders_invoice", lambda: an_order("shipped").invoices.get(), "orders_invoice_credit")),
    ("inventory.adjust_stocklevel", lambda: (changelist("inventory.StockLevel"), reverse("admin:inventory_stock_adjust"))),
    ("inventory.transfer_stocklevel", lambda: (changelist("inventory.StockLevel"), reverse("admin:inventory_stock_transfer"))),
    ("orders.add_salesorder", lambda: (changelist("orders.SalesOrder"), reverse("admin:orders_staff_order"))),
    ("hub.run_importjob", lambda: (changelist("hub.ImportJob"), reverse("admin:hub_importjob_new"))),
    ("hub.export_importjob", lambda: (changelist("hub.ImportJob"), reverse("admin:hub_importjob_export"))),
    ("hub.run_importjob", _confirm_button),
    ("returns.receive_rma", _rma_receive_link),
    ("returns.inspect_rma", _rma_inspect_link),
    ("connectors.edit_payload_syncjob", _edit_payload_button),
]


@pytest.mark.parametrize(("perm", "arrange"), BUTTONS, ids=[f"{perm}-{i}" for i, (perm, _) in enumerate(BUTTONS)])
@pytest.mark.parametrize("granted", [False, True])
def test_a_workflow_button_is_shown_only_with_its_permission(perm, arrange, granted, staff):
    page, target = arrange()
    client = staff(grant=[perm]) if granted else staff(deny=[perm])
    response = client.get(page)
    assert response.status_code == 200
    assert (f'href="{target}"' in response.content.decode() or f'action="{target}"' in response.content.decode()) is granted


# --- Workflow buttons on change pages: POST `_workflow=<step>` to the page itself ---------------

@dataclass
class WorkflowCase:
    model: str
    step: str
    permission: str
    arrange: Callable  # () -> (object pk, done: () -> bool)

    def __str__(self):
        return f"{self.model}.{self.step}"


WORKFLOW_CASES = [
    WorkflowCase("orders.SalesOrder", "confirm", "orders.confirm_salesorder", _order_action("received", "allocated")),
    WorkflowCase("orders.SalesOrder", "allocate", "orders.confirm_salesorder", _order_action("confirmed", "allocated")),
    WorkflowCase("orders.SalesOrder", "release", "orders.release_salesorder", _order_action("on_hold", "allocated")),
    WorkflowCase("orders.SalesOrder", "ship", "orders.ship_salesorder", _order_action("allocated", "shipped")),
    WorkflowCase("orders.SalesOrder", "complete", "orders.complete_salesorder", _order_action("shipped", "completed")),
    WorkflowCase("orders.SalesOrder", "hold", "orders.hold_salesorder", _order_action("received", "on_hold")),
    WorkflowCase("orders.SalesOrder", "cancel", "orders.cancel_salesorder", _order_action("received", "cancelled")),
    WorkflowCase("returns.Rma", "authorise", "returns.authorise_rma", _rma_action("requested", lambda r: r.status == "authorised")),
    WorkflowCase("returns.Rma", "reject", "returns.reject_rma", _rma_action("requested", lambda r: r.status == "rejected")),
    WorkflowCase("returns.Rma", "refund", "returns.refund_rma", _refund),
    WorkflowCase("returns.Rma", "close", "returns.close_rma", _rma_action("refunded", lambda r: r.status == "closed")),
    WorkflowCase("returns.Rma", "cancel", "returns.cancel_rma", _rma_action("requested", lambda r: r.status == "cancelled")),
    WorkflowCase("connectors.SyncJob", "retry", "connectors.retry_syncjob", _job_action(SyncJob.Status.PENDING)),
    WorkflowCase("connectors.SyncJob", "resolve", "connectors.resolve_syncjob", _job_action(SyncJob.Status.RESOLVED)),
]


def registered_workflows():
    for model, model_admin in admin.site._registry.items():
        for workflow in getattr(model_admin, "workflows", ()):
            yield model._meta.label, workflow


def test_every_workflow_button_has_a_permission_case_here():
    posted = {(label, workflow.name) for label, workflow in registered_workflows() if not workflow.url_name}
    assert posted == {(case.model, case.step) for case in WORKFLOW_CASES}
    linked = {workflow.url_name for _, workflow in registered_workflows() if workflow.url_name}
    assert linked <= {case.name for case in VIEW_CASES}


def change_page(label: str, pk) -> str:
    model = apps.get_model(label)
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])


def workflow_button(step: str) -> str:
    return f'name="_workflow" value="{step}"'


@pytest.mark.parametrize("case", WORKFLOW_CASES, ids=str)
def test_a_workflow_button_is_not_shown_without_its_permission_and_a_forged_post_changes_nothing(case, staff):
    pk, done = case.arrange()
    client = staff(deny=[case.permission])
    url = change_page(case.model, pk)
    page = client.get(url)
    assert page.status_code == 200 and workflow_button(case.step) not in page.content.decode()
    before = database_state()
    assert client.post(url, {"_workflow": case.step}).status_code == 403
    assert database_state() == before and not done()


@pytest.mark.parametrize("case", WORKFLOW_CASES, ids=str)
def test_a_workflow_button_works_for_staff_with_exactly_its_permission(case, staff):
    pk, done = case.arrange()
    client = staff(grant=[case.permission])
    url = change_page(case.model, pk)
    page = client.get(url).content.decode()
    assert 'id="workflow-actions"' in page and workflow_button(case.step) in page
    response = client.post(url, {"_workflow": case.step})
    assert response.status_code == 302 and response["Location"] == url and done()
