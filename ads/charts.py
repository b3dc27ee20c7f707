"""Server-rendered SVG charts for the report pages: no JavaScript, no library, readable on a phone.

The plot is a nested ``<svg>`` stretched to the width of the page (``preserveAspectRatio="none"``,
lines drawn with ``vector-effect="non-scaling-stroke"``), while the axis labels sit in the outer
``<svg>`` at pixel heights and percentage positions, so the text keeps its size whatever the
screen's width (the y labels sit on their grid lines, inside the plot, to leave it the width).
Every period carries a ``<title>`` with its figures (a tooltip, and text for screen readers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

HEIGHT = 220
TOP = 18  # room for the top grid line's label
BOTTOM = 28  # room for the x labels
LEFT_PCT = 0.5
RIGHT_PCT = 0.5
MAX_X_LABELS = 8
PALETTE = ("#1f6feb", "#1a7f37", "#b35900", "#8250df")
BAR_COLOUR = "#9ec1f7"

Number = int | float | Decimal


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Number]
    colour: str = ""


def compact(value: Number) -> str:
    """1234 -> 1.2k, 0.5 -> 0.5: short axis labels."""
    value = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def money(value: Number) -> str:
    """The one money format (``adplatform.core.formatting.format_money``): ``$1,234.50``."""
    from adplatform.core.formatting import format_money

    return format_money(value)


def money_axis(value: Number) -> str:
    """Axis labels: ``$1.5k`` for thousands, the one money format below."""
    if abs(float(value)) >= 1000:
        return "$" + compact(value)
    return money(value)


def percent(value: Number) -> str:
    return f"{float(value) * 100:.1f}%".replace(".0%", "%")


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k at least ``value`` (1 for nothing)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value * 0.999999:
            return candidate
    return 10 ** (exponent + 1)


def _x_pct(index: int, count: int) -> float:
    return LEFT_PCT + (100 - LEFT_PCT - RIGHT_PCT) * (index + 0.5) / count


def _label_indexes(count: int) -> list[int]:
    if count <= MAX_X_LABELS:
        return list(range(count))
    step = math.ceil(count / MAX_X_LABELS)
    return list(range(0, count, step))


def _frame(
    labels: Sequence[str], top_value: float, value_format: Callable[[Number], str], title: str
) -> tuple[list[str], list[str]]:
    """The outer svg with its grid and x labels, and the y labels (drawn last, over the plot)."""
    plot_h = HEIGHT - TOP - BOTTOM
    parts: list[str] = [
        format_html(
            '<svg class="chart-svg" width="100%" height="{}" role="img" aria-label="{}" '
            'xmlns="http://www.w3.org/2000/svg">',
            HEIGHT,
            title,
        ),
        format_html("<title>{}</title>", title),
    ]
    y_labels: list[str] = []
    for i in range(5):  # y axis: 0, 25, 50, 75, 100 % of the top value
        fraction = i / 4
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            format_html(
                '<line class="chart-grid" x1="{}%" x2="{}%" y1="{}" y2="{}" stroke="#dde3ec" stroke-width="1"/>',
                LEFT_PCT,
                100 - RIGHT_PCT,
                f"{y:.1f}",
                f"{y:.1f}",
            )
        )
        y_labels.append(
            format_html(
                '<text class="chart-y" x="4" y="{}" font-size="11" fill="#5d6b7e" stroke="#fff" stroke-width="3" '
                'paint-order="stroke">{}</text>',
                f"{y - 4:.1f}",
                value_format(top_value * fraction),
            )
        )
    shown = _label_indexes(len(labels))
    for n, index in enumerate(shown):
        x, anchor = _x_pct(index, len(labels)), "middle"
        if x < 8:  # keep the first and last labels inside the chart
            x, anchor = LEFT_PCT, "start"
        elif x > 92:
            x, anchor = 100 - RIGHT_PCT, "end"
        parts.append(
            format_html(
                '<text class="chart-x{}" x="{}%" y="{}" text-anchor="{}" font-size="11" fill="#5d6b7e">{}</text>',
                " chart-x-alt" if n % 2 else "",
                f"{x:.2f}",
                HEIGHT - 9,
                anchor,
                labels[index],
            )
        )
    return parts, y_labels


def _plot_open() -> str:
    plot_h = HEIGHT - TOP - BOTTOM
    return format_html(
        '<svg class="chart-plot" x="{}%" y="{}" width="{}%" height="{}" viewBox="0 0 1000 1000" '
        'preserveAspectRatio="none" overflow="visible">',
        LEFT_PCT,
        TOP,
        100 - LEFT_PCT - RIGHT_PCT,
        plot_h,
    )


def _legend(items: Sequence[tuple[str, str]], note: str = "") -> str:
    entries = "".join(
        format_html('<span class="chart-key"><span class="chart-swatch" style="background:{}"></span>{}</span>', c, n)
        for n, c in items
    )
    if note:
        entries += format_html('<span class="chart-note">{}</span>', note)
    return f'<figcaption class="chart-legend">{entries}</figcaption>'


def line_chart(
    *,
    labels: Sequence[str],
    series: Sequence[Series],
    title: str,
    value_format: Callable[[Number], str] = compact,
    bars: Series | None = None,
    bars_format: Callable[[Number], str] | None = None,
) -> SafeString:
    """Lines for ``series`` over ``labels`` (one point a period), optionally over bars on their own scale.

    With ``bars`` the y axis is the bars' (in ``bars_format``) and each line is scaled to its own top:
    the lines show the shape, the tooltips the figures.
    """
    count = len(labels)
    if not count:
        return mark_safe("")
    colours = [s.colour or PALETTE[i % len(PALETTE)] for i, s in enumerate(series)]
    line_top = nice_ceiling(max((float(v) for s in series for v in s.values), default=0))
    if bars is not None:
        axis_top = nice_ceiling(max((float(v) for v in bars.values), default=0))
        parts, y_labels = _frame(labels, axis_top, bars_format or value_format, title)
    else:
        axis_top = line_top
        parts, y_labels = _frame(labels, axis_top, value_format, title)
    parts.append(_plot_open())
    width = 1000 / count
    if bars is not None:
        for i, value in enumerate(bars.values):
            height = 1000 * float(value) / axis_top
            parts.append(
                format_html(
                    '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}" fill="{}"/>',
                    f"{i * width + width * 0.15:.2f}",
                    f"{1000 - height:.2f}",
                    f"{width * 0.7:.2f}",
                    f"{height:.2f}",
                    bars.colour or BAR_COLOUR,
                )
            )
    for s, colour in zip(series, colours, strict=True):
        top = nice_ceiling(max((float(v) for v in s.values), default=0)) if bars is not None else line_top
        points = " ".join(f"{(i + 0.5) * width:.2f},{1000 - 1000 * float(v) / top:.2f}" for i, v in enumerate(s.values))
        parts.append(
            format_html(
                '<polyline class="chart-line" points="{}" fill="none" stroke="{}" stroke-width="2.5" '
                'stroke-linejoin="round" vector-effect="non-scaling-stroke"/>',
                points,
                colour,
            )
        )
        if count <= 62:  # dots where a period is (a zero-length line with round caps is a dot)
            for i, v in enumerate(s.values):
                x, y = f"{(i + 0.5) * width:.2f}", f"{1000 - 1000 * float(v) / top:.2f}"
                parts.append(
                    format_html(
                        '<line class="chart-dot" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="6" '
                        'stroke-linecap="round" vector-effect="non-scaling-stroke"/>',
                        x,
                        y,
                        x,
                        y,
                        colour,
                    )
                )
    for i, label in enumerate(labels):  # one transparent column a period, for its tooltip
        figures = [(s.name, value_format(s.values[i])) for s in series]
        if bars is not None:
            figures.insert(0, (bars.name, (bars_format or value_format)(bars.values[i])))
        tip = f"{label}: " + ", ".join(f"{name} {value}" for name, value in figures)
        parts.append(
            format_html(
                '<rect class="chart-hit" x="{}" y="0" width="{}" height="1000" fill="transparent">'
                "<title>{}</title></rect>",
                f"{i * width:.2f}",
                f"{width:.2f}",
                tip,
            )
        )
    parts.append("</svg>")
    parts.extend(y_labels)
    parts.append("</svg>")
    legend = ([(bars.name, bars.colour or BAR_COLOUR)] if bars is not None else []) + [
        (s.name, c) for s, c in zip(series, colours, strict=True)
    ]
    svg = "".join(str(p) for p in parts)
    note = ""
    if bars is not None and series:
        note = f"The axis is {bars.name.lower()}; each line is scaled to its own peak (hover a period for figures)."
    return mark_safe(f'<figure class="chart" data-chart data-periods="{count}">{svg}{_legend(legend, note)}</figure>')


def bar_chart(
    *, labels: Sequence[str], values: Sequence[Number], title: str, name: str, value_format=compact, colour=""
) -> SafeString:
    """Bars for one figure over ``labels``."""
    return line_chart(
        labels=labels,
        series=[],
        title=title,
        bars=Series(name, values, colour or PALETTE[0]),
        bars_format=value_format,
        value_format=value_format,
    )


# --------------------------------------------------------------------------- small multiples


def nice_ticks(top: float, count: int = 4, *, whole: bool = False) -> list[float]:
    """``0 .. >= top`` in a round step (1, 2, 2.5 or 5 x 10^k) with about ``count`` intervals.

    ``whole`` keeps the step a whole number (counts of impressions have no fractions)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    exponent = math.floor(math.log10(raw))
    step = 10 ** (exponent + 1)
    for factor in (1, 2, 2.5, 5, 10):
        candidate = factor * 10**exponent
        if candidate >= raw * 0.999999:
            step = candidate
            break
    if whole:
        step = max(1, math.ceil(step))
    ticks, value = [0.0], 0.0
    while value < top * 0.999999:
        value = round(value + step, 10)
        ticks.append(value)
    return ticks


