"""Demo catalogue of a French home & garden merchant: categories, products with variants, public
lists per channel, B2B lists with quantity breaks and a derived list ("public − 12 %").

Price-list codes other apps' demos may attach (see docs/pricing.md): PUBLIC-TTC, MARKETPLACE,
B2B-HT, B2B-RESELLER (derived, −12 %), B2B-INSTALLER, CONTRACT-1 … CONTRACT-5.
"""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from catalog.models import Category, ChannelCatalog, PriceEntry, PriceList, Product, ProductImage, ProductTranslation
from hub.models import SalesChannel
from hub.registry import DemoSeeder, register_demo_seeder

CATEGORIES = [
    "Éclairage", "Éclairage > Extérieur", "Éclairage > Extérieur > Guirlandes", "Éclairage > Extérieur > Appliques",
    "Éclairage > Intérieur", "Éclairage > Intérieur > Lampes", "Éclairage > Intérieur > Ampoules",
    "Maison", "Maison > Textile", "Maison > Décoration", "Jardin", "Jardin > Mobilier", "Jardin > Arrosage",
]

# (code, French name, English name, category, brand, public price TTC, variant axis, values, extra fields)
FAMILIES = [
    ("GUI-LED", "Guirlande LED guinguette", "Festoon LED garland", "Éclairage > Extérieur > Guirlandes", "Lumina", "39.90",
     "longueur", ["5 m", "10 m", "20 m"], {"hazardous": False, "attributes": {"ip_rating": "IP44", "power_w": 6}}),
    ("GUI-SOL", "Guirlande solaire", "Solar string lights", "Éclairage > Extérieur > Guirlandes", "Lumina", "24.90",
     "couleur", ["blanc chaud", "multicolore"], {"hazardous": True, "attributes": {"battery": "Li-ion 3.7 V"}}),
    ("APP-MUR", "Applique murale extérieure", "Outdoor wall light", "Éclairage > Extérieur > Appliques", "Atelier Lumière", "59.00",
     "finition", ["noir", "anthracite", "laiton"], {"attributes": {"ip_rating": "IP54"}}),
    ("LAM-BUR", "Lampe de bureau articulée", "Articulated desk lamp", "Éclairage > Intérieur > Lampes", "Atelier Lumière", "79.00",
     "couleur", ["noir", "blanc", "vert sauge"], {}),
    ("AMP-FIL", "Ampoule filament E27", "E27 filament bulb", "Éclairage > Intérieur > Ampoules", "Lumina", "6.90",
     "puissance", ["4 W", "6 W", "8 W"], {"customs_code": "85395200"}),
    ("PLA-LIN", "Plaid en lin lavé", "Washed linen throw", "Maison > Textile", "Maison Camille", "69.00",
     "couleur", ["naturel", "terracotta", "bleu ardoise"], {"attributes": {"material": "100 % lin"}}),
    ("COU-VEL", "Housse de coussin velours", "Velvet cushion cover", "Maison > Textile", "Maison Camille", "19.90",
     "taille", ["40x40", "50x50", "30x50"], {}),
    ("BOU-CIR", "Bougie parfumée", "Scented candle", "Maison > Décoration", "Cire & Co", "22.00",
     "parfum", ["figuier", "ambre", "verveine"], {"shelf_life_days": 730, "track_expiry": True, "storage_temp_min_c": 5, "storage_temp_max_c": 25}),
    ("FAU-JAR", "Fauteuil de jardin en teck", "Teak garden armchair", "Jardin > Mobilier", "Bois Dormant", "249.00",
     "coussin", ["écru", "gris"], {"country_of_origin": "ID"}),
    ("TUY-ARR", "Tuyau d'arrosage extensible", "Expandable garden hose", "Jardin > Arrosage", "Verdure", "34.90",
     "longueur", ["15 m", "30 m"], {}),
    ("SUS-ROT", "Suspension en rotin", "Rattan pendant light", "Éclairage > Intérieur > Lampes", "Terre d'Ici", "119.00",
     "diamètre", ["30 cm", "45 cm", "60 cm"], {"country_of_origin": "VN"}),
    ("RUB-LED", "Ruban LED intérieur", "Indoor LED strip", "Éclairage > Intérieur", "Lumina", "29.90",
     "longueur", ["2 m", "5 m", "10 m"], {"attributes": {"dimmable": True}}),
    ("RID-LIN", "Rideau en lin", "Linen curtain", "Maison > Textile", "Maison Camille", "79.00",
     "hauteur", ["220 cm", "260 cm", "300 cm"], {}),
    ("PAN-OSI", "Panier en osier", "Wicker basket", "Maison > Décoration", "Terre d'Ici", "32.00",
     "taille", ["S", "M", "L"], {}),
    ("PAR-JAR", "Parasol de jardin", "Garden parasol", "Jardin > Mobilier", "Bois Dormant", "149.00",
     "couleur", ["écru", "terracotta", "olive"], {}),
    ("ENG-BIO", "Engrais bio universel", "Organic fertiliser", "Jardin", "Verdure", "12.90",
     "contenance", ["1 kg", "3 kg", "10 kg"], {"shelf_life_days": 1095, "track_expiry": True, "hazardous": True,
                                                "storage_temp_min_c": 0, "storage_temp_max_c": 30}),
]
SIMPLE = [
    ("LAN-SOL", "Lanterne solaire", "Solar lantern", "Éclairage > Extérieur", "Lumina", "29.90"),
    ("SPO-PIQ", "Spot à piquer LED", "LED spike light", "Éclairage > Extérieur", "Lumina", "18.50"),
    ("LAM-CHE", "Lampe de chevet céramique", "Ceramic bedside lamp", "Éclairage > Intérieur > Lampes", "Atelier Lumière", "49.00"),
    ("AMP-GU10", "Ampoule LED GU10", "GU10 LED bulb", "Éclairage > Intérieur > Ampoules", "Lumina", "4.90"),
    ("NAP-LIN", "Nappe en lin", "Linen tablecloth", "Maison > Textile", "Maison Camille", "89.00"),
    ("VAS-GRE", "Vase en grès", "Stoneware vase", "Maison > Décoration", "Terre d'Ici", "35.00"),
    ("MIR-ROT", "Miroir en rotin", "Rattan mirror", "Maison > Décoration", "Terre d'Ici", "65.00"),
    ("DIF-PAR", "Diffuseur de parfum", "Reed diffuser", "Maison > Décoration", "Cire & Co", "28.00"),
    ("TAB-BIS", "Table bistrot pliante", "Folding bistro table", "Jardin > Mobilier", "Bois Dormant", "129.00"),
    ("CHA-BIS", "Chaise bistrot pliante", "Folding bistro chair", "Jardin > Mobilier", "Bois Dormant", "59.00"),
    ("ARR-OSO", "Arrosoir en zinc 10 L", "10 L zinc watering can", "Jardin > Arrosage", "Verdure", "32.00"),
    ("PRO-OSC", "Programmateur d'arrosage", "Watering timer", "Jardin > Arrosage", "Verdure", "44.90"),
    ("PLA-BAM", "Plateau en bambou", "Bamboo tray", "Maison > Décoration", "Terre d'Ici", "24.00"),
    ("HOR-MUR", "Horloge murale", "Wall clock", "Maison > Décoration", "Atelier Lumière", "54.00"),
    ("BAN-JAR", "Banc de jardin", "Garden bench", "Jardin > Mobilier", "Bois Dormant", "219.00"),
    ("REC-EAU", "Récupérateur d'eau 300 L", "300 L rain barrel", "Jardin > Arrosage", "Verdure", "99.00"),
    ("LAM-TEM", "Lampe tempête", "Hurricane lamp", "Éclairage > Extérieur", "Lumina", "27.50"),
    ("PHO-CAD", "Cadre photo en chêne", "Oak photo frame", "Maison > Décoration", "Bois Dormant", "21.00"),
]

