"""Issue 20, the console: delivery on the campaign list, forms that say everything at once, the reach
forecast, go-live on approval and the notifications it sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from adplatform.accounts.models import Notification
from ads import services
from ads.models import AdPerformance, CampaignStatus, LedgerEntry, LedgerKind, ModerationStatus
from ads.reporting import floor_hour
from ads.tests.factories import AdvertiserFactory, CampaignFactory, CreativeFactory
from games.tests.factories import AdContainerFactory, GameFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def asset_sync_delay():
    with mock.patch("games.tasks.asset_sync.delay") as delay:
        yield delay


@pytest.fixture
def profile(advertiser):
    return AdvertiserFactory(user=advertiser, company="Fizz Co", category="food")


@pytest.fixture
def adv_client(client, advertiser, profile):
    client.force_login(advertiser)
    return client


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _perf(campaign=None, *, hours_ago=1, **values):
    defaults = {"impressions": 0, "viewable_impressions": 0, "clicks": 0, "decisions": 0, "spend": Decimal("0")}
    return _row(
        hour=floor_hour(timezone.now()) - timedelta(hours=hours_ago), campaign=campaign, **{**defaults, **values}
    )


def _row(**values):
    return AdPerformance.objects.create(updated_at=timezone.now(), **values)


# --------------------------------------------------------------------------- delivery columns


def test_campaign_list_shows_delivery_pace_and_a_report_link(adv_client, profile):
    # given: a campaign half-way through its schedule that spent a quarter of its budget
    now = timezone.now()
    campaign = CampaignFactory(advertiser=profile, name="Half way", total_budget=Decimal("200"), spent=Decimal("50"),
                               status=CampaignStatus.ACTIVE,
                               start_at=now - timedelta(days=5), end_at=now + timedelta(days=5))  # fmt: skip
    _perf(campaign, impressions=2000, viewable_impressions=1500, clicks=30, spend=Decimal("50"))

    html = adv_client.get(reverse("ads:campaign-list")).content.decode()

    assert ">2,000<" in html  # impressions
    assert ">75.0%<" in html  # viewable
    assert ">1.50%<" in html  # CTR
    assert ">$50.00<" in html  # spend
    assert "Behind (50% of plan)" in html
    assert reverse("reports:campaign", args=[campaign.pk]) in html


def test_campaign_list_delivery_costs_the_same_queries_for_many_rows(adv_client, profile):
    campaign = CampaignFactory(advertiser=profile)
    _perf(campaign, impressions=10)
    url = reverse("ads:campaign-list")
    few = _queries(adv_client, url)
    for _ in range(6):
        _perf(CampaignFactory(advertiser=profile), impressions=5, clicks=1)

    assert _queries(adv_client, url) == few


def test_game_page_shows_delivery_per_container_without_a_query_per_row(client, owner):
    game = GameFactory(owner=owner)
    container = AdContainerFactory(game=game, name="Lobby board")
    _row(hour=floor_hour(timezone.now()) - timedelta(hours=1), game=game, container=container,
                                 impressions=400, viewable_impressions=300, clicks=8, spend=Decimal("1.2"))  # fmt: skip
    client.force_login(owner)
    url = reverse("games:detail", args=[game.slug])

    html = client.get(url).content.decode()
    assert ">400<" in html and ">75.0%<" in html and ">$1.20<" in html
    assert reverse("reports:game", args=[game.pk]) in html

    few = _queries(client, url)
    for n in range(5):
        other = AdContainerFactory(game=game, name=f"Board {n}")
        _row(hour=floor_hour(timezone.now()), game=game, container=other, impressions=3)
    assert _queries(client, url) == few


def test_every_role_has_reports_in_the_navigation(client, owner, advertiser, staff_user):
    for user in (owner, advertiser, staff_user):
        client.force_login(user)
        html = client.get(reverse("home")).content.decode()
        assert f'href="{reverse("reports:home")}"' in html, user.role


# --------------------------------------------------------------------------- forms say everything at once


def _form(**overrides):
    now = timezone.now()
    data = {"name": "Launch", "pricing": "CPM", "max_bid": "4.50", "total_budget": "250", "daily_budget": "50",
            "start_at": now.strftime("%Y-%m-%dT%H:%M"), "end_at": (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
            "pacing": "EVEN", "frequency_cap_unit": "86400"}  # fmt: skip
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_five_bad_fields_are_all_reported_in_one_submit(adv_client):
    # given: form-level errors (a word for a bid) and service-level ones (a cap period too short, an end
    # before the start, a daily budget above the total, a game both included and excluded)
    data = _form(max_bid="lots", daily_budget="900", total_budget="100",
                 end_at=(timezone.now() - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
                 frequency_cap_count="3", frequency_cap_period="10", frequency_cap_unit="1",
                 games_included="5", games_excluded="5")  # fmt: skip

    response = adv_client.post(reverse("ads:campaign-create"), data)

    errors = response.context["form"].errors
    assert set(errors) >= {"max_bid", "daily_budget", "end_at", "frequency_cap_period", "games_excluded"}
    html = response.content.decode()
    assert "data-error-summary" in html and "There are 5 problems" in html
    assert 'href="#id_max_bid"' in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="id_max_bid_help id_max_bid_error"' in html
    assert 'min="0.000001"' in html and 'step="any"' in html


def test_a_valid_form_still_creates_the_campaign(adv_client, profile):
    response = adv_client.post(reverse("ads:campaign-create"), _form())
    assert response.status_code == 302
    assert profile.campaigns.get().name == "Launch"


def test_game_picker_lists_games_by_name_and_posts_their_ids(adv_client, profile):
    fizz = GameFactory(name="Fizz Tycoon", icon_url="https://tr.rbxcdn.com/icon/150/150/Image/Png")
    GameFactory(name="Obby Run")

    html = adv_client.get(reverse("ads:campaign-create")).content.decode()
    assert "Fizz Tycoon" in html and "Obby Run" in html and "https://tr.rbxcdn.com/icon/150/150/Image/Png" in html
    assert f'name="games_included" value="{fizz.pk}"' in html
    assert "Platform game ids" not in html

    adv_client.post(reverse("ads:campaign-create"), {**_form(), "games_included": [str(fizz.pk)]})
    assert profile.campaigns.get().targeting["games_included"] == [fizz.pk]


# --------------------------------------------------------------------------- reach forecast


def test_reach_forecast_counts_the_last_seven_days_of_matching_decisions(adv_client):
    game = GameFactory()
    board = AdContainerFactory(game=game, type="DISPLAY")
    npc = AdContainerFactory(game=game, type="NPC")
    hour = floor_hour(timezone.now()) - timedelta(hours=2)
    for container, country, device, decisions in ((board, "FR", "mobile", 700), (board, "DE", "desktop", 140),
                                                  (npc, "FR", "mobile", 70)):  # fmt: skip
        _row(hour=hour, game=game, container=container, country=country, device=device,
                                     decisions=decisions, impressions=decisions // 2)  # fmt: skip
    # older than 7 days: not counted
    _row(hour=hour - timedelta(days=8), game=game, container=board, country="FR",
                                 decisions=7000)  # fmt: skip
    url = reverse("ads:reach-forecast")

    everyone = adv_client.get(url).json()
    france_boards = adv_client.get(url, {"countries_included": "FR", "container_types": "DISPLAY"}).json()
    bad = adv_client.get(url, {"countries_included": "XX"})

    assert everyone["daily_requests"] == round(910 / 7)
    assert france_boards == {"days": 7, "daily_requests": 100, "daily_impressions": 50, "segments_ignored": False}
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"


def test_the_targeting_form_shows_the_forecast(adv_client):
    _row(hour=floor_hour(timezone.now()) - timedelta(hours=3), decisions=1400, impressions=700)
    html = adv_client.get(reverse("ads:campaign-create")).content.decode()
    assert 'id="reach-forecast"' in html and "<strong data-forecast-impressions>200</strong>" in html


# --------------------------------------------------------------------------- go-live and notifications


def test_a_submitted_campaign_goes_live_when_its_creative_is_approved(adv_client, profile, staff_user):
    # given: a draft whose only creative waits for review
    campaign = CampaignFactory(advertiser=profile, name="Autumn")
    creative = CreativeFactory(campaign=campaign, moderation_status=ModerationStatus.PENDING)
    response = adv_client.post(reverse("ads:campaign-submit", args=[campaign.pk]))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT and campaign.go_live_requested_at is not None

    # when: staff approve the creative
    with mock.patch("ads.services.campaign_activate", wraps=services.campaign_activate) as activate:
        services.creative_moderate(creative=creative, status=ModerationStatus.APPROVED, by=staff_user)

    # then: it went live through the activation service, and the advertiser heard of both
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE and campaign.go_live_requested_at is None
    assert activate.call_count == 1
    kinds = list(Notification.objects.filter(user=profile.user).values_list("kind", flat=True))
    assert sorted(kinds) == ["APPROVED", "LIVE"]


def test_approval_emails_the_advertiser_after_commit(profile, staff_user, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(advertiser=profile)
    creative = CreativeFactory(campaign=campaign, moderation_status=ModerationStatus.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        services.creative_moderate(creative=creative, status=ModerationStatus.REJECTED, reason="Blurry", by=staff_user)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [profile.user.email] and "rejected" in mail.outbox[0].subject
    assert "Blurry" in mail.outbox[0].body
    assert Notification.objects.get(user=profile.user).emailed_at is not None


def test_a_campaign_that_waits_for_the_advertiser_goes_live_on_account_approval(profile, staff_user):
    profile.approval = "PENDING"
    profile.save()
    campaign = CampaignFactory(advertiser=profile)
    CreativeFactory(campaign=campaign)
    services.campaign_submit_for_review(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT

    services.advertiser_approve(advertiser=profile, by=staff_user)

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE


def test_budget_exhausted_notifies_once_a_day(profile):
    campaign = CampaignFactory(advertiser=profile, total_budget=Decimal("10"), spent=Decimal("10"))
    services.campaign_notify_budget_exhausted(campaign=campaign)
    services.campaign_notify_budget_exhausted(campaign=campaign)
    assert Notification.objects.filter(user=profile.user, kind="BUDGET_EXHAUSTED").count() == 1


def test_owner_hears_when_staff_switch_a_container_off(owner, staff_user):
    from games.services import container_set_status

    container = AdContainerFactory(game=GameFactory(owner=owner), name="Lobby board", status="ACTIVE")
    container_set_status(container=container, status="MAINTENANCE", reason="Broken texture", by=staff_user)
    container_set_status(container=container, status="ACTIVE", by=owner)
    container_set_status(container=container, status="INACTIVE", by=owner)  # the owner's own switch: no notice

    notice = Notification.objects.get(user=owner)
    assert notice.kind == "CONTAINER_OFF" and "Lobby board" in notice.title and "Broken texture" in notice.body


def test_notifications_page_lists_and_marks_read_and_nav_counts_unread(client, advertiser):
    from adplatform.accounts.services import notification_send

    notification_send(user=advertiser, kind="APPROVED", title="Creative “Billboard” approved", email=False)
    client.force_login(advertiser)
    assert '<span class="count-badge">1' in client.get(reverse("home")).content.decode()

    html = client.get(reverse("accounts:notifications")).content.decode()

    assert "Creative “Billboard” approved" in html and "UTC" in html
    assert Notification.objects.get().read_at is not None
    assert '<span class="count-badge">' not in client.get(reverse("home")).content.decode()


def test_staff_see_the_pending_review_count_in_the_nav_and_admin(client, staff_user, profile):
    CreativeFactory(campaign=CampaignFactory(advertiser=profile), moderation_status=ModerationStatus.PENDING)
    AdvertiserFactory(approval="PENDING")
    client.force_login(staff_user)

    nav = client.get(reverse("home")).content.decode()
    admin = client.get(reverse("admin:index")).content.decode()

    assert 'title="Waiting for review">2' in nav
    assert 'id="pending-review"' in admin and "1 creative" in admin and "1 advertiser" in admin


# --------------------------------------------------------------------------- numbers people trust


@pytest.mark.parametrize(
    ("value", "rate", "text"),
    [
        (Decimal("0.2158"), False, "$0.22"),
        (Decimal("0.806"), False, "$0.81"),
        (Decimal("100.000000"), False, "$100.00"),
        (Decimal("1234.5"), False, "$1,234.50"),
        (Decimal("0.0042"), False, "<$0.01"),
        (Decimal("0.0042"), True, "$0.0042"),
        (Decimal("4.000000"), True, "$4.00"),
        (Decimal("0"), False, "$0.00"),
        (None, False, "—"),
    ],
)
def test_one_money_format(value, rate, text):
    from adplatform.core.formatting import format_money

    assert format_money(value, rate=rate) == text


def test_times_carry_their_zone_and_follow_the_person(client, advertiser, profile):
    from adplatform.accounts.services import user_update_profile

    campaign = CampaignFactory(advertiser=profile, start_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    client.force_login(advertiser)
    url = reverse("ads:campaign-detail", args=[campaign.pk])
    assert "2026-07-01 12:00 UTC" in client.get(url).content.decode()

    user_update_profile(user=advertiser, data={"time_zone": "Europe/Paris"})

    assert "2026-07-01 14:00 CEST" in client.get(url).content.decode()
    assert "Start (Europe/Paris)" in client.get(reverse("ads:campaign-edit", args=[campaign.pk])).content.decode()


def test_an_unknown_time_zone_is_refused(advertiser):
    from django.core.exceptions import ValidationError

    from adplatform.accounts.services import user_update_profile

    with pytest.raises(ValidationError) as caught:
        user_update_profile(user=advertiser, data={"time_zone": "Mars/Olympus"})
    assert "time_zone" in caught.value.message_dict
    advertiser.refresh_from_db()
    assert advertiser.time_zone == "UTC"


def test_report_breakdown_names_countries_and_links_invalid_traffic(adv_client, profile):
    campaign = CampaignFactory(advertiser=profile)
    _row(hour=floor_hour(timezone.now()) - timedelta(hours=1), campaign=campaign, country="DE", impressions=50,
         spend=Decimal("0.1"), invalid_events=2)  # fmt: skip

    html = adv_client.get(reverse("reports:campaign", args=[campaign.pk])).content.decode()

    assert ">Germany<" in html
    assert reverse("reports:campaign-invalid", args=[campaign.pk]) in html


def test_csv_says_its_first_row_is_a_header(adv_client, profile):
    campaign = CampaignFactory(advertiser=profile)
    response = adv_client.get(reverse("reports:campaign-csv", args=[campaign.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8; header=present"
    assert response.content.decode().splitlines()[0].startswith("period,impressions")


def test_invalid_traffic_drill_down_says_why(adv_client, profile):
    import uuid

    from ads.models import AdEngagement

    campaign = CampaignFactory(advertiser=profile)
    other = CampaignFactory()
    now = timezone.now()
    for campaign_, reason in ((campaign, "click_too_fast"), (campaign, "click_too_fast"),
                              (campaign, "duplicate_impression"), (other, "rate_player")):  # fmt: skip
        AdEngagement.objects.create(event_id=uuid.uuid4(), type="click", decision_id=uuid.uuid4(), game_id=1,
                                    campaign_id=campaign_.pk, player_id=77, occurred_at=now, received_at=now,
                                    invalid_reason=reason)  # fmt: skip

    response = adv_client.get(reverse("reports:campaign-invalid", args=[campaign.pk]))

    assert [(r["code"], r["count"]) for r in response.context["reasons"]] == [
        ("click_too_fast", 2), ("duplicate_impression", 1)
    ]  # fmt: skip
    html = response.content.decode()
    assert "A click faster than a person can react" in html and "rate_player" not in html
    assert adv_client.get(reverse("reports:campaign-invalid", args=[other.pk])).status_code == 404


def test_spend_vs_plan_chart_for_even_pacing(adv_client, profile):
    now = timezone.now().astimezone(UTC)
    campaign = CampaignFactory(advertiser=profile, pacing="EVEN", status=CampaignStatus.ACTIVE,
                               daily_budget=Decimal("24"), total_budget=Decimal("1000"))  # fmt: skip
    # 3.00 confirmed in the first hour of the day (the ledger: what the day's budget counts)
    entry = LedgerEntry.objects.create(campaign=campaign, kind=LedgerKind.IMPRESSION_CHARGE, amount=Decimal("3"),
                                       spend_day=now.date())  # fmt: skip
    LedgerEntry.objects.filter(pk=entry.pk).update(created_at=now.replace(hour=0, minute=30, second=0, microsecond=0))

    html = adv_client.get(reverse("reports:campaign", args=[campaign.pk])).content.decode()

    assert 'aria-label="Spend against the even-pacing plan, today (UTC)"' in html
    assert "00:00: Spent today $3.00, Plan (even pacing) $1.00" in html


def test_forms_show_amounts_as_people_type_them(client, owner):
    container = AdContainerFactory(game=GameFactory(owner=owner), floor_price_cpm=Decimal("0.500000"))
    client.force_login(owner)
    html = client.get(reverse("games:container-edit", args=[container.game.slug, container.pk])).content.decode()
    assert 'value="0.5"' in html and "0.500000" not in html


def test_a_person_picks_their_time_zone_on_the_account_page(client, advertiser):
    client.force_login(advertiser)
    response = client.post(
        reverse("accounts:account"),
        {"save_profile": "1", "first_name": "", "last_name": "", "email": advertiser.email, "company": "",
         "time_zone": "America/New_York"},
    )  # fmt: skip
    assert response.status_code == 302
    advertiser.refresh_from_db()
    assert advertiser.time_zone == "America/New_York"