@dataclass(frozen=True)
class Panel:
    """One measure of a small-multiples chart, on its own axis."""

    name: str
    values: Sequence[Number]
    value_format: Callable[[Number], str] = compact
    colour: str = ""
    kind: str = "line"  # line or bar
    whole: bool = True
    # Optional second line on the same axis (e.g. the plan under the spend), drawn dashed.
    reference: Sequence[Number] | None = None
    reference_name: str = ""


PANEL_HEIGHT = 150


def _panel(labels: Sequence[str], panel: Panel, colour: str, marker: int | None) -> str:
    count = len(labels)
    values = [float(v) for v in panel.values]
    reference = [float(v) for v in panel.reference] if panel.reference is not None else None
    peak = max(values + (reference or []) + [0.0])
    ticks = nice_ticks(peak, whole=panel.whole)
    top = ticks[-1] or 1.0
    top_px, bottom_px = 14, 24
    plot_h = PANEL_HEIGHT - top_px - bottom_px
    title = f"{panel.name} by period"
    parts: list[str] = [
        format_html(
            '<svg class="chart-svg" width="100%" height="{}" role="img" aria-label="{}" '
            'xmlns="http://www.w3.org/2000/svg">',
            PANEL_HEIGHT,
            title,
        )
    ]
    y_labels = []
    for tick in ticks:
        y = top_px + plot_h * (1 - tick / top)
        parts.append(
            format_html(
                '<line class="chart-grid" x1="{}%" x2="{}%" y1="{}" y2="{}" stroke="#dde3ec" stroke-width="1"/>',
                LEFT_PCT,
                100 - RIGHT_PCT,
                f"{y:.1f}",
                f"{y:.1f}",
            )
        )
        y_labels.append(
            format_html(
                '<text class="chart-y" x="4" y="{}" font-size="11" fill="#4a5668" stroke="#fff" stroke-width="3" '
                'paint-order="stroke">{}</text>',
                f"{y - 3:.1f}",
                panel.value_format(tick),
            )
        )
    for n, index in enumerate(_label_indexes(count)):
        x, anchor = _x_pct(index, count), "middle"
        if x < 8:
            x, anchor = LEFT_PCT, "start"
        elif x > 92:
            x, anchor = 100 - RIGHT_PCT, "end"
        parts.append(
            format_html(
                '<text class="chart-x{}" x="{}%" y="{}" text-anchor="{}" font-size="11" fill="#4a5668">{}</text>',
                " chart-x-alt" if n % 2 else "",
                f"{x:.2f}",
                PANEL_HEIGHT - 7,
                anchor,
                labels[index],
            )
        )
    parts.append(
        format_html(
            '<svg class="chart-plot" x="{}%" y="{}" width="{}%" height="{}" viewBox="0 0 1000 1000" '
            'preserveAspectRatio="none" overflow="visible">',
            LEFT_PCT,
            top_px,
            100 - LEFT_PCT - RIGHT_PCT,
            plot_h,
        )
    )
    width = 1000 / count

    def y_of(value: float) -> str:
        return f"{1000 - 1000 * value / top:.2f}"

    if panel.kind == "bar" or count == 1:
        for i, value in enumerate(values):
            parts.append(
                format_html(
                    '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}" fill="{}"/>',
                    f"{i * width + width * 0.15:.2f}",
                    y_of(value),
                    f"{width * 0.7:.2f}",
                    f"{1000 * value / top:.2f}",
                    colour,
                )
            )
    else:
        points = " ".join(f"{(i + 0.5) * width:.2f},{y_of(v)}" for i, v in enumerate(values))
        parts.append(
            format_html(
                '<polyline class="chart-line" points="{}" fill="none" stroke="{}" stroke-width="2.5" '
                'stroke-linejoin="round" vector-effect="non-scaling-stroke"/>',
                points,
                colour,
            )
        )
    if reference is not None:
        points = " ".join(f"{(i + 0.5) * width:.2f},{y_of(v)}" for i, v in enumerate(reference))
        parts.append(
            format_html(
                '<polyline class="chart-line chart-reference" points="{}" fill="none" stroke="#4a5668" '
                'stroke-width="2" stroke-dasharray="6 4" vector-effect="non-scaling-stroke"/>',
                points,
            )
        )
    if marker is not None and 0 <= marker < count:
        marker_x = f"{marker * width:.2f}"
        parts.append(
            format_html(
                '<line class="chart-rollup" x1="{}" x2="{}" y1="0" y2="1000" stroke="#b35900" stroke-width="2" '
                'stroke-dasharray="4 4" vector-effect="non-scaling-stroke"/>',
                marker_x,
                marker_x,
            )
        )
    for i, label in enumerate(labels):
        tip = f"{label}: {panel.name} {panel.value_format(values[i])}"
        if reference is not None:
            tip += f", {panel.reference_name} {panel.value_format(reference[i])}"
        parts.append(
            format_html(
                '<rect class="chart-hit" x="{}" y="0" width="{}" height="1000" fill="transparent">'
                "<title>{}</title></rect>",
                f"{i * width:.2f}",
                f"{width:.2f}",
                tip,
            )
        )
    parts.append("</svg>")
    parts.extend(y_labels)
    parts.append("</svg>")
    heading = format_html(
        '<h3 class="chart-panel-title"><span class="chart-swatch" style="background:{}"></span>{}', colour, panel.name
    )
    if reference is not None:
        heading += format_html(' <span class="chart-key chart-key-reference">(dashed) {}</span>', panel.reference_name)
    return f'<div class="chart-panel">{heading}</h3>{"".join(str(p) for p in parts)}</div>'


def small_multiples(
    *, labels: Sequence[str], panels: Sequence[Panel], title: str, note: str = "", marker: int | None = None
) -> SafeString:
    """One small chart per measure, each on its own axis with round ticks, over the same periods.

    ``marker`` draws the "live since last roll-up" line before that period (figures right of it are
    still being rolled up). Every period has a tooltip with its figure."""
    if not labels or not panels:
        return mark_safe("")
    body = "".join(
        _panel(labels, panel, panel.colour or PALETTE[i % len(PALETTE)], marker) for i, panel in enumerate(panels)
    )
    caption = (
        format_html('<figcaption class="chart-legend"><span class="chart-note">{}</span></figcaption>', note)
        if note
        else ""
    )
    return mark_safe(
        format_html(
            '<figure class="chart" data-multiples data-chart data-periods="{}" aria-label="{}">', len(labels), title
        )
        + body
        + caption
        + "</figure>"
    )
