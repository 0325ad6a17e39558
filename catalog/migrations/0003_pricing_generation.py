"""Was: the pricing generation counter and its triggers on catalog tables.
Superseded by orders 0010 (pricing_change), which drops what this created on databases that ran
it; a new database has nothing to do here."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0002_product_details_derived_lists_history"),
    ]

    operations = []
