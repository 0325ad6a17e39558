"""Category paths equal up to spacing ("Home > Garden", "Home>Garden", " Home  >  Garden ") are one
path: in imports of categories and products, and in the catalogue's services."""

import pytest

from catalog.models import Category, Product
from catalog.services import category_create, category_get_or_create_path
from hub.imports.engine import run_import
from hub.imports.services import resource_get

pytestmark = pytest.mark.django_db

SPELLINGS = ["Home > Garden Tools", "Home>Garden Tools", " Home  >  Garden   Tools ", "Home\t>Garden Tools"]


def import_text(tmp_path, resource, text):
    path = tmp_path / f"{resource}.csv"
    path.write_text(text)
    return run_import(resource_get(resource), path)


def test_importing_every_spelling_of_a_path_yields_one_category(tmp_path):
    for spelling in SPELLINGS:
        result = import_text(tmp_path, "categories", f'path\n"{spelling}"\n')
        assert result.ok, [str(e) for e in result.errors]
    assert sorted(Category.objects.values_list("path", flat=True)) == ["Home", "Home > Garden Tools"]


def test_two_spellings_of_a_path_in_one_file_are_a_duplicate(tmp_path):
    result = import_text(tmp_path, "categories", "path,position\nHome > Garden,1\nHome>Garden,2\n")
    assert [str(e) for e in result.errors] == ["line 3, column 'path', value 'Home>Garden': duplicate of line 2"]


def test_products_find_their_category_whatever_its_spacing(tmp_path):
    category_get_or_create_path(path="Home > Garden Tools")
    rows = "".join(f'P{n},Rake,"{spelling}"\n' for n, spelling in enumerate(SPELLINGS))
    result = import_text(tmp_path, "products", "sku,name,category\n" + rows)
    assert result.ok, [str(e) for e in result.errors]
    assert set(Product.objects.values_list("category__path", flat=True)) == {"Home > Garden Tools"}


def test_the_catalogue_services_normalise_spacing_too():
    leaf = category_get_or_create_path(path=" Home>Garden   Tools ")
    assert leaf.path == "Home > Garden Tools"
    assert category_get_or_create_path(path="Home > Garden Tools") == leaf
    assert category_create(name="  Garden \t Tools ", parent=None).path == "Garden Tools"


def test_a_category_name_longer_than_the_column_is_a_line_error(tmp_path):
    result = import_text(tmp_path, "categories", "path\nHome > " + "n" * 201 + "\n")
    assert [(e.line, e.column) for e in result.errors] == [(2, "path")]
    assert "at most 200" in result.errors[0].message
    assert not Category.objects.exists()
