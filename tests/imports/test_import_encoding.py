"""CSV encodings: UTF-8 (with or without BOM), UTF-16 with a BOM and Windows-1252 (which covers
Latin-1 French text) are read; anything else is refused with a message naming the --encoding
option, instead of being imported as mojibake. (Detection is a heuristic: Big5 or Shift-JIS text
whose second bytes fall in the ASCII range can still pass for Windows-1252.)"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from catalog.models import Product
from hub.imports.engine import ImportOptions, run_import
from hub.imports.models import ImportJob
from hub.imports.services import resource_get

pytestmark = pytest.mark.django_db

FRENCH = "Bougie parfumée à l’ambre « Élégance » — cœur de Noël, 12 €…"


def products():
    return resource_get("products")


def import_bytes(tmp_path, data: bytes, encoding=None):
    path = tmp_path / "p.csv"
    path.write_bytes(data)
    return run_import(products(), path, options=ImportOptions(encoding=encoding))


def names():
    return dict(Product.objects.values_list("sku", "name"))


def only_error(result):
    assert len(result.errors) == 1, [str(e) for e in result.errors]
    return str(result.errors[0])


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
@pytest.mark.parametrize("name", [FRENCH, "Größe M, Füße", "Promoção de verão, Coração", "Ærøskøbing blåbær", "d’été…»"])
def test_western_files_in_windows_1252_or_latin_1_are_read(tmp_path, encoding, name):
    if encoding == "latin-1":
        name = name.translate(str.maketrans({"’": "'", "—": "-", "€": "E", "…": ".", "œ": "oe"}))
    result = import_bytes(tmp_path, f"sku;name\nA1;{name}\n".encode(encoding))
    assert result.ok, [str(e) for e in result.errors]
    assert names() == {"A1": name}


def test_a_windows_1252_file_whose_first_64_kb_are_ascii_is_read(tmp_path):
    rows = "".join(f"S{n};Plain name {n}\n" for n in range(5000))
    result = import_bytes(tmp_path, f"sku;name\n{rows}LAST;{FRENCH}\n".encode("cp1252"))
    assert result.ok, [str(e) for e in result.errors]
    assert names()["LAST"] == FRENCH


def test_utf16_with_a_bom_as_excel_saves_unicode_text_is_read(tmp_path):
    result = import_bytes(tmp_path, f"sku\tname\nA1\t{FRENCH}\nA2\t電球\n".encode("utf-16"))
    assert result.ok, [str(e) for e in result.errors]
    assert names() == {"A1": FRENCH, "A2": "電球"}


@pytest.mark.parametrize("encoding, guess", [("utf-16-le", "UTF-16 (little-endian)"), ("utf-16-be", "UTF-16 (big-endian)")])
def test_utf16_without_a_bom_is_refused_naming_the_encoding_option(tmp_path, encoding, guess):
    message = only_error(import_bytes(tmp_path, f"sku;name\nA1;{FRENCH}\n".encode(encoding)))
    assert message.startswith("line 1: the file is neither UTF-8 nor Windows-1252")
    assert guess in message and f"--encoding {encoding}" in message
    assert not Product.objects.exists()


def test_utf16_without_a_bom_is_read_when_its_encoding_is_given(tmp_path):
    result = import_bytes(tmp_path, f"sku;name\nA1;{FRENCH}\n".encode("utf-16-le"), encoding="utf-16-le")
    assert result.ok and names() == {"A1": FRENCH}


@pytest.mark.parametrize("byte", [0x81, 0x8D, 0x8F, 0x90, 0x9D])
def test_bytes_that_windows_1252_leaves_undefined_are_refused(tmp_path, byte):
    data = b"sku,name\nA1,Lamp\nA2,Bad " + bytes([byte]) + b"x\n"
    message = only_error(import_bytes(tmp_path, data))
    assert f"byte 0x{byte:02x} on line 3 is not Windows-1252" in message and "--encoding" in message


@pytest.mark.parametrize("encoding, text", [
    ("shift_jis", "ランプ 電球 照明"),
    ("shift_jis", "赤い花瓶"),
    ("gb18030", "台灯 产品"),
    ("gb18030", "红色花瓶"),
    ("euc_kr", "조명 램프"),
    ("cp1251", "Лампа настольная"),
    ("cp1253", "Λάμπα γραφείου"),
])
def test_other_encodings_are_refused_instead_of_read_as_mojibake(tmp_path, encoding, text):
    message = only_error(import_bytes(tmp_path, f"sku,name\nA1,{text}\n".encode(encoding)))
    assert message.startswith("line 1: the file is neither UTF-8 nor Windows-1252") and "--encoding" in message
    assert not Product.objects.exists()
    assert import_bytes(tmp_path, f"sku,name\nA1,{text}\n".encode(encoding), encoding=encoding).ok
    assert names() == {"A1": text}


def test_a_file_that_does_not_decode_in_the_given_encoding_is_refused(tmp_path):
    message = only_error(import_bytes(tmp_path, "sku,name\nA1,été\n".encode("cp1252"), encoding="utf-8"))
    assert "cannot be read as utf-8" in message and "line 2" in message and "--encoding" in message


def test_an_unknown_encoding_name_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_bytes(b"sku,name\nA1,Lamp\n")
    with pytest.raises(SystemExit):
        call_command("hub_import", "products", str(path), "--encoding", "klingon", "--no-progress")
    assert "unknown encoding 'klingon' (--encoding)" in capsys.readouterr().err


def test_the_command_line_names_its_encoding_option_and_uses_it(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_bytes("sku,name\nA1,台灯 产品\n".encode("gb18030"))
    with pytest.raises(SystemExit):
        call_command("hub_import", "products", str(path), "--no-progress")
    assert "--encoding" in capsys.readouterr().err
    call_command("hub_import", "products", str(path), "--encoding", "gb18030", "--no-progress")
    assert names() == {"A1": "台灯 产品"}


def test_the_admin_form_offers_an_encoding(admin_client):
    page = admin_client.get("/admin/hub/importjob/new/").content.decode()
    assert 'name="encoding"' in page
    upload = SimpleUploadedFile("p.csv", "sku,name\nA1,ランプ 電球 照明\n".encode("shift_jis"))
    admin_client.post("/admin/hub/importjob/new/", {"resource": "products", "file": upload, "encoding": "shift_jis", "import": "1"})
    job = ImportJob.objects.get()
    assert (job.status, job.options["encoding"]) == ("succeeded", "shift_jis")
    assert names() == {"A1": "ランプ 電球 照明"}
