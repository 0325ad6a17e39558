"""An order on hold, from the overview to its printed invoice, as a clerk does it in the browser."""

from playwright.sync_api import expect

from orders.models import OrderStatus
from tests.browser.conftest import fr
from tests.browser.scenes import HOLD_REASON, boutique, order_on_hold


def test_an_order_on_hold_is_released_shipped_and_its_invoice_printed_from_its_page(staff_page, tour):
    page = staff_page
    order = order_on_hold(boutique()["channel"])

    page.goto("/admin/")
    expect(page.locator("#overview-holds")).to_have_text("1")
    tour(page, "overview")
    page.locator("#overview-holds").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    row = page.locator("#result_list tbody tr", has_text=order.number)
    expect(row).to_contain_text(HOLD_REASON[:32])  # long reasons are cut in the list, shown in full on the page
    tour(page, "orders-on-hold")
    row.get_by_role("link", name=order.number).click()
    expect(page.locator("#content")).to_contain_text(HOLD_REASON)
    steps = page.locator("#workflow-actions")
    expect(steps.locator("#workflow-release")).to_be_visible()
    expect(steps.locator("#workflow-ship")).to_have_count(0)  # nothing is reserved while the order is held
    tour(page, "order-on-hold")

    steps.locator("#workflow-release").click()
    expect(page.locator("ul.messagelist .success")).to_contain_text(order.number)
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED and not order.hold_reason
    expect(steps.locator("#workflow-release")).to_have_count(0)

    steps.locator("#workflow-ship").click()
    expect(page.locator("ul.messagelist .success")).to_contain_text(f"{order.number}-1")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    invoice = order.invoices.get()
    expect(page.locator(".field-status_label .readonly, .field-status .readonly")).to_contain_text(fr(OrderStatus.SHIPPED.label))
    expect(page.locator("#invoices-group")).to_contain_text(invoice.number)
    tour(page, "order-shipped")

    with page.expect_popup() as opened:
        page.locator("#invoices-group a.invoice-print").click()
    printed = opened.value
    expect(printed.locator("h1")).to_contain_text(invoice.number)
    expect(printed.locator("body")).to_contain_text(order.number)
    expect(printed.locator("body")).to_contain_text("Lampe baladeuse")
    tour(printed, "invoice-printed", full_page=True)
