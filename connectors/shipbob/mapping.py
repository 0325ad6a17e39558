"""Pure functions between the hub's records and ShipBob's JSON (weights in ounces, dimensions in
inches, as ShipBob keeps them)."""

from datetime import date, datetime, timezone

from connectors.fulfilment.provider import Parcel, ReturnLine, ReturnReceipt, ShipmentData, StockRow

GRAMS_PER_OUNCE = 28.349523125
MM_PER_INCH = 25.4
SHIPPED_STATUSES = {"Completed", "LabeledCreated", "Delivered"}
RETURN_ACTIONS = {"Restock": "restock", "Quarantine": "quarantine", "Dispose": "dispose"}


def stamp(value) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def variant_body(product) -> dict:
    """One hub SKU as a ShipBob variant: barcode, weight, dimensions, customs, lot tracking."""
    body = {"sku": product.sku, "name": product.name}
    if product.gtin:
        body["barcode"] = product.gtin
    if product.weight_g:
        body["weight"] = round(product.weight_g / GRAMS_PER_OUNCE, 2)
    if product.length_mm and product.width_mm and product.height_mm:
        body["dimension"] = {"length": round(product.length_mm / MM_PER_INCH, 2), "width": round(product.width_mm / MM_PER_INCH, 2),
                             "height": round(product.height_mm / MM_PER_INCH, 2)}
    customs = {}
    if product.customs_code:
        customs["hs_tariff_code"] = product.customs_code
    if product.country_of_origin:
        customs["country_code_of_origin"] = product.country_of_origin
    if customs:
        customs["description"] = product.name[:100]
        body["customs"] = customs
    body["lot_information"] = {"is_lot": bool(product.track_expiry), "minimum_shelf_life_days": product.shelf_life_days}
    if product.hazardous:
        body["fulfillment_settings"] = {"dangerous_goods": True}
    return body


def product_body(product) -> dict:
    title = product.parent.name if product.parent_id else product.name
    return {"name": title, "type_id": 1, "variants": [variant_body(product)]}


def recipient(ship_to: dict, email: str) -> dict:
    return {"name": ship_to.get("name") or ship_to.get("company") or "—", "email": email or None, "phone_number": ship_to.get("phone") or None,
            "address": {"address1": ship_to.get("line1", ""), "address2": ship_to.get("line2") or None,
                        "company_name": ship_to.get("company") or None, "city": ship_to.get("city", ""), "state": ship_to.get("state") or None,
                        "country": ship_to.get("country", ""), "zip_code": ship_to.get("postcode", "")}}


def order_body(release) -> dict:
    return {
        "reference_id": release.reference, "order_number": release.order_number, "type": "DTC", "shipping_method": release.service,
        "location_id": int(release.location_id), "purchase_date": release.placed_at.isoformat() if release.placed_at else None,
        "recipient": recipient(release.ship_to, release.email),
        "products": [{"reference_id": line["sku"], "name": line["name"], "quantity": line["quantity"],
                      "unit_price": float(line["unit_price"])} for line in release.lines],
        "tags": [{"name": "hub_order", "value": release.order_number}, {"name": "requested_service", "value": release.requested_service}],
    }


def address_update_body(ship_to: dict, email: str) -> dict:
    return {"recipient_name": ship_to.get("name"), "street_address1": ship_to.get("line1", ""), "street_address2": ship_to.get("line2") or None,
            "company_name": ship_to.get("company") or None, "city": ship_to.get("city", ""), "zip_code": ship_to.get("postcode", ""),
            "country_code": ship_to.get("country", ""), "phone_number": ship_to.get("phone") or None, "email": email or None}


def shipment_data(shipment: dict, *, order_id=None, reference: str = "") -> ShipmentData:
    tracking = shipment.get("tracking") or {}
    lines: dict[str, int] = {}
    for product in shipment.get("products") or []:
        sku = product.get("sku") or product.get("reference_id")
        units = sum(int(item.get("quantity") or 0) for item in product.get("inventory_items") or [])
        lines[sku] = lines.get(sku, 0) + units
    shipped = shipment.get("status") in SHIPPED_STATUSES and bool(tracking.get("tracking_number"))
    return ShipmentData(
        external_id=str(shipment["id"]), order_external_id=str(shipment.get("order_id") or order_id or ""),
        reference=shipment.get("reference_id") or reference, status="shipped" if shipped else str(shipment.get("status") or "").lower(),
        lines=sorted(lines.items()),
        parcels=[Parcel(tracking.get("tracking_number"), tracking.get("tracking_url") or "")] if tracking.get("tracking_number") else [],
        carrier=tracking.get("carrier") or "", service=tracking.get("carrier_service") or shipment.get("ship_option") or "",
        location_id=str((shipment.get("location") or {}).get("id") or ""),
        shipped_at=stamp(tracking.get("shipping_date") or shipment.get("actual_fulfillment_date")),
        updated_at=stamp(shipment.get("last_update_at")))


