"""A failed sync job, from the operator console to the shop, with the hub's own task cluster."""

import pytest
from playwright.sync_api import expect

from connectors.models import SyncJob
from tests.browser.conftest import fr, wait_for
from tests.browser.scenes import WOO_KEY, WOO_SECRET, shop_endpoint_with_a_failed_product, woocommerce_shop


@pytest.fixture
def shop():
    sandbox = woocommerce_shop()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def failed_push(shop, transactional_db):
    """Built before the task cluster starts, so that the failure is the one this fixture ran."""
    return shop_endpoint_with_a_failed_product(shop.url)


def test_a_failed_sync_job_is_retried_from_the_console_and_delivered(browser, failed_push, task_cluster, staff_page, tour, shop):
    page, scene, job = staff_page, failed_push, failed_push["job"]

    page.goto("/admin/connectors/endpoint/console/")
    card = page.locator(".module", has_text="boutique-fr")
    expect(card.locator(".open-errors")).to_have_text("1")
    expect(card.locator(".last-error")).to_contain_text("401")
    expect(card.locator(".last-error")).to_contain_text("Consumer secret is invalid. (woocommerce_rest_authentication_error)")
    expect(card.locator(".last-error")).not_to_contain_text('{"code"')  # the vendor's words, not its JSON
    tour(page, "console")

    # The key renewed in WooCommerce goes into the endpoint's settings.
    card.locator(f"a[href$='/admin/connectors/endpoint/{scene['endpoint'].pk}/change/']").click()
    page.locator("textarea[name=credentials]").fill(f"consumer_key={WOO_KEY}\nconsumer_secret={WOO_SECRET}")
    page.locator("input[name=_save]").click()
    expect(page.locator("ul.messagelist .success")).to_be_visible()

    page.goto("/admin/connectors/endpoint/console/")
    page.locator(".module", has_text="boutique-fr").locator(".open-errors a").click()
    row = page.locator("#result_list tbody tr", has_text="LAMP-1")
    expect(row).to_contain_text("401")
    row.locator(f"a[href*='/admin/connectors/syncjob/{job.pk}/change/']").first.click()
    expect(page.locator("#workflow-actions #workflow-resolve")).to_be_visible()  # a failed job: retry, edit, or resolve
    page.locator("#workflow-actions #workflow-retry").click()
    expect(page.locator("ul.messagelist .success")).to_be_visible()
    assert SyncJob.objects.get(pk=job.pk).status in {SyncJob.Status.PENDING, SyncJob.Status.RUNNING, SyncJob.Status.DONE}

    wait_for(lambda: SyncJob.objects.filter(pk=job.pk, status=SyncJob.Status.DONE).exists(), timeout=120,
             what="the task cluster delivers the retried job", cluster=task_cluster)
    page.goto(f"/admin/connectors/syncjob/{job.pk}/change/")
    expect(page.locator(".field-status_label .readonly, .field-status .readonly")).to_contain_text(fr(SyncJob.Status.DONE.label))
    tour(page, "sync-job-done")
    assert [(p["sku"], p["name"]) for p in shop.products.values()] == [("LAMP-1", "Lampe baladeuse")]
