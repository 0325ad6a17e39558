"""The sample files documented in docs/import-formats.md import cleanly, in order."""

from pathlib import Path

import pytest

from hub.imports.engine import ImportOptions, run_import
from hub.imports.services import resource_get
from tests.hub.factories import SalesChannelFactory

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
ORDER = [("categories", False), ("products", False), ("price-lists", False), ("prices", True), ("warehouses", False),
         ("stock", False), ("customers", True)]


@pytest.mark.django_db
def test_every_sample_file_imports_without_error():
    SalesChannelFactory(code="b2b-portal"), SalesChannelFactory(code="web-fr")
    for name, decimal_comma in ORDER:
        result = run_import(resource_get(name), SAMPLES / f"{name}.csv", options=ImportOptions(decimal_comma=decimal_comma))
        assert result.ok, (name, [str(e) for e in result.errors])
        assert result.new > 0, name