def stock_rows(items: list[dict], *, location_ids: set[str]) -> list[StockRow]:
    rows = []
    for item in items:
        for place in item.get("locations") or []:
            location = str(place.get("location_id"))
            if location in location_ids:
                rows.append(StockRow(sku=item["sku"], location_id=location, on_hand=int(place.get("on_hand_quantity") or 0),
                                     committed=int(place.get("committed_quantity") or 0),
                                     in_transit=int(place.get("awaiting_quantity") or 0) + int(place.get("internal_transfer_quantity") or 0)))
    return rows


def lot_rows(items: list[dict], *, location_ids: set[str], totals: dict[tuple[str, str], StockRow]) -> list[StockRow]:
    """Per-lot rows for lot-tracked SKUs; the SKU's committed and in-transit units ride on its first lot."""
    rows = []
    for item in items:
        first = True
        for lot in item.get("lots") or []:
            for place in lot.get("locations") or []:
                location = str(place.get("location_id"))
                if location not in location_ids:
                    continue
                total = totals.get((item["sku"], location))
                expiry = date.fromisoformat(lot["expiration_date"][:10]) if lot.get("expiration_date") else None
                rows.append(StockRow(sku=item["sku"], location_id=location, on_hand=int(place.get("on_hand_quantity") or 0),
                                     committed=total.committed if total and first else 0,
                                     in_transit=total.in_transit if total and first else 0, lot=lot.get("lot_number") or "",
                                     expiry=expiry))
                first = False
    return rows


def return_body(*, reference: str, location_id: str, inventory: list[tuple[int, int]], original_shipment: str, tracking_number: str) -> dict:
    body = {"reference_id": reference, "fulfillment_center": {"id": int(location_id)},
            "inventory": [{"id": inventory_id, "quantity": units} for inventory_id, units in inventory]}
    if original_shipment:
        body["original_shipment_id"] = int(original_shipment)
    if tracking_number:
        body["tracking_number"] = tracking_number
    return body


def return_receipt(body: dict, *, sku_by_inventory: dict[str, str]) -> ReturnReceipt:
    lines = []
    for item in body.get("inventory") or []:
        sku = sku_by_inventory.get(str(item.get("id")))
        for taken in item.get("action_taken") or []:
            outcome = RETURN_ACTIONS.get(taken.get("action"))
            units = int(taken.get("quantity_processed") or 0)
            if outcome and units:
                lines.append(ReturnLine(sku=sku or f"inventory {item.get('id')}", quantity=units, outcome=outcome,
                                        reason=taken.get("action_reason") or ""))
    return ReturnReceipt(external_id=str(body["id"]), reference=body.get("reference_id") or "", completed=body.get("status") == "Completed",
                         status=str(body.get("status") or ""), lines=lines, updated_at=stamp(body.get("completed_date")))


def history_reasons(events: list[dict], *, sku_by_inventory: dict[str, str]) -> dict[str, str]:
    """SKU → the reason of its latest adjustment (ShipBob's words), e.g. "InventoryAdjusted: Damaged in storage"."""
    reasons = {}
    for event in sorted(events, key=lambda e: e.get("inventory_audit_event_id") or 0):
        if event.get("event_category") not in ("InventoryAdjusted", "InventoryReceived", "InventoryRestocked"):
            continue
        change = event.get("increment") or event.get("decrement") or {}
        sku = change.get("sku") or sku_by_inventory.get(str(event.get("inventory_id")))
        said = next((ref.get("value") for ref in event.get("additional_reference") or [] if (ref.get("key") or "").lower() == "reason"), "")
        if sku:
            reasons[sku] = f"{event['event_category']}: {said}" if said else event["event_category"]
    return reasons
