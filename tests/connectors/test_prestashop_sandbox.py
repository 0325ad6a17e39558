"""The PrestaShop sandbox speaks the Webservice as PrestaShop documents it: authentication,
errors, formats, list parameters and the write rules the hub relies on."""

import pytest
import requests

from connectors.prestashop import documents
from connectors.prestashop.sandbox import PrestaShopSandbox

KEY = "SANDBOX0PROTOCOL0TEST0KEY0000001"
XML = '<?xml version="1.0" encoding="UTF-8"?><prestashop xmlns:xlink="http://www.w3.org/1999/xlink">{}</prestashop>'


@pytest.fixture
def shop():
    sandbox = PrestaShopSandbox(webservice_key=KEY).start()
    sandbox.seed_products([{"reference": "LAMP-1", "name": "Lampe", "price": "20.833333", "quantity": 4},
                           {"reference": "VASE-2", "name": "Vase", "price": "12", "quantity": 0}])
    yield sandbox
    sandbox.stop()


def api(shop, method, path, *, key=KEY, body=None, **params):
    return requests.request(method, f"{shop.url}/api/{path}", params=params, data=XML.format(body).encode() if body is not None else None,
                            auth=(key, "") if key is not None else None, timeout=5)


def errors(response):
    return documents.read_errors(response.content)


def test_the_key_is_the_basic_user_name_with_an_empty_password_or_the_ws_key_parameter(shop):
    assert api(shop, "GET", "products").status_code == 200
    assert requests.get(f"{shop.url}/api/products", params={"ws_key": KEY}, timeout=5).status_code == 200
    missing = api(shop, "GET", "products", key=None)
    assert missing.status_code == 401 and "No password required" in missing.headers["WWW-Authenticate"]
    assert errors(missing) == [("16", "Please enter the authentication key as the login. No password required")]
    assert errors(api(shop, "GET", "products", key="SHORT")) == [("18", "Invalid authentication key format")]
    assert errors(api(shop, "GET", "products", key="X" * 32)) == [("20", "Authentification key is not active")]
    assert api(shop, "GET", "products").headers["PSWS-Version"] == "8.1.7"


def test_a_keys_permissions_are_per_resource_and_method(shop):
    other = "ONLY0PRODUCTS0READ0KEY0000000001"
    shop.add_key(other, {"products": ["GET"]})
    assert api(shop, "GET", "products", key=other).status_code == 200
    refused = api(shop, "GET", "orders", key=other)
    assert refused.status_code == 401 and errors(refused)[0][0] == "26"
    assert errors(api(shop, "POST", "products", key=other, body="<product/>"))[0] == (
        "25", "Method POST is not allowed for the resource products with this authentication key")
    index = documents.parse(api(shop, "GET", "", key=other).content).find("api")
    assert [child.tag for child in index] == ["products"] and index.find("products").get("post") is None


def test_lists_filter_sort_limit_and_display_and_dates_need_date_1(shop):
    ids = documents.read_list(api(shop, "GET", "products", sort="[id_DESC]").content, "products")
    assert ids == [{"id": "2"}, {"id": "1"}]
    found = documents.read_list(api(shop, "GET", "products", display="[id,reference]", **{"filter[reference]": "[lamp-1|VASE-9]"}).content,
                                "products")
    assert found == [{"id": "1", "reference": "LAMP-1"}]
    assert len(documents.read_list(api(shop, "GET", "products", display="full", limit="1,5").content, "products")) == 1
    assert documents.read_list(api(shop, "GET", "products", **{"filter[reference]": "[VA]%"}).content, "products") == [{"id": "2"}]
    undated = api(shop, "GET", "products", **{"filter[date_upd]": "[2000-01-01 00:00:00,2100-01-01 00:00:00]"})
    assert undated.status_code == 400 and errors(undated)[0][0] == "32"
    dated = api(shop, "GET", "products", date="1", **{"filter[date_upd]": "[2000-01-01 00:00:00,2100-01-01 00:00:00]"})
    assert len(documents.read_list(dated.content, "products")) == 2
    assert errors(api(shop, "GET", "products", limit="1,2,3"))[0][0] == "39"


def test_json_output_is_read_only_and_shaped_as_the_shop_writes_it(shop):
    one = requests.get(f"{shop.url}/api/products/1", params={"output_format": "JSON"}, auth=(KEY, ""), timeout=5).json()["product"]
    assert one["id"] == 1 and one["name"] == [{"id": "1", "value": "Lampe"}, {"id": "2", "value": "Lampe"}]
    header = requests.get(f"{shop.url}/api/products", headers={"Output-Format": "JSON"}, auth=(KEY, ""), timeout=5).json()
    assert header == {"products": [{"id": 1}, {"id": 2}]}
    empty = requests.get(f"{shop.url}/api/orders", params={"output_format": "JSON"}, auth=(KEY, ""), timeout=5)
    assert empty.json() == []


