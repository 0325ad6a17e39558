"""Demo customers (B2C and B2B on terms) and orders in every state, made through the services so
that stock, invoices and timelines are consistent."""

import unicodedata
from decimal import Decimal

from django.utils.translation import gettext_noop

from catalog.models import PriceList, Product
from hub.models import SalesChannel
from hub.registry import DemoSeeder, register_demo_seeder
from hub.texts import Text
from inventory.models import Reservation
from orders import services
from orders.models import ChannelOrderSettings, CompanySettings, Customer, CustomerGroup, PaymentTerms

FIRST_NAMES = ["Camille", "Léa", "Hugo", "Louis", "Chloé", "Manon", "Jules", "Inès", "Lucas", "Emma", "Nathan", "Zoé"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"]
CITIES = [("69003", "Lyon"), ("75011", "Paris"), ("13001", "Marseille"), ("33000", "Bordeaux"), ("59000", "Lille"), ("44000", "Nantes")]
B2B = [("HOTEL-LILAS", "Hôtel des Lilas", "FR40303265045", PaymentTerms.NET_30_EOM, "20000"),
       ("DECO-PRO", "Déco Pro Lyon", "FR83404833048", PaymentTerms.NET_30, "8000"),
       ("JARDIN-CO", "Jardin & Co", "FR12345678901", PaymentTerms.NET_60, "150")]


def _address(rng, name):
    postcode, city = rng.choice(CITIES)
    return {"name": name, "line1": f"{rng.randint(1, 120)} rue {rng.choice(['des Lilas', 'Victor Hugo', 'de la Paix', 'Pasteur'])}",
            "postcode": postcode, "city": city, "country": "FR"}


DEMO_COMPANY = {  # a made-up company; its SIREN has a valid check digit
    "name": "Maison & Jardin Lumière SAS", "siren": "842519373", "address": "12 rue des Tilleuls\n69003 Lyon\nFrance",
    "vat_number": "FR32842519373", "registration": "SAS au capital de 50 000 € · RCS Lyon 842 519 373",
    "invoice_note": "Paiement à 30 jours. En cas de retard : pénalités au taux de trois fois le taux d'intérêt légal et indemnité "
                    "forfaitaire pour frais de recouvrement de 40 € (art. L441-10 du Code de commerce). Pas d'escompte pour paiement anticipé.",
}


def seed(*, scale, rng):
    CompanySettings.objects.get_or_create(defaults=DEMO_COMPANY)
    channels = {c.code: c for c in SalesChannel.objects.all()}
    web, b2b = channels.get("web-fr"), channels.get("b2b-portal")
    if web is None or b2b is None:
        return "skipped (no demo channels)"
    ChannelOrderSettings.objects.get_or_create(channel=web, defaults={"invoice_trigger": "shipment"})
    ChannelOrderSettings.objects.get_or_create(channel=b2b, defaults={"invoice_trigger": "shipment", "price_tolerance_percent": Decimal("2")})
    group, _ = CustomerGroup.objects.get_or_create(code="PROS", defaults={"name": "Professionnels"})
    b2b_list = PriceList.objects.filter(code="B2B-HT").first()
    if b2b_list:
        group.price_lists.add(b2b_list)
    for code, name, vat, terms, limit in B2B:
        customer, _ = Customer.objects.get_or_create(code=code, defaults={
            "name": name, "company": name, "vat_number": vat, "type": Customer.Type.B2B, "group": group,
            "payment_terms": terms, "credit_limit": Decimal(limit), "email": f"achats@{code.lower()}.example"})
        customer.channels.add(b2b)
    products = list(Product.objects.filter(status=Product.Status.ACTIVE, parent__isnull=False, track_expiry=False).order_by("sku")[:40])
    if not products:
        return "skipped (no products)"
    orders = []
    count = 24 * scale
    for n in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        chosen = rng.sample(products, k=rng.randint(1, 3))
        lines = [{"sku": p.sku, "name": p.name, "quantity": rng.randint(1, 3), "unit_price": f"{rng.randint(5, 80)}.90", "tax_rate": "0.2000"}
                 for p in chosen]
        total = sum(Decimal(l["unit_price"]) * l["quantity"] for l in lines) + Decimal("4.90")
        payment = rng.choice(["paid", "paid", "paid", "authorised", "pending"])
        email = unicodedata.normalize("NFKD", f"{first}.{last}{n}@example.com".lower()).encode("ascii", "ignore").decode()
        data = {"external_id": f"WEB-{10000 + n}", "currency": "EUR",
                "customer": {"external_id": f"cust-{n % 18}", "email": email, "name": f"{first} {last}"},
                "shipping_address": _address(rng, f"{first} {last}"), "billing_address": _address(rng, f"{first} {last}"),
                "lines": lines, "shipping_lines": [{"title": "Colissimo", "price": "4.90", "tax_amount": "0.82"}], "total": str(total), "payment_status": payment}
        if n % 11 == 5:
            data["total"] = str(total + Decimal("1.00"))  # a storefront rounding bug: held for a person to check
        order, _ = services.order_import(channel=web, data=data, actor_label="demo:web-fr")
        orders.append(order)
    for n, (code, *_rest) in enumerate(B2B):
        lines = [{"sku": p.sku, "quantity": rng.randint(5, 20), "unit_price": "12.50"} for p in rng.sample(products, k=2)]
        total = sum(Decimal(l["unit_price"]) * l["quantity"] for l in lines)
        order, _ = services.order_import(channel=b2b, data={"external_id": f"B2B-{500 + n}", "currency": "EUR", "customer": {"code": code},
                                                          "lines": lines, "prices_include_tax": False, "total": str(total)},
                                         actor_label="demo:b2b-portal")
        orders.append(order)
    # Move allocated orders along: some shipped in full, some partially, some completed, one cancelled.
    allocated = [o for o in orders if o.status == "allocated"]
    for i, order in enumerate(allocated):
        step = i % 5
        if step == 0:
            services.order_cancel(order=order, reason=Text(gettext_noop("customer changed their mind")), actor_label="demo")
            continue
        if step == 1:
            continue  # stays allocated, waiting for the warehouse
        reserved = list(Reservation.objects.filter(document=order.number).select_related("warehouse"))
        if not reserved:
            continue
        warehouse = reserved[0].warehouse
        lines = [(order.lines.get(pk=int(r.line_ref)), r.quantity if step != 2 else 1) for r in reserved if r.warehouse_id == warehouse.pk][:1 if step == 2 else None]
        services.shipment_create(order=order, warehouse=warehouse, lines=lines, carrier="Colissimo", service="Domicile",
                                 tracking_numbers=[f"6A{rng.randint(10**9, 10**10 - 1)}"], actor_label="demo:3pl")
        order.refresh_from_db()
        if step == 4 and order.status == "shipped":
            if order.payment_status != "paid":
                services.payment_record(order=order, amount=order.total, method="card", reference="demo")
            services.order_complete(order=order, actor_label="demo")
    statuses = sorted({o.status for o in orders} | {o.status for o in type(orders[0]).objects.all()})
    return f"{Customer.objects.count()} customers, {len(orders)} orders ({', '.join(statuses)})"


register_demo_seeder(DemoSeeder(name="orders", seed=seed, order=30))
