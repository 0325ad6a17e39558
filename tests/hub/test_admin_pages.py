"""Every admin list page, and every add page that is offered, renders on the demo data."""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse


@pytest.mark.django_db
def test_every_admin_list_and_add_page_renders_on_demo_data(admin_client, admin_user):
    call_command("seed_demo")
    failures = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = admin_client.get(url)
        if response.status_code != 200:
            failures.append((url, response.status_code))
        first = model.objects.order_by("pk").first()
        if first is not None and model_admin.has_view_permission(response.wsgi_request, first):
            change = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]), follow=True)
            if change.status_code != 200:
                failures.append((f"{opts.label} #{first.pk}", change.status_code))
        if model_admin.has_add_permission(response.wsgi_request):
            add_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
            if admin_client.get(add_url).status_code != 200:
                failures.append((add_url, "add"))
    assert failures == []
