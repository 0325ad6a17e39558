"""Admin pages answer bad query input with a page or a 400, never a 500 (PostgreSQL refuses NUL in text)."""

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


def changelists():
    for model, model_admin in admin.site._registry.items():
        if model_admin.search_fields:
            yield reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.mark.parametrize("query", ["q=%00", "q=lamp%00", "o=%00", "p=%00"])
def test_a_nul_character_in_an_admin_list_query_is_never_a_server_error(admin_client, query):
    failures = {url: response.status_code for url in changelists()
                if (response := admin_client.get(f"{url}?{query}")).status_code >= 500}
    assert failures == {}
