"""Roblox's published revenue share on ad integrations, effective 2027-01-01 (as data; editable in admin).

Source: creator docs, production/promotion/ad-integrations, "Revenue share" and "Markets". Tier 3 is
Roblox's "global floor": the default for every country the other tiers do not list.
"""

from decimal import Decimal

from django.db import migrations

SOURCE = "https://create.roblox.com/docs/production/promotion/ad-integrations#revenue-share"

TIERS = [
    ("US", "United States", "1.50", ["US"], False),
    ("TIER1", "Tier 1 (UK, Canada, Australia, New Zealand, Nordics)", "0.75",
     ["AU", "NZ", "DK", "FI", "IS", "IE", "IM", "MT", "NL", "NO", "SJ", "SE", "CH", "GB", "AS", "CA", "NU"], False),
    ("TIER2", "Tier 2 (Western Europe, Japan, South Korea)", "0.20",
     ["AD", "AT", "BE", "HR", "CY", "FO", "FR", "DE", "GI", "GR", "GL", "GG", "HK", "IT", "JP", "JE", "LI", "LU",
      "MC", "PT", "SM", "KR", "ES", "TW"], False),
    ("TIER3", "Tier 3 (global floor)", "0.05", [], True),
]  # fmt: skip


def seed(apps, schema_editor):
    Schedule = apps.get_model("ads", "RevenueShareSchedule")
    Tier = apps.get_model("ads", "RevenueShareTier")
    schedule, created = Schedule.objects.get_or_create(
        effective_from="2027-01-01",
        defaults={
            "name": "Roblox ad integrations revenue share 2027",
            "intro_days": 28,
            "after_intro_cptv": Decimal("0.10"),
            "campaign_cap": Decimal("400000"),
            "source_url": SOURCE,
        },
    )
    if created:
        for code, name, cptv, countries, is_default in TIERS:
            Tier.objects.create(
                schedule=schedule, code=code, name=name, cptv=Decimal(cptv), countries=countries, is_default=is_default
            )


def unseed(apps, schema_editor):
    apps.get_model("ads", "RevenueShareSchedule").objects.filter(effective_from="2027-01-01").delete()


class Migration(migrations.Migration):
    dependencies = [("ads", "0007_roblox_compliance_and_revenue_share")]

    operations = [migrations.RunPython(seed, unseed)]
