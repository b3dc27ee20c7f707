"""How the reports show figures: money and rates as text, and the figures as the API, CSV and live panel spell them.

Pages read the ``*_text`` properties (``FiguresText``, which ``ads.reporting.Figures`` carries); the API, the CSV
and the live panel take :func:`advertiser_figures` / :func:`owner_figures`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ads.charts import money


class FiguresText:
    """The figures as the pages show them: "$0.0125", "1.2%", "—" for a rate without a denominator.

    ``ads.reporting.Figures`` carries it; this module names only what it reads of the figures (below), so it
    needs nothing from the queries' module."""

    if TYPE_CHECKING:  # what the figures class provides
        decisions: int
        fills_paid: int
        fills_house: int
        impressions: int
        viewable_impressions: int
        clicks: int
        interactions: int
        conversions: int
        invalid_events: int
        spend: Decimal

        @property
        def revenue(self) -> Decimal: ...
        @property
        def ecpm(self) -> Decimal | None: ...
        @property
        def ctr(self) -> float | None: ...
        @property
        def viewable_rate(self) -> float | None: ...
        @property
        def fill_rate(self) -> float | None: ...
        @property
        def house_fill_rate(self) -> float | None: ...
        @property
        def invalid_rate(self) -> float | None: ...

    @property
    def spend_text(self) -> str:
        return _money_text(self.spend)

    @property
    def revenue_text(self) -> str:
        return _money_text(self.revenue)

    @property
    def ecpm_text(self) -> str:
        return _money_text(self.ecpm)

    @property
    def ctr_text(self) -> str:
        return _percent_text(self.ctr, 2)

    @property
    def viewable_text(self) -> str:
        return _percent_text(self.viewable_rate)

    @property
    def fill_text(self) -> str:
        return _percent_text(self.fill_rate)

    @property
    def house_fill_text(self) -> str:
        return _percent_text(self.house_fill_rate)

    @property
    def invalid_text(self) -> str:
        return _percent_text(self.invalid_rate, 2)


def _money_text(value: Decimal | None) -> str:
    return "—" if value is None else money(value)


def _percent_text(ratio: float | None, places: int = 1) -> str:
    return "—" if ratio is None else f"{ratio * 100:.{places}f}%"


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.6f}"


def advertiser_figures(f: FiguresText) -> dict[str, Any]:
    """An advertiser's figures as the API, the CSV and the live panel spell them (money as strings)."""
    return {
        "impressions": f.impressions,
        "viewable_impressions": f.viewable_impressions,
        "viewable_rate": _rate(f.viewable_rate),
        "clicks": f.clicks,
        "ctr": _rate(f.ctr),
        "interactions": f.interactions,
        "conversions": f.conversions,
        "invalid": f.invalid_events,
        "spend": _money(f.spend),
        "ecpm": _money(f.ecpm),
    }


def owner_figures(f: FiguresText) -> dict[str, Any]:
    """An owner's figures: revenue (what advertisers spent in their containers) and fill rate."""
    return {
        "decisions": f.decisions,
        "fills_paid": f.fills_paid,
        "fills_house": f.fills_house,
        "fill_rate": _rate(f.fill_rate),
        "impressions": f.impressions,
        "viewable_impressions": f.viewable_impressions,
        "viewable_rate": _rate(f.viewable_rate),
        "clicks": f.clicks,
        "ctr": _rate(f.ctr),
        "interactions": f.interactions,
        "conversions": f.conversions,
        "invalid": f.invalid_events,
        "revenue": _money(f.revenue),
        "ecpm": _money(f.ecpm),
    }
