"""Issue 20: read-only money in admin reads like the site (``$4.00``; sub-cent CPMs keep their digits)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from ads.models import LedgerEntry, LedgerKind
from ads.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_a_read_only_amount_on_a_change_page_reads_like_the_site(admin_client):
    campaign = CampaignFactory(total_budget=Decimal("100"), spent=Decimal("4"))
    page = admin_client.get(f"/admin/ads/campaign/{campaign.pk}/change/").content.decode()
    assert "$4.00" in page
    assert "4.000000" not in page and "100.000000" not in page


def test_a_view_only_ledger_entry_reads_like_the_site(admin_client):
    campaign = CampaignFactory(total_budget=Decimal("100"))
    entry = LedgerEntry.objects.create(campaign=campaign, kind=LedgerKind.values[0], amount=Decimal("1234.5"))
    page = admin_client.get(f"/admin/ads/ledgerentry/{entry.pk}/change/").content.decode()
    values = re.findall(r'<div class="readonly">(.*?)</div>', page, re.S)
    assert "$1,234.50" in values
    assert not [v for v in values if "500000" in v]


def test_the_mixin_still_offers_only_real_attributes():
    from django.contrib import admin

    from ads.models import Campaign

    model_admin = admin.site._registry[Campaign]
    assert model_admin.spent_money.short_description == "Spent"
    with pytest.raises(AttributeError):
        _ = model_admin.nothing_money
