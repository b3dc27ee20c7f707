from django.apps import AppConfig


class AdsConfig(AppConfig):
    name = "ads"
    verbose_name = "Ads"

    def ready(self) -> None:
        from ads import (
            admin_reporting,  # noqa: F401  (registers the AdPerformance admin)
            tasks,  # noqa: F401  (registered for the names ads.compliance queues by)
        )
        from ads.budget import budget_spent_out

        budget_spent_out.connect(_notify_spent_out, dispatch_uid="ads-notify-budget-spent")

        from ads import reporting
        from games import delivery

        delivery.register(figures=reporting.delivery_by, empty=reporting.Figures)


def _notify_spent_out(sender, campaign_id: int, **kwargs) -> None:
    from ads.models import Campaign
    from ads.services import campaign_notify_budget_exhausted

    campaign = Campaign.objects.select_related("advertiser__user").filter(pk=campaign_id).first()
    if campaign is not None:
        campaign_notify_budget_exhausted(campaign=campaign)
