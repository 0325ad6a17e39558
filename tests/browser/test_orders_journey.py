"""An order on hold, from the list to its printed invoice, as a clerk does it in the browser."""

import re

from playwright.sync_api import expect

from orders.models import OrderStatus, SalesOrder
from tests.browser.scenes import HOLD_REASON, boutique, order_on_hold


def run_list_action(page, order, action):
    page.goto("/admin/orders/salesorder/")
    page.locator(f"input[name=_selected_action][value='{order.pk}']").check()
    page.locator("select[name=action]").select_option(action)
    page.locator("button[name=index]").click()
    page.wait_for_load_state()


def test_an_order_on_hold_is_released_shipped_and_its_invoice_printed(staff_page, tour):
    page = staff_page
    order = order_on_hold(boutique()["channel"])

    page.goto("/admin/orders/salesorder/?status__exact=on_hold")
    row = page.locator("#result_list tbody tr", has_text=order.number)
    expect(row).to_contain_text(HOLD_REASON[:32])  # long reasons are cut in the list, shown in full on the page
    tour(page, "orders-on-hold")
    row.get_by_role("link", name=order.number).click()
    expect(page.locator("#content")).to_contain_text(HOLD_REASON)
    tour(page, "order-on-hold")

    run_list_action(page, order, "release")
    expect(page.locator("ul.messagelist")).to_contain_text("1")
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED and not order.hold_reason

    run_list_action(page, order, "ship_reserved")
    expect(page.locator("ul.messagelist")).to_contain_text(f"{order.number}-1")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    invoice = order.invoices.get()

    page.goto(f"/admin/orders/salesorder/{order.pk}/change/")
    expect(page.locator("#invoices-group")).to_contain_text(invoice.number)
    tour(page, "order-shipped")
    with page.expect_popup() as opened:
        page.locator("#invoices-group a", has_text=re.compile("print|imprimer", re.I)).click()
    printed = opened.value
    printed.wait_for_load_state()
    expect(printed.locator("h1")).to_contain_text(invoice.number)
    expect(printed.locator("body")).to_contain_text(order.number)
    expect(printed.locator("body")).to_contain_text("Lampe baladeuse")
    tour(printed, "invoice-printed", full_page=True)
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
