"""Pure functions between the hub's records and ShipStation API v1 JSON."""

from connectors.fulfilment.provider import Parcel, ShipmentData
from connectors.shipstation.pacific import pacific_to_utc, utc_to_pacific

GRAMS_PER_OUNCE = 28.349523125
# ShipStation v1 gives a carrier code and a tracking number, not a tracking link.
TRACKING_URLS = {
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "ups": "https://www.ups.com/track?tracknum={number}",
    "ups_walleted": "https://www.ups.com/track?tracknum={number}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "dhl_express_worldwide": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={number}",
    "dhl_parcel": "https://www.dhl.com/fr-fr/home/tracking.html?tracking-id={number}",
    "colissimo": "https://www.laposte.fr/outils/suivre-vos-envois?code={number}",
    "chronopost": "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={number}",
}
LOCKED_STATUSES = {"shipped", "cancelled"}


def address(ship_to: dict) -> dict:
    return {"name": ship_to.get("name") or ship_to.get("company") or "—", "company": ship_to.get("company") or None,
            "street1": ship_to.get("line1", ""), "street2": ship_to.get("line2") or None, "street3": None,
            "city": ship_to.get("city", ""), "state": ship_to.get("state") or None, "postalCode": ship_to.get("postcode", ""),
            "country": ship_to.get("country", ""), "phone": ship_to.get("phone") or None, "residential": None}


def order_body(release, *, status: str, store_id=None) -> dict:
    """createorder's body: a full replacement of the order keyed by `orderKey` (the part's reference)."""
    carrier, _, service = release.service.partition(":") if ":" in release.service else ("", "", "")
    body = {
        "orderNumber": release.order_number, "orderKey": release.reference,
        "orderDate": utc_to_pacific(release.placed_at) if release.placed_at else None,
        "paymentDate": utc_to_pacific(release.placed_at) if release.placed_at else None,
        "orderStatus": status, "customerEmail": release.email or None,
        "billTo": address(release.ship_to), "shipTo": address(release.ship_to),
        "items": [{"lineItemKey": f"{release.reference}-{index}", "sku": line["sku"], "name": line["name"], "quantity": line["quantity"],
                   "unitPrice": float(line["unit_price"])} for index, line in enumerate(release.lines, start=1)],
        "requestedShippingService": release.requested_service or release.service,
        "advancedOptions": {"warehouseId": int(release.location_id), "customField1": release.order_number, "source": "ERP Hub"},
    }
    if carrier and service:
        body["carrierCode"], body["serviceCode"] = carrier, service
    if store_id:
        body["advancedOptions"]["storeId"] = int(store_id)
    return body


def product_update(current: dict, product, *, dimension_unit: str) -> dict:
    """ShipStation's product with the hub's name, weight, dimensions and customs data (PUT replaces it whole)."""
    body = dict(current)
    body.update({"sku": product.sku, "name": product.name})
    if product.weight_g:
        body["weightOz"] = round(product.weight_g / GRAMS_PER_OUNCE, 2)
    if product.length_mm and product.width_mm and product.height_mm:
        divide = 25.4 if dimension_unit == "inches" else 10
        body.update({"length": round(product.length_mm / divide, 2), "width": round(product.width_mm / divide, 2),
                     "height": round(product.height_mm / divide, 2)})
    if product.customs_code:
        body["customsTariffNo"] = product.customs_code
    if product.country_of_origin:
        body["customsCountryCode"] = product.country_of_origin
    body["customsDescription"] = product.name[:100]
    return body


def item_document(product) -> dict:
    return {"sku": product.sku, "name": product.name, "weight_g": product.weight_g, "length_mm": product.length_mm,
            "width_mm": product.width_mm, "height_mm": product.height_mm, "customs_code": product.customs_code,
            "country_of_origin": product.country_of_origin}


def shipment_data(shipment: dict) -> ShipmentData:
    number = shipment.get("trackingNumber") or ""
    template = TRACKING_URLS.get((shipment.get("carrierCode") or "").lower())
    lines: dict[str, int] = {}
    for item in shipment.get("shipmentItems") or []:
        lines[item["sku"]] = lines.get(item["sku"], 0) + int(item.get("quantity") or 0)
    created = pacific_to_utc(shipment.get("createDate"))
    status = "voided" if shipment.get("voided") else ("shipped" if number else "label pending")
    return ShipmentData(external_id=str(shipment["shipmentId"]), order_external_id=str(shipment.get("orderId") or ""),
                        reference=shipment.get("orderKey") or "", status=status, lines=sorted(lines.items()),
                        parcels=[Parcel(number, template.format(number=number) if template else "")] if number else [],
                        carrier=shipment.get("carrierCode") or "", service=shipment.get("serviceCode") or "",
                        location_id=str(shipment.get("warehouseId") or ""), shipped_at=created, updated_at=created)
