"""Server-rendered SVG charts.

Charts are images to assistive technology (``role="img"`` named by their title and
description); the page puts the same figures in a table beside each chart. Colours and
outlines come from classes in app.css, because the content security policy forbids inline
styles.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

from lap_market.money import format_gbp
from lap_market.reports.schemas import IncomeReport, SavingsReport

# Stacked: each group's label on its own line above its bars, so the chart is narrow (400
# units) and its 16-unit text still reads at about 14 px on a 390 px phone, where a
# 720-unit chart with a label column shrank its text to 6 px.
WIDTH = 400
LABEL_HEIGHT = 22  # the group's label line above its bars
VALUE_WIDTH = 120  # right margin for the value printed after each bar
BAR_HEIGHT = 16
BAR_GAP = 4
GROUP_GAP = 14
LEGEND_HEIGHT = 34
MAX_LABEL_CHARS = 44
CHAR_WIDTH = 9  # of 16-unit Arial, to space the legend


@dataclass(frozen=True)
class Series:
    """One kind of bar: its legend label and its CSS class (colour and outline)."""

    label: str
    css_class: str


@dataclass(frozen=True)
class BarGroup:
    """One row of the chart: a label and one value per series."""

    label: str
    values: Sequence[Decimal]


def _num(value: Decimal | float | int) -> str:
    text = f"{Decimal(value).quantize(Decimal('0.1')):f}"
    return text[:-2] if text.endswith(".0") else text


def _short(label: str) -> str:
    if len(label) <= MAX_LABEL_CHARS:
        return label
    return label[: MAX_LABEL_CHARS - 1].rstrip() + "…"


def horizontal_bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    series: Sequence[Series],
    groups: Sequence[BarGroup],
    format_value: Callable[[Decimal], str] = format_gbp,
) -> Markup:
    """A horizontal grouped bar chart: one group of bars per ``groups`` entry, one bar per
    series, all on one scale from zero. Values must not be negative."""
    _check_groups(series, groups)
    plot_width = Decimal(WIDTH - VALUE_WIDTH)
    largest = max((v for g in groups for v in g.values), default=Decimal(0))
    scale = plot_width / largest if largest > 0 else Decimal(0)
    group_height = len(series) * BAR_HEIGHT + (len(series) - 1) * BAR_GAP
    height = LEGEND_HEIGHT + len(groups) * (LABEL_HEIGHT + group_height + GROUP_GAP) + 4

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lap-chart lap-chart--stacked"'
        f' id="{escape(chart_id)}"'
        f' viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img"'
        f' aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" focusable="false">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]
    parts.extend(_legend(series))
    y = LEGEND_HEIGHT
    for group in groups:
        parts.append(
            f'<text class="lap-chart__label" x="0" y="{y + LABEL_HEIGHT - 6}">'
            f"{escape(_short(group.label))}</text>"
        )
        bar_y = y + LABEL_HEIGHT
        for item, value in zip(series, group.values, strict=True):
            width = value * scale
            if 0 < width < 1:
                width = Decimal(1)  # keep a tiny value visible
            parts.append(
                f'<rect class="lap-chart__bar {escape(item.css_class)}" x="0"'
                f' y="{bar_y}" width="{_num(width)}" height="{BAR_HEIGHT}"/>'
                f'<text class="lap-chart__value" x="{_num(width + 6)}"'
                f' y="{bar_y + BAR_HEIGHT - 2}">{escape(format_value(value))}</text>'
            )
            bar_y += BAR_HEIGHT + BAR_GAP
        y += LABEL_HEIGHT + group_height + GROUP_GAP
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text above is escaped


def _check_groups(series: Sequence[Series], groups: Sequence[BarGroup]) -> None:
    for group in groups:
        if len(group.values) != len(series):
            raise ValueError(f"group {group.label!r} needs one value per series")
        if any(v < 0 for v in group.values):
            raise ValueError(f"group {group.label!r} has a negative value")


def _legend(series: Sequence[Series]) -> list[str]:
    """A swatch and a name per series, left to right."""
    parts, x = [], 0
    for item in series:
        parts.append(
            f'<rect class="lap-chart__bar {escape(item.css_class)}" x="{x}" y="6"'
            f' width="14" height="14"/>'
            f'<text class="lap-chart__legend" x="{x + 20}" y="19">'
            f"{escape(item.label)}</text>"
        )
        x += 34 + CHAR_WIDTH * len(item.label)
    return parts


CONTRACTED = Series("Contracted value", "lap-chart__bar--contracted")
STANDALONE = Series("Standalone value", "lap-chart__bar--standalone")
def savings_chart(report: SavingsReport) -> Markup:
    """Contracted against standalone value per group; contracted only in a provider's view."""
    noun = report.group_by.value  # borough, category or provider
    if report.savings_visible:
        series = [CONTRACTED, STANDALONE]
        groups = [
            BarGroup(row.name, (row.contracted_value, row.standalone_value or Decimal(0)))
            for row in report.rows
        ]
        title = f"Contracted and standalone value by {noun}"
        description = (
            f"Horizontal bar chart: for each {noun}, the value of its contracts and what they "
            "would have cost bought alone. The table that follows gives the same figures."
        )
    else:
        series = [CONTRACTED]
        groups = [BarGroup(row.name, (row.contracted_value,)) for row in report.rows]
        title = f"Contracted value by {noun}"
        description = (
            f"Horizontal bar chart of the value of your contracts for each {noun}. "
            "The table that follows gives the same figures."
        )
    return horizontal_bar_chart(
        chart_id=f"savings-chart-{noun}", title=title, description=description,
        series=series, groups=groups,
    )


INCOME = Series("Income from other members", "lap-chart__bar--contracted")
SPEND = Series("Spend", "lap-chart__bar--standalone")


def income_chart(report: IncomeReport) -> Markup:
    """Income against spend per borough."""
    return horizontal_bar_chart(
        chart_id="income-chart", title="Income and spend by borough",
        description=(
            "Horizontal bar chart: for each borough, its income from selling to other members "
            "and its spend. The table that follows gives the same figures and the net position."
        ),
        series=[INCOME, SPEND],
        groups=[BarGroup(row.name, (row.income, row.spend)) for row in report.rows],
    )
