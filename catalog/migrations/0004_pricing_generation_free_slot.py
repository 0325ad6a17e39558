"""Was: the pricing generation counter bumped on a free row, once per transaction.
Superseded by orders 0010 (pricing_change), which drops what this created on databases that ran
it; a new database has nothing to do here."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0003_pricing_generation"),
    ]

    operations = []
