"""The back office in French and English: the browser's Accept-Language or the header's switcher
chooses; labels, messages, errors, dates and amounts follow; the French catalogue is complete and
its compiled file is up to date."""

import json
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from hub.i18n import catalogue_paths, compile_catalogue, compiled_catalogue
from hub.imports.models import ImportJob
from hub.services import api_token_create
from inventory import services as stock
from orders.models import OrderStatus, SalesOrder
from tests.catalog.factories import ProductFactory
from tests.hub.factories import SalesChannelFactory
from tests.inventory.factories import WarehouseFactory
from tests.orders.factories import order_payload

FRENCH_PO = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"
# What makemessages reads: the project's code and templates, not its tests, benchmarks or data.
MAKEMESSAGES_IGNORE = ["tests/*", "bench/*", "var/*", "samples/*", "docs/*", "locale/*"]
SHORT_DATE = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")


@pytest.fixture
def api(client):
    channel = SalesChannelFactory(code="web")
    _, key = api_token_create(channel=channel)
    stock.stock_receive(product=ProductFactory(sku="LAMP-1"), warehouse=WarehouseFactory(code="LYON"), quantity=10)

    def post(body, **headers):
        return client.post("/api/v1/orders/", data=json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Token {key}", **headers)
    return post


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.mark.django_db
def test_the_admin_index_is_in_french_when_the_browser_asks_for_it(admin_client):
    french = page(admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5"))
    assert '<html lang="fr"' in french
    assert "Commandes clients" in french and "Catalogue et prix" in french and "Niveaux de stock" in french
    assert "Sales orders" not in french and "Catalogue and prices" not in french


@pytest.mark.django_db
def test_english_stays_english(admin_client):
    english = page(admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en"))
    assert '<html lang="en"' in english and "Sales orders" in english and "Catalogue and prices" in english
    assert "Commandes clients" not in english
    # A browser asking for a language the hub does not speak gets the hub's LANGUAGE_CODE (English).
    assert "Sales orders" in page(admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="de"))


@pytest.mark.django_db
def test_the_header_switcher_sets_the_language_and_returns_to_the_same_page(admin_client):
    changelist = "/admin/orders/salesorder/?status__exact=on_hold"
    english = page(admin_client.get(changelist, HTTP_ACCEPT_LANGUAGE="en"))
    assert 'action="/i18n/setlang/"' in english and f'name="next" value="{changelist.replace("&", "&amp;")}"' in english
    response = admin_client.post("/i18n/setlang/", {"language": "fr", "next": changelist}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == changelist
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    # The cookie wins over the browser's Accept-Language from then on.
    french = page(admin_client.get(changelist, HTTP_ACCEPT_LANGUAGE="en"))
    assert "Sélectionnez l’objet commande client à changer" in french and "statut du paiement" in french
    assert '<option value="fr" lang="fr" selected>' in french


@pytest.mark.django_db
def test_an_order_page_its_action_messages_and_service_errors_are_in_french(admin_client, api):
    api(order_payload())
    order = SalesOrder.objects.get()
    fr = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    change = page(admin_client.get(f"/admin/orders/salesorder/{order.pk}/change/", **fr))
    assert "Modification de commande client" in change or "Modifier commande client" in change
    assert "Paiement" in change and "Adresse de facturation" in change and "Montants" in change and "Alloué" in change
    assert SHORT_DATE.search(change), "dates are written 31/12/2026 in French"
    assert "Billing address" not in change and "Allocated" not in change

    shipped = page(admin_client.post("/admin/orders/salesorder/", {"action": "ship_reserved", "_selected_action": [order.pk]},
                                     follow=True, **fr))
    assert f"{order.number}-1 créée." in shipped
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    refused = page(admin_client.post("/admin/orders/salesorder/", {"action": "cancel", "_selected_action": [order.pk]},
                                     follow=True, **fr))
    assert f"{order.number} : {order.number} est expédié : la marchandise expédiée revient par un retour (RMA)" in refused
    assert "returned through an RMA" not in refused

    changelist = page(admin_client.get("/admin/orders/salesorder/", **fr))
    assert "Annuler (libère le stock réservé)" in changelist and "Statut" in changelist


@pytest.mark.django_db
def test_the_printed_invoice_uses_french_words_dates_and_amounts(admin_client, api):
    api(order_payload())
    order = SalesOrder.objects.get()
    admin_client.post("/admin/orders/salesorder/", {"action": "ship_reserved", "_selected_action": [order.pk]})
    invoice = order.invoices.get()
    printed = page(admin_client.get(f"/admin/orders/invoice/{invoice.pk}/print/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert '<html lang="fr">' in printed and "Facture" in printed and "Reste à payer" in printed and "Prix unitaire" in printed
    assert f"Date d'émission : {invoice.issued_on:%d/%m/%Y}" in printed
    assert re.search(r"\d+,\d{2}\xa0€", printed), "amounts are written 12,50 € in French"
    english = page(admin_client.get(f"/admin/orders/invoice/{invoice.pk}/print/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "Balance due" in english and re.search(r"€\d+\.\d{2}", english)


@pytest.mark.django_db
def test_api_errors_of_the_hub_follow_accept_language(api):
    first = api(order_payload(), HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    french = api(order_payload("1002"), HTTP_IDEMPOTENCY_KEY="k-1", HTTP_ACCEPT_LANGUAGE="fr")
    assert french.status_code == 422 and "Cette Idempotency-Key a déjà servi avec un autre corps" in french.json()["detail"]
    english = api(order_payload("1002"), HTTP_IDEMPOTENCY_KEY="k-1", HTTP_ACCEPT_LANGUAGE="en")
    assert "different body" in english.json()["detail"]


@pytest.mark.django_db
def test_import_row_errors_are_written_in_the_language_of_the_person_who_imports(admin_client):
    def upload(language):
        file = SimpleUploadedFile("p.csv", b"sku,name,weight_g\nA1,Lamp,heavy\n")
        admin_client.post("/admin/hub/importjob/new/", {"resource": "products", "file": file, "import": "1"},
                          HTTP_ACCEPT_LANGUAGE=language)
        return ImportJob.objects.latest("pk")

    french = upload("fr")
    assert french.errors[0]["message"] == "weight_g n'est pas un nombre entier"
    assert french.message == "1 erreur ; rien n'a été écrit."
    result = page(admin_client.get(f"/admin/hub/importjob/{french.pk}/result/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert "1 erreur — rien n'a été écrit" in result and "Colonne" in result and "Valeur" in result
    assert upload("en").errors[0]["message"] == "weight_g is not a whole number"


def test_every_french_entry_is_translated_and_keeps_its_placeholders():
    catalogue = polib.pofile(str(FRENCH_PO))
    assert not catalogue.metadata_is_fuzzy
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    placeholder = re.compile(r"%\(\w+\)[sdrf]|\{\w*\}")
    for entry in catalogue.translated_entries():
        if entry.msgid_plural:
            assert sorted(placeholder.findall(entry.msgstr_plural[1])) == sorted(placeholder.findall(entry.msgid_plural)), entry.msgid
        else:
            assert sorted(placeholder.findall(entry.msgstr)) == sorted(placeholder.findall(entry.msgid)), entry.msgid


def test_compiled_catalogues_are_up_to_date_with_their_po_files(tmp_path):
    paths = catalogue_paths()
    assert paths, "no catalogue under LOCALE_PATHS"
    for po_path in paths:
        mo_path = po_path.with_suffix(".mo")
        assert mo_path.exists(), f"{mo_path} is missing: run manage.py hub_compilemessages"
        fresh = tmp_path / "fresh.mo"
        compile_catalogue(po_path, fresh)
        assert compiled_catalogue(mo_path) == compiled_catalogue(fresh), (
            f"{mo_path} is out of date with {po_path.name}: run manage.py hub_compilemessages")


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="xgettext (Debian package gettext) is not installed: "
                    "cannot extract the messages to compare with the catalogue")
def test_the_french_catalogue_has_every_message_of_the_source(tmp_path, settings, monkeypatch):
    # makemessages writes into any locale/ folder it finds under the current directory: extract from
    # a copy of the source, so the committed catalogue is never touched.
    source = tmp_path / "source"
    shutil.copytree(settings.BASE_DIR, source, ignore=shutil.ignore_patterns(
        ".*", "__pycache__", "*.sqlite3*", *{pattern.split("/")[0] for pattern in MAKEMESSAGES_IGNORE}))
    settings.LOCALE_PATHS = [tmp_path / "extracted"]
    monkeypatch.chdir(source)
    call_command("makemessages", locale=["fr"], no_obsolete=True, verbosity=0)

    def keys(path):
        return {(e.msgctxt, e.msgid) for e in polib.pofile(str(path)) if not e.obsolete}

    extracted, committed = keys(tmp_path / "extracted" / "fr" / "LC_MESSAGES" / "django.po"), keys(FRENCH_PO)
    missing = sorted(m for _c, m in extracted - committed)
    stale = sorted(m for _c, m in committed - extracted)
    assert not missing, f"messages not in locale/fr (run make messages and translate them): {missing[:20]}"
    assert not stale, f"messages no longer in the source (run make messages): {stale[:20]}"