PUBLIC_CHANNELS = {"web-fr": "PUBLIC-TTC", "shop-paris": "PUBLIC-TTC", "phone": "PUBLIC-TTC",
                   "marketplace": "MARKETPLACE", "b2b-portal": "B2B-HT"}
CONTRACT_LISTS = 5
BATCH = 5000
VAT = Decimal("1.20")
CENT = Decimal("0.01")


def _gtin(number: int) -> str:
    body = f"376{number:09d}"  # 12 digits, French GS1 prefix range
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def _categories() -> dict[str, Category]:
    by_path = {c.path: c for c in Category.objects.all()}
    for path in CATEGORIES:
        if path not in by_path:
            parent_path, _, name = path.rpartition(" > ")
            by_path[path] = Category.objects.create(name=name, parent=by_path.get(parent_path), path=path)
    return by_path


def _price_lists(today) -> dict[str, PriceList]:
    specs = [
        dict(code="PUBLIC-TTC", name="Prix public TTC", prices_include_tax=True),
        dict(code="B2B-HT", name="Tarif professionnel HT"),
        dict(code="B2B-INSTALLER", name="Installateurs — remises quantité", priority=1),
        *[dict(code=f"CONTRACT-{i}", name=f"Contrat client {i}") for i in range(1, CONTRACT_LISTS + 1)],
        dict(code="SOLDES-HIVER", name="Soldes d'hiver", prices_include_tax=True, valid_from=today - timedelta(days=7),
             valid_to=today + timedelta(days=21)),
    ]
    lists = {}
    for spec in specs:
        lists[spec["code"]], _ = PriceList.objects.get_or_create(code=spec["code"], defaults=spec)
    lists["MARKETPLACE"], _ = PriceList.objects.get_or_create(code="MARKETPLACE", defaults=dict(
        name="Marketplace (public TTC + 8 %)", prices_include_tax=True, base_price_list=lists["PUBLIC-TTC"],
        base_adjustment_percent=Decimal("8")))
    lists["B2B-RESELLER"], _ = PriceList.objects.get_or_create(code="B2B-RESELLER", defaults=dict(
        name="Revendeurs (pro HT − 12 %)", base_price_list=lists["B2B-HT"], base_adjustment_percent=Decimal("-12")))
    return lists


