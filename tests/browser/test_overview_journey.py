"""A French-speaking clerk logs in and reads the overview on the admin's first page."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from orders import services as orders
from tests.browser.conftest import PASSWORD
from tests.browser.scenes import boutique, order_on_hold
from tests.orders.factories import order_payload

pytestmark = pytest.mark.skipif("django.middleware.locale.LocaleMiddleware" not in settings.MIDDLEWARE,
                                reason="waits for the locale middleware (not in this tree yet)")


def test_a_french_speaking_clerk_logs_in_and_reads_the_overview(page, staff_user, tour):
    scene = boutique()
    order_on_hold(scene["channel"], external_id="1001")
    orders.order_import(channel=scene["channel"], data=order_payload("1002"))

    page.goto("/admin/")
    expect(page.locator("label[for=id_username]")).to_contain_text("Nom d’utilisateur")
    expect(page.locator("label[for=id_password]")).to_contain_text("Mot de passe")
    tour(page, "login")
    page.locator("input[name=username]").fill(staff_user.get_username())
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form#login-form [type=submit]").click()

    expect(page.locator("#user-tools")).to_contain_text("Bienvenue")
    expect(page.locator("#overview-orders-today")).to_have_text("2")
    expect(page.locator("#overview-holds")).to_have_text("1")
    expect(page.locator("[id^=overview-revenue-today]")).to_contain_text("109,80")  # two orders of 54.90, in French format
    expect(page.locator("#overview-sales")).to_contain_text("Commandes")