def test_writes_refuse_an_id_on_create_a_missing_one_on_update_read_only_fields_and_bodies_that_are_not_xml(shop):
    assert errors(api(shop, "POST", "products", body="<product><id>9</id><price>1</price></product>")) == [
        ("91", "id is forbidden when adding a new resource")]
    assert errors(api(shop, "PATCH", "products/1", body="<product><price>1</price></product>")) == [
        ("90", "id is required when modifying a resource")]
    assert errors(api(shop, "PATCH", "products/1", body="<product><id>1</id><quantity>50</quantity></product>")) == [
        ("93", 'parameter "quantity" not writable. Please remove this attribute of this XML')]
    assert errors(api(shop, "PATCH", "products/77", body="<product><id>77</id><price>1</price></product>")) == [("92", "Invalid ID")]
    broken = requests.post(f"{shop.url}/api/products", data=b"<prestashop><product>", auth=(KEY, ""), timeout=5)
    assert broken.status_code == 500 and errors(broken)[0][0] == "127"
    assert api(shop, "POST", "stock_availables", body="<stock_available/>").status_code == 405


def test_validation_errors_name_the_property_with_code_85_or_84_for_languages(shop):
    bad_price = api(shop, "PATCH", "products/1", body="<product><id>1</id><price>abc</price></product>")
    assert bad_price.status_code == 400 and errors(bad_price) == [("85", 'Validation error: "Property Product->price is not valid"')]
    bad_name = api(shop, "PATCH", "products/1", body='<product><id>1</id><name><language id="1">A = B</language></name></product>')
    assert errors(bad_name) == [("84", 'Validation error: "Property Product->name is not valid"')]


def test_put_empties_the_fields_it_is_not_sent_and_patch_changes_only_what_it_is_sent(shop):
    api(shop, "PATCH", "products/1", body="<product><id>1</id><ean13>3760123456789</ean13></product>")
    assert documents.read_one(api(shop, "GET", "products/1").content, "product")["ean13"] == "3760123456789"
    put = api(shop, "PUT", "products/1", body='<product><id>1</id><price>30</price><name><language id="1">Lampe</language></name>'
                                              '<link_rewrite><language id="1">lampe</language></link_rewrite></product>')
    assert put.status_code == 200
    product = documents.read_one(api(shop, "GET", "products/1").content, "product")
    assert (product["price"], product["ean13"], product["reference"]) == ("30", "", "")
    assert api(shop, "GET", "products/99").status_code == 404 and api(shop, "GET", "products/99").content == b""


def test_a_combination_has_its_own_stock_and_the_product_shows_their_sum(shop):
    group = documents.read_one(api(shop, "POST", "product_options", body='<product_option><group_type>select</group_type><name><language id="1">'
                                                                         'Taille</language></name><public_name><language id="1">Taille</language>'
                                                                         "</public_name></product_option>").content, "product_option")
    value = documents.read_one(api(shop, "POST", "product_option_values", body=f'<product_option_value><id_attribute_group>{group["id"]}'
                                                                               '</id_attribute_group><name><language id="1">M</language></name>'
                                                                               "</product_option_value>").content, "product_option_value")
    combination = documents.read_one(api(shop, "POST", "combinations", body=f"<combination><id_product>2</id_product><reference>VASE-2-M</reference>"
                                                                          f"<minimal_quantity>1</minimal_quantity><associations><product_option_values>"
                                                                          f"<product_option_value><id>{value['id']}</id></product_option_value>"
                                                                          "</product_option_values></associations></combination>").content, "combination")
    rows = documents.read_list(api(shop, "GET", "stock_availables", display="full", **{"filter[id_product]": "[2]"}).content, "stock_availables")
    row = next(r for r in rows if r["id_product_attribute"] == combination["id"])
    api(shop, "PATCH", f"stock_availables/{row['id']}", body=f"<stock_available><id>{row['id']}</id><quantity>7</quantity></stock_available>")
    rows = documents.read_list(api(shop, "GET", "stock_availables", display="full", **{"filter[id_product]": "[2]"}).content, "stock_availables")
    assert {r["id_product_attribute"]: r["quantity"] for r in rows} == {"0": "7", combination["id"]: "7"}


def test_posting_an_order_history_changes_the_orders_state_and_e_mails_on_request(shop):
    placed = shop.place_order(lines=[{"reference": "LAMP-1", "quantity": 1}])
    answer = api(shop, "POST", "order_histories", body=f"<order_history><id_order>{placed['id']}</id_order><id_order_state>4</id_order_state>"
                                                       "</order_history>", sendemail="1")
    assert answer.status_code == 201
    assert documents.read_one(api(shop, "GET", f"orders/{placed['id']}").content, "order")["current_state"] == "4"
    assert shop.emails == [{"template": "state_4", "order": str(placed["id"])}]