def seed(*, scale, rng):
    today = timezone.localdate()
    categories = _categories()
    lists = _price_lists(today)
    for channel in SalesChannel.objects.filter(code__in=PUBLIC_CHANNELS):
        ChannelCatalog.objects.update_or_create(channel=channel, defaults={"public_price_list": lists[PUBLIC_CHANNELS[channel.code]]})

    existing = set(Product.objects.values_list("sku", flat=True))
    counter = Product.objects.count()
    parents, rows, sellable = [], [], []  # sellable: (sku, public price)
    for copy in range(scale):
        suffix = "" if scale == 1 else f"-{copy:04d}"
        for code, name_fr, name_en, category, brand, price, axis, values, extra in FAMILIES:
            sku = code + suffix
            if sku in existing:
                continue
            parents.append(Product(sku=sku, name=name_fr, category=categories[category], brand=brand, status=Product.Status.ACTIVE,
                                   option_axes=[axis], description=f"{name_fr}. {name_en}.", **extra))
            for index, value in enumerate(values):
                counter += 1
                variant_price = (Decimal(price) * (1 + Decimal(index) / 10)).quantize(CENT)
                rows.append((sku, Product(sku=f"{sku}-{index + 1}", name=f"{name_fr} — {value}", category=categories[category],
                                          brand=brand, status=Product.Status.ACTIVE, option_values={axis: value}, gtin=_gtin(counter),
                                          weight_g=rng.randint(80, 12000), **extra)))
                sellable.append((f"{sku}-{index + 1}", variant_price))
        for code, name_fr, name_en, category, brand, price in SIMPLE:
            sku = code + suffix
            if sku in existing:
                continue
            counter += 1
            rows.append((None, Product(sku=sku, name=name_fr, category=categories[category], brand=brand, status=Product.Status.ACTIVE,
                                       gtin=_gtin(counter), weight_g=rng.randint(80, 12000), country_of_origin="FR",
                                       length_mm=rng.randint(50, 1200), width_mm=rng.randint(50, 800), height_mm=rng.randint(20, 900),
                                       description=f"{name_fr}. {name_en}.")))
            sellable.append((sku, Decimal(price)))

    Product.objects.bulk_create(parents, batch_size=BATCH)
    parent_ids = dict(Product.objects.filter(sku__in=[p.sku for p in parents]).values_list("sku", "id")) if parents else {}
    for parent_sku, product in rows:
        product.parent_id = parent_ids.get(parent_sku)
    Product.objects.bulk_create([p for _, p in rows], batch_size=BATCH)

    names_en = {code: en for code, _, en, *_ in FAMILIES} | {code: en for code, _, en, *_ in SIMPLE}
    translations, images = [], []
    for product in parents + [p for parent, p in rows if parent is None]:
        base_code = product.sku[:-5] if scale > 1 else product.sku
        translations.append(ProductTranslation(product=product, language="en", name=names_en.get(base_code, product.name)))
        images.append(ProductImage(product=product, url=f"https://images.example.com/{product.sku.lower()}/1.jpg", position=0,
                                   alt_text=product.name))
    ProductTranslation.objects.bulk_create(translations, batch_size=BATCH)
    ProductImage.objects.bulk_create(images, batch_size=BATCH)

    ids = {}
    for start in range(0, len(sellable), BATCH):
        ids.update(Product.objects.filter(sku__in=[s for s, _ in sellable[start:start + BATCH]]).values_list("sku", "id"))
    entries = []
    for n, (sku, public_ttc) in enumerate(sellable):
        product_id = ids[sku]
        pro_ht = (public_ttc / VAT * Decimal("0.85")).quantize(CENT, ROUND_HALF_UP)
        entries.append(PriceEntry(price_list=lists["PUBLIC-TTC"], product_id=product_id, min_quantity=1, unit_price=public_ttc))
        for min_quantity, factor in ((1, "1"), (10, "0.95"), (50, "0.90")):
            entries.append(PriceEntry(price_list=lists["B2B-HT"], product_id=product_id, min_quantity=min_quantity,
                                      unit_price=(pro_ht * Decimal(factor)).quantize(CENT, ROUND_HALF_UP)))
        if n % 2 == 0:
            entries.append(PriceEntry(price_list=lists["B2B-INSTALLER"], product_id=product_id, min_quantity=20,
                                      unit_price=(pro_ht * Decimal("0.80")).quantize(CENT, ROUND_HALF_UP)))
        if n % 10 == 3:
            entries.append(PriceEntry(price_list=lists["SOLDES-HIVER"], product_id=product_id, min_quantity=1,
                                      unit_price=(public_ttc * Decimal("0.70")).quantize(CENT, ROUND_HALF_UP),
                                      valid_from=today - timedelta(days=7), valid_to=today + timedelta(days=21)))
        if n % 7 == 0:
            contract = lists[f"CONTRACT-{n % CONTRACT_LISTS + 1}"]
            entries.append(PriceEntry(price_list=contract, product_id=product_id, min_quantity=1,
                                      unit_price=(pro_ht * Decimal(rng.choice(["0.75", "0.78", "0.82"]))).quantize(CENT, ROUND_HALF_UP)))
        if len(entries) >= BATCH:
            PriceEntry.objects.bulk_create(entries, batch_size=BATCH, ignore_conflicts=True)
            entries = []
    PriceEntry.objects.bulk_create(entries, batch_size=BATCH, ignore_conflicts=True)
    total = len(parents) + len(rows)
    return f"{len(categories)} categories, {total} products ({len(sellable)} sellable), {len(lists)} price lists"


register_demo_seeder(DemoSeeder(name="catalog", seed=seed, order=10))
