"""The API docs (Swagger UI, ReDoc) are served by the hub itself and work without internet; the
root page leads to the admin, the docs and the health check."""

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation


class References(HTMLParser):
    """Every URL a page makes the browser fetch or follow: src, href, and URLs in inline scripts and styles."""

    def __init__(self):
        super().__init__()
        self.urls, self._in_code = [], False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in {"src", "href", "spec-url", "data-src"} and value:
                self.urls.append(value)
        self._in_code = tag in {"script", "style"}

    def handle_endtag(self, tag):
        self._in_code = False

    def handle_data(self, data):
        if self._in_code:
            self.urls.extend(re.findall(r"""(?:https?:)?//[^\s"'`)]+""", data))
            self.urls.extend(re.findall(r"""url\(\s*["']?([^"')]+)""", data))


def references(client, path) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200, path
    parser = References()
    parser.feed(response.content.decode())
    return parser.urls


def static_path(url: str) -> str | None:
    prefix = "/" + settings.STATIC_URL.lstrip("/")
    return url.split("?")[0][len(prefix):] if url.startswith(prefix) else None


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_api_docs_reference_only_the_hubs_own_static_files(client, path, db):
    urls = references(client, path)
    assert urls, "the page loads its viewer from somewhere"
    outside = [url for url in urls if url.startswith(("http:", "https:", "//"))]
    assert outside == []
    assets = [static_path(url) for url in urls if static_path(url)]
    assert any(asset.endswith((".js",)) for asset in assets)
    missing = [asset for asset in assets if finders.find(asset) is None]
    assert missing == []


def test_swagger_ui_does_not_call_the_public_validator(client, db):
    page = client.get("/api/docs/").content.decode()
    assert '"validatorUrl": null' in page


def test_the_docs_assets_are_collected_for_the_proxy_to_serve(tmp_path, client, db):
    urls = references(client, "/api/docs/") + references(client, "/api/redoc/")
    with override_settings(STATIC_ROOT=tmp_path):
        call_command("collectstatic", interactive=False, verbosity=0)
    for asset in {static_path(url) for url in urls if static_path(url)}:
        assert (tmp_path / asset).is_file(), asset


def test_the_docs_assets_are_served_in_development(client, db):
    # The development server (`make run`, DEBUG=1) serves static files through this view.
    from django.contrib.staticfiles.views import serve
    from django.test import RequestFactory

    assets = {url for url in references(client, "/api/docs/") + references(client, "/api/redoc/") if static_path(url)}
    assert len(assets) >= 4  # Swagger UI's bundle, preset, style and icon; ReDoc's bundle
    for url in assets:
        with override_settings(DEBUG=True):
            response = serve(RequestFactory().get(url), static_path(url))
        assert response.status_code == 200, url
        assert b"".join(response.streaming_content), url


def test_the_docs_read_the_hubs_schema(client, db):
    for path in ["/api/docs/", "/api/redoc/"]:
        assert "/api/schema/" in client.get(path).content.decode()
    assert client.get("/api/schema/").status_code == 200


@pytest.mark.django_db
def test_the_root_page_leads_to_the_admin_the_api_docs_and_the_health_check(client):
    response = client.get("/")
    page = response.content.decode()
    assert response.status_code == 200
    for element_id, href in [("home-admin-link", "/admin/"), ("home-api-docs-link", "/api/docs/"),
                             ("home-api-redoc-link", "/api/redoc/"), ("home-health-link", "/healthz")]:
        assert f'id="{element_id}" href="{href}"' in page
    for href in ["/admin/", "/api/docs/", "/api/redoc/", "/healthz"]:
        assert client.get(href, follow=True).status_code in {200, 503}  # the health check may say "unhealthy"
    assert not [url for url in references(client, "/") if url.startswith(("http:", "https:", "//"))]


@pytest.mark.django_db
def test_the_root_page_speaks_the_active_language(client):
    with translation.override("fr"):
        from hub import views
        from django.test import RequestFactory

        request = RequestFactory().get("/")
        page = views.home(request).content.decode()
    assert '<html lang="fr">' in page


@pytest.mark.django_db
def test_the_admins_view_site_link_leads_to_the_root_page(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert '<a href="/">View site</a>' in page
    assert admin_client.get("/").status_code == 200


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_the_root_page_needs_no_debug_mode(client):
    assert client.get("/").status_code == 200
